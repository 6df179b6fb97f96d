// AggSpec → the engines' aggregations, and their answers back as AggResult. Pure (tested without
// an engine). Some answers need a first pass over the same query: the data's time span for an
// 'auto' histogram without a range, and the top values of a split, whose per-bucket counts are then
// asked for exactly (a `filters` sub-aggregation), so stacked bars always add up to the top values'.
import type {
  AggResult,
  AggSpec,
  AggsRequest,
  DateHistogramResult,
  GeoResult,
  PercentilesResult,
  StatsResult,
  TermsResult,
} from '../../search/api.ts'
import { compileDsl } from '../../search/compile-dsl.ts'
import { fieldSpec, isAggregatable } from '../../search/fields.ts'
import { QueryError } from '../../search/query.ts'
import { compareCodePoints } from '../../search/order.ts'

const SECOND = 1000
const MINUTE = 60 * SECOND
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

/** The intervals 'auto' chooses from, smallest first. */
export const AUTO_INTERVALS_MS: readonly number[] = [
  SECOND,
  5 * SECOND,
  10 * SECOND,
  30 * SECOND,
  MINUTE,
  5 * MINUTE,
  10 * MINUTE,
  30 * MINUTE,
  HOUR,
  3 * HOUR,
  12 * HOUR,
  DAY,
  7 * DAY,
]

const UNIT_MS: Record<string, number> = { ms: 1, s: SECOND, m: MINUTE, h: HOUR, d: DAY }

/**
 * Per-shard candidates of a terms aggregation. Each daily index is a shard, and a value missing
 * from one shard's candidate list is undercounted, so this is far above any top-N asked for:
 * counts are exact while a day holds fewer distinct values than this.
 */
export const TERMS_SHARD_SIZE = 50_000

/** The most buckets one histogram may have (the engines' search.max_buckets; the embedded store's limit). */
export const MAX_BUCKETS = 65536

// Request errors are QueryErrors (HTTP 400), worded as the embedded store words them.
const badRequest = (msg: string) => new QueryError(msg, { start: 0, end: 0 }, '')

/** Milliseconds of a fixed interval (`30s`, `5m`, `1d`, `250ms`); throws QueryError on anything else. */
export function parseIntervalMs(interval: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(interval)
  if (!m || Number(m[1]) === 0) throw badRequest(`Invalid interval "${interval}"`)
  return Number(m[1]) * UNIT_MS[m[2]]
}

/** The interval in the engines' fixed_interval syntax (the largest unit that divides it). */
export function fixedInterval(ms: number): string {
  for (const u of ['d', 'h', 'm', 's'] as const) if (ms % UNIT_MS[u] === 0) return `${ms / UNIT_MS[u]}${u}`
  return `${ms}ms`
}

/** Buckets an epoch-aligned histogram of `intervalMs` has from fromMs to toMs (both inclusive). */
export function bucketCount(fromMs: number, toMs: number, intervalMs: number): number {
  return Math.floor(toMs / intervalMs) - Math.floor(fromMs / intervalMs) + 1
}

/** 'auto': the smallest ladder interval giving at most maxBuckets buckets over the span (else the largest). */
export function autoIntervalMs(fromMs: number, toMs: number, maxBuckets: number): number {
  for (const i of AUTO_INTERVALS_MS) if (bucketCount(fromMs, toMs, i) <= maxBuckets) return i
  return AUTO_INTERVALS_MS[AUTO_INTERVALS_MS.length - 1]
}

/** Key of a percent in PercentilesResult: one decimal at least ("50.0", "99.9"). */
export function percentKey(p: number): string {
  return Number.isInteger(p) ? p.toFixed(1) : String(p)
}

function aggregatable(name: string): string {
  if (!isAggregatable(name)) throw badRequest(`Field "${name}" cannot be aggregated`)
  return name
}

const NUMERIC = new Set(['long', 'float', 'date', 'boolean'])
function numeric(name: string): string {
  if (name !== '@timestamp' && !NUMERIC.has(fieldSpec(name)?.type ?? ''))
    throw badRequest(`Field "${name}" is not numeric`)
  return name
}

function termsAgg(field: string, size: number): Record<string, unknown> {
  aggregatable(field)
  return {
    terms: {
      field,
      size,
      shard_size: Math.max(size, TERMS_SHARD_SIZE),
      order: [{ _count: 'desc' }, { _key: 'asc' }],
    },
  }
}

function percentilesAgg(field: string, percents: readonly number[]): Record<string, unknown> {
  return { percentiles: { field: numeric(field), percents: [...percents], keyed: false } }
}

/**
 * Distinct addresses a domain terms aggregation reads (all of a result's addresses, grouped by
 * domain here): exact while the result holds fewer; beyond, the rarest addresses fall into
 * other_doc_count. Below search.max_buckets (65536) with room for the request's other buckets.
 */
