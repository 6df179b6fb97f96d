// IP → ISO 3166-1 alpha-2 country. Any MMDB works (DB-IP Lite by default, an operator's GeoLite2 or
// GeoIP2 file too: both record shapes are read); a `.csv` path is read as an ip-location-db country
// table (`start,end,CC`), which lets a demo place the documentation nets on the map.
import { readFileSync } from 'node:fs'
import { Reader, type Response } from 'maxmind'
import type { Logger } from '@vigil/protocol'
import type { ParsedIp } from './ip.ts'
import { loadRangeTable } from './range-table.ts'
import { databaseError } from './db-error.ts'

/** Who made the data, for attribution.ts: recognised from the file's metadata or name. */
export type CountrySourceKind = 'dbip' | 'geolite2' | 'mmdb' | 'csv'

export interface CountryDb {
  /** Upper-case alpha-2 code, or undefined when the database has no country for the address. */
  lookup(ip: ParsedIp): string | undefined
  /** Path, database type and build date, for logs and the status page. */
  readonly source: string
  readonly kind: CountrySourceKind
}

/** DB-IP's ip-location-db build: `{country_code}`. MaxMind's: `{country: {iso_code}}`, maybe only `registered_country`. */
interface CountryRecord {
  country_code?: string
  country?: { iso_code?: string }
  registered_country?: { iso_code?: string }
}

/** Opens the database at `path`. Throws a VigilError naming the path when it is missing or not a database. */
export async function openCountryDb(path: string, opts: { cacheDir?: string; log?: Logger } = {}): Promise<CountryDb> {
  try {
    return path.toLowerCase().endsWith('.csv') ? await openCsv(path, opts) : openMmdb(path)
  } catch (err) {
    throw databaseError('country database', path, err)
  }
}

function openMmdb(path: string): CountryDb {
  // The whole file in memory (8 MB): 18–28 ms to open (notes §1.2); no fd kept open.
  const reader = new Reader<CountryRecord & Response>(readFileSync(path), { cache: recordCache() })
  const md = reader.metadata
  const kind: CountrySourceKind = /geolite2/i.test(md.databaseType)
    ? 'geolite2'
    : /dbip|db-ip/i.test(`${md.databaseType} ${JSON.stringify(md.description)} ${path}`)
      ? 'dbip'
      : 'mmdb'
  return {
    kind,
    source: `${path} (${md.databaseType}, built ${buildDate(md.buildEpoch)})`,
    lookup(ip) {
      const r = reader.get(ip.ip)
      const cc = r?.country_code ?? r?.country?.iso_code ?? r?.registered_country?.iso_code
      return typeof cc === 'string' && cc.length === 2 ? cc.toUpperCase() : undefined
    },
  }
}

/**
 * mmdb-lib decodes the record on every lookup unless given a cache (keyed by record offset). A
 * country database has a few hundred distinct records, so a plain Map holds them all; the bound
 * only matters for a city-sized file an operator might configure.
 */
function recordCache(max = 50000) {
  const m = new Map<number, unknown>()
  return {
    get: (k: number) => m.get(k),
    set: (k: number, v: unknown) => {
      if (m.size >= max) m.clear()
      m.set(k, v)
    },
  }
}

async function openCsv(path: string, opts: { cacheDir?: string; log?: Logger }): Promise<CountryDb> {
  const table = await loadRangeTable([path], {
    columns: ['string'],
    validate: (v) => /^[A-Za-z]{2}$/.test(String(v[0])),
    cacheDir: opts.cacheDir,
    log: opts.log,
  })
  return {
    kind: 'csv',
    source: `${path} (CSV: ${table.v4Count} IPv4 + ${table.v6Count} IPv6 ranges)`,
    lookup(ip) {
      const row = table.find(ip)
      return row < 0 ? undefined : table.text(row, 0).toUpperCase()
    },
  }
}

/** YYYY-MM-DD. Some writers store build_epoch in ms rather than s (notes §1.2), hence the year check. */
function buildDate(d: Date): string {
  const fixed = d.getUTCFullYear() > 9999 ? new Date(d.getTime() / 1000) : d
  return Number.isNaN(fixed.getTime()) ? 'unknown' : fixed.toISOString().slice(0, 10)
}
