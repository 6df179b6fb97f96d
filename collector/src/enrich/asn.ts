// IP → autonomous system number and organisation, from a directory in @ip-location-db/asn's layout.
// No ASN .mmdb exists on the registry (notes §1.1), so the CSVs are loaded into a range table.
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Logger } from '@vigil/protocol'
import { databaseError } from './db-error.ts'
import type { ParsedIp } from './ip.ts'
import { loadRangeTable, type RangeTable } from './range-table.ts'

export interface AsnInfo {
  readonly asn: number
  /** Empty when the source has no name for the AS. */
  readonly org: string
}

export interface AsnDb {
  lookup(ip: ParsedIp): AsnInfo | undefined
  /** What was loaded, for logs and the status page: directory, files, row counts. */
  readonly source: string
  readonly table: RangeTable
}

/**
 * File names tried per family, first found wins. The numeric IPv4 file parses fastest; for IPv6 the
 * text file avoids BigInt. A hand-made directory may hold either, or only one family.
 */
export const ASN_FILES = {
  v4: ['asn-ipv4-num.csv', 'asn-ipv4.csv'],
  v6: ['asn-ipv6.csv', 'asn-ipv6-num.csv'],
} as const

/**
 * Loads the ASN tables of `dir`. Throws a VigilError naming the directory when it cannot be read or
 * holds none of ASN_FILES; a directory with only one family logs a warning (the other gets no ASN).
 */
export async function openAsnDb(dir: string, opts: { cacheDir?: string; log?: Logger } = {}): Promise<AsnDb> {
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch (err) {
    throw databaseError('ASN directory', dir, err)
  }
  const pick = (candidates: readonly string[]) => candidates.find((n) => names.includes(n))
  const v4 = pick(ASN_FILES.v4)
  const v6 = pick(ASN_FILES.v6)
  if (!v4 && !v6)
    throw databaseError('ASN directory', dir, `holds none of ${[...ASN_FILES.v4, ...ASN_FILES.v6].join(', ')}`)
  if (!v4 || !v6) opts.log?.warn('GeoIP ASN directory has one address family only.', { dir, v4, v6 })
  const files = [v4, v6].filter((n): n is string => !!n).map((n) => join(dir, n))
  let table: RangeTable
  try {
    table = await loadRangeTable(files, {
      columns: ['uint', 'string'],
      cacheDir: opts.cacheDir,
      log: opts.log,
    })
  } catch (err) {
    throw databaseError('ASN directory', dir, err)
  }
  const source = `${dir} (${files.map((f) => f.slice(dir.length).replace(/^\//, '')).join(' + ')}: ${
    table.v4Count
  } IPv4 + ${table.v6Count} IPv6 ranges)`
  return {
    source,
    table,
    lookup(ip) {
      const row = table.find(ip)
      if (row < 0) return undefined
      return { asn: table.uint(row, 0), org: table.text(row, 1).trim() }
    },
  }
}