export const DOMAIN_VALUES = 20_000

/** Terms over an address field's values (grouped by domain when read), and its "missing" (no domain) filter. */
function domainTermsAggs(field: string): { terms: Record<string, unknown>; missing: Record<string, unknown> } {
  aggregatable(field)
  if (fieldSpec(field)?.type !== 'keyword') throw badRequest(`Field "${field}" is not a keyword field`)
  return {
    terms: {
      terms: {
        field,
        include: '.*@.+',
        size: DOMAIN_VALUES,
        shard_size: Math.max(DOMAIN_VALUES, TERMS_SHARD_SIZE),
        order: [{ _count: 'desc' }, { _key: 'asc' }],
      },
    },
    missing: { filter: { bool: { must_not: [{ wildcard: { [field]: { value: '*@?*' } } }] } } },
  }
}

/** Addresses' document counts summed per lower-cased domain, the top `size` by count then domain. */
export function readDomainTerms(size: number, agg: any, missing: any): TermsResult {
  const per = new Map<string, number>()
  for (const b of agg?.buckets ?? []) {
    const v = String(b.key)
    const at = v.lastIndexOf('@')
    if (at < 0 || at === v.length - 1) continue
    const d = v.slice(at + 1).toLowerCase()
    per.set(d, (per.get(d) ?? 0) + b.doc_count)
  }
  const rows = [...per].sort((x, y) => y[1] - x[1] || compareCodePoints(x[0], y[0]))
  let other = agg?.sum_other_doc_count ?? 0
  for (const [, c] of rows.slice(size)) other += c
  return {
    buckets: rows.slice(0, size).map(([key, doc_count]) => ({ key, doc_count })),
    other_doc_count: other,
    missing_doc_count: missing?.doc_count ?? 0,
  }
}

type TermKey = string | number | boolean

/** A terms bucket's key as the API gives it: booleans as true/false (engines say 1/0), others as is. */
export function termKey(field: string, bucket: { key: unknown; key_as_string?: string }): TermKey {
  if (fieldSpec(field)?.type === 'boolean') return bucket.key_as_string === 'true' || bucket.key === 1
  return bucket.key as TermKey
}

// ---- first pass --------------------------------------------------------------------------------

const TS_SPAN = 'ts_span'
const splitName = (name: string) => `split_${name}`

/** Aggregations of the first pass, or null when no spec needs one. */
export function buildPrepassAggs(req: AggsRequest): Record<string, unknown> | null {
  const aggs: Record<string, unknown> = {}
  for (const [i, spec] of Object.values(req.aggs).entries()) {
    if (spec.type !== 'date_histogram') continue
    if (spec.interval === 'auto' && (req.fromMs === undefined || req.toMs === undefined))
      aggs[TS_SPAN] = { stats: { field: '@timestamp' } }
    if (spec.split) aggs[splitName(String(i))] = termsAgg(spec.split.field, spec.split.size)
  }
  return Object.keys(aggs).length ? aggs : null
}

export interface Prepass {
  /** Earliest/latest @timestamp of the result (absent when empty or not asked). */
  readonly tsMin?: number
  readonly tsMax?: number
  /** Top split values per spec position. */
  readonly splitValues: ReadonlyMap<number, readonly TermKey[]>
}

export function readPrepass(req: AggsRequest, aggs: any): Prepass {
  const span = aggs?.[TS_SPAN]
  const splitValues = new Map<number, TermKey[]>()
  for (const [i, spec] of Object.values(req.aggs).entries()) {
    if (spec.type !== 'date_histogram' || !spec.split) continue
    const field = spec.split.field
    splitValues.set(
      i,
      (aggs?.[splitName(String(i))]?.buckets ?? []).map((b: { key: unknown; key_as_string?: string }) =>
        termKey(field, b),
      ),
    )
  }
  return {
    tsMin: span?.count ? span.min : undefined,
    tsMax: span?.count ? span.max : undefined,
    splitValues,
  }
}

// ---- second pass -------------------------------------------------------------------------------

interface HistogramPlan {
  readonly type: 'date_histogram'
  readonly intervalMs: number
  /** The range buckets must cover (when known): the request's, or the data's for 'auto'. */
  readonly minMs?: number
  readonly maxMs?: number
  readonly split?: { readonly field: string; readonly values: readonly TermKey[] }
}
type Plan = HistogramPlan | { readonly type: Exclude<AggSpec['type'], 'date_histogram'> }

export interface AggsPlan {
  /** The `aggs` of the main request. */
  readonly aggs: Record<string, unknown>
  /** Per spec name, what reading its answer needs. */
  readonly plans: ReadonlyMap<string, Plan>
}

const internal = (i: number) => `a${i}`

function histogramPlan(
  req: AggsRequest,
  spec: Extract<AggSpec, { type: 'date_histogram' }>,
  i: number,
  pre: Prepass,
): HistogramPlan {
  let minMs = req.fromMs
  let maxMs = req.toMs
  let intervalMs: number
  if (spec.interval === 'auto') {
    minMs ??= pre.tsMin ?? maxMs
    maxMs ??= pre.tsMax ?? minMs
    intervalMs =
      minMs === undefined || maxMs === undefined
        ? AUTO_INTERVALS_MS[0]
        : autoIntervalMs(minMs, maxMs, spec.buckets ?? 100)
  } else intervalMs = parseIntervalMs(spec.interval)
  if (minMs !== undefined && maxMs !== undefined && bucketCount(minMs, maxMs, intervalMs) > MAX_BUCKETS)
    throw badRequest(`Too many buckets (${bucketCount(minMs, maxMs, intervalMs)}); use a larger interval`)
  const split = spec.split ? { field: aggregatable(spec.split.field), values: pre.splitValues.get(i) ?? [] } : undefined
  return { type: 'date_histogram', intervalMs, minMs, maxMs, split }
}

function histogramAgg(
  spec: Extract<AggSpec, { type: 'date_histogram' }>,
  plan: HistogramPlan,
): Record<string, unknown> {
  const bounds: Record<string, number> = {}
  if (plan.minMs !== undefined) bounds.min = plan.minMs
  if (plan.maxMs !== undefined) bounds.max = plan.maxMs
  const sub: Record<string, unknown> = {}
  if (plan.split?.values.length)
    sub.split = {
      filters: {
        filters: Object.fromEntries(plan.split.values.map((v, j) => [`v${j}`, { term: { [plan.split!.field]: v } }])),
      },
    }
  // stats, not the op itself: its count tells "no values" (null) from a sum of 0.
  if (spec.metric) sub.metric = { stats: { field: numeric(spec.metric.field) } }
  // The top-level percentiles aggregation, per bucket: the same numbers for the same documents.
  if (spec.percentiles) sub.percentiles = percentilesAgg(spec.percentiles.field, spec.percentiles.percents)
  if (spec.series?.length)
    sub.series = {
      filters: { filters: Object.fromEntries(spec.series.map((s, j) => [`s${j}`, compileDsl(s.query)])) },
    }
  return {
    date_histogram: {
      field: '@timestamp',
      fixed_interval: fixedInterval(plan.intervalMs),
      min_doc_count: 0,
      ...(Object.keys(bounds).length ? { extended_bounds: bounds } : {}),
    },
    ...(Object.keys(sub).length ? { aggs: sub } : {}),
  }
}

/** The main request's aggregations for every spec, with what reading them needs. */
export function buildAggs(req: AggsRequest, pre: Prepass): AggsPlan {
  const aggs: Record<string, unknown> = {}
  const plans = new Map<string, Plan>()
  for (const [i, [name, spec]] of Object.entries(req.aggs).entries()) {
    const key = internal(i)
    switch (spec.type) {
      case 'date_histogram': {
        const plan = histogramPlan(req, spec, i, pre)
        plans.set(name, plan)
        aggs[key] = histogramAgg(spec, plan)
        break
      }
      case 'terms':
        plans.set(name, { type: 'terms' })
        if (spec.part === 'domain') {
          const d = domainTermsAggs(spec.field)
          aggs[key] = d.terms
          aggs[`${key}_missing`] = d.missing
        } else {
          aggs[key] = termsAgg(spec.field, spec.size)
          aggs[`${key}_missing`] = { missing: { field: spec.field } }
        }
        break
      case 'stats':
        plans.set(name, { type: 'stats' })
        aggs[key] = { stats: { field: numeric(spec.field) } }
        break
      case 'percentiles':
        plans.set(name, { type: 'percentiles' })
        aggs[key] = percentilesAgg(spec.field, spec.percents)
        break
      case 'geo':
        plans.set(name, { type: 'geo' })
        aggs[key] = {
          ...termsAgg('client_geo.country_code', spec.size),
          aggs: {
            located: {
              filter: { exists: { field: 'client_geo.location' } },
              // the country's earliest located document, as the embedded store picks it
              aggs: {
                one: {
                  top_hits: {
                    size: 1,
                    sort: [{ '@timestamp': 'asc' }, { event_id: 'asc' }],
                    _source: { includes: ['client_geo.location'] },
                  },
                },
              },
            },
          },
        }
        break
    }
  }
  return { aggs, plans }
}

// ---- answers -----------------------------------------------------------------------------------

function readHistogram(
  spec: Extract<AggSpec, { type: 'date_histogram' }>,
  plan: HistogramPlan,
  agg: any,
): DateHistogramResult {
  let raw: any[] = agg?.buckets ?? []
  // No index at all: the engines answer without aggregations; the range's buckets are still due.
  if (!agg && plan.minMs !== undefined && plan.maxMs !== undefined) {
    raw = []
    const first = Math.floor(plan.minMs / plan.intervalMs) * plan.intervalMs
    for (let k = first; k <= plan.maxMs; k += plan.intervalMs) raw.push({ key: k, doc_count: 0 })
  }
  const buckets = raw.map((b) => {
    const out: {
      key: number
      key_as_string: string
      doc_count: number
      split?: Record<string, number>
      metric?: number | null
      percentiles?: Record<string, number | null>
      series?: Record<string, number>
    } = { key: b.key, key_as_string: new Date(b.key).toISOString(), doc_count: b.doc_count }
    if (plan.split)
      out.split = Object.fromEntries(
        plan.split.values.map((v, j) => [String(v), b.split?.buckets?.[`v${j}`]?.doc_count ?? 0]),
      )
    if (spec.metric) {
      const st = b.metric
      out.metric = st?.count ? (st[spec.metric.op] as number) : null
    }
    if (spec.percentiles) out.percentiles = readPercentiles(spec.percentiles.percents, b.percentiles).values
    if (spec.series?.length)
      out.series = Object.fromEntries(spec.series.map((s, j) => [s.name, b.series?.buckets?.[`s${j}`]?.doc_count ?? 0]))
    return out
  })
  return { interval_ms: plan.intervalMs, buckets }
}

function readTerms(field: string, agg: any, missing: any): TermsResult {
  return {
    buckets: (agg?.buckets ?? []).map((b: any) => ({ key: termKey(field, b), doc_count: b.doc_count })),
    other_doc_count: agg?.sum_other_doc_count ?? 0,
    missing_doc_count: missing?.doc_count ?? 0,
  }
}

function readStats(agg: any): StatsResult {
  const count = agg?.count ?? 0
  return {
    count,
    min: count ? agg.min : null,
    max: count ? agg.max : null,
    avg: count ? agg.avg : null,
    sum: count ? agg.sum : 0,
  }
}

function readPercentiles(percents: readonly number[], agg: any): PercentilesResult {
  const values: Record<string, number | null> = {}
  const got: { key: number; value: number | null }[] = agg?.values ?? []
  for (const [j, p] of percents.entries()) {
    const v = got[j]?.value
    values[percentKey(p)] = typeof v === 'number' && Number.isFinite(v) ? v : null
  }
  return { values }
}

/** A geo_point as stored in _source ({lat, lon}, [lon, lat] or "lat,lon") as {lat, lon}; null otherwise. */
export function readGeoPoint(v: unknown): { lat: number; lon: number } | null {
  if (Array.isArray(v) && v.length >= 2) return { lat: Number(v[1]), lon: Number(v[0]) }
  if (typeof v === 'string') {
    const [lat, lon] = v.split(',').map(Number)
    return Number.isFinite(lat) && Number.isFinite(lon) ? { lat, lon } : null
  }
  const o = v as { lat?: unknown; lon?: unknown } | null
  if (o && o.lat !== undefined && o.lon !== undefined) return { lat: Number(o.lat), lon: Number(o.lon) }
  return null
}

function readGeo(agg: any): GeoResult {
  return {
    buckets: (agg?.buckets ?? []).map((b: any) => ({
      country_code: String(b.key),
      doc_count: b.doc_count,
      location: readGeoPoint(b.located?.one?.hits?.hits?.[0]?._source?.client_geo?.location),
    })),
  }
}

/** Every spec's answer from the main request's `aggregations` (absent when no index exists). */
export function readAggs(req: AggsRequest, plan: AggsPlan, aggs: any): Record<string, AggResult> {
  const out: Record<string, AggResult> = {}
  for (const [i, [name, spec]] of Object.entries(req.aggs).entries()) {
    const key = internal(i)
    const p = plan.plans.get(name)!
    switch (spec.type) {
      case 'date_histogram':
        out[name] = readHistogram(spec, p as HistogramPlan, aggs?.[key])
        break
      case 'terms':
        out[name] =
          spec.part === 'domain'
            ? readDomainTerms(spec.size, aggs?.[key], aggs?.[`${key}_missing`])
            : readTerms(spec.field, aggs?.[key], aggs?.[`${key}_missing`])
        break
      case 'stats':
        out[name] = readStats(aggs?.[key])
        break
      case 'percentiles':
        out[name] = readPercentiles(spec.percents, aggs?.[key])
        break
      case 'geo':
        out[name] = readGeo(aggs?.[key])
        break
    }
  }
  return out
}
