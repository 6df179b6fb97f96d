// GET /api/search, GET /api/search/aggs, GET /api/search/fields: the search API, the same on
// every backend. Parameters are validated here, all problems reported at once as a 400; a Lucene
// error is a 400 with its message and character span; an unreachable backend is a 503.
import type { FastifyInstance, FastifyReply } from 'fastify'
import type { AggSpec, AggsRequest, AggsResponse, SearchRequest, SearchResponse, SortSpec } from '../search/api.ts'
import { fieldNames, fieldSpec, isAggregatable, DEFAULT_FIELDS } from '../search/fields.ts'
import { QueryError, type Query } from '../search/query.ts'
import { parseQuery } from '../search/lucene.ts'

export interface SearchDeps {
  search(req: SearchRequest): Promise<SearchResponse>
  aggregate(req: AggsRequest): Promise<AggsResponse>
  /** Attribution of the enrichment data (shown wherever country/ASN are shown). */
  attribution?(): readonly string[]
}

type Params = Record<string, string | string[] | undefined>

/** A parameter problem: collected, then answered as one 400. */
class BadRequest extends Error {
  readonly problems: string[]
  constructor(problems: string[]) {
    super(problems.join('; '))
    this.problems = problems
  }
}

const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[v.length - 1] : v)

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }

/** `from`/`to`: ISO 8601, epoch ms, `now`, `now-24h` (s m h d w). */
export function parseTimeParam(v: string, nowMs: number): number | undefined {
  if (/^\d{1,16}$/.test(v)) return Number(v)
  const rel = /^now(?:([+-])(\d+)([smhdw]))?$/.exec(v)
  if (rel) return rel[1] ? nowMs + (rel[1] === '-' ? -1 : 1) * Number(rel[2]) * UNIT_MS[rel[3]] : nowMs
  if (!/^\d{4}-\d{2}-\d{2}/.test(v)) return undefined
  const t = Date.parse(v)
  return Number.isFinite(t) ? t : undefined
}

function parseQ(text: string | undefined, param: string, nowMs: number): Query {
  try {
    return parseQuery(text ?? '', nowMs)
  } catch (err) {
    if (err instanceof QueryError) throw Object.assign(err, { param })
    throw err
  }
}

function parseRange(p: Params, nowMs: number, problems: string[]): { fromMs?: number; toMs?: number } {
  const out: { fromMs?: number; toMs?: number } = {}
  for (const k of ['from', 'to'] as const) {
    const v = one(p[k])
    if (v === undefined || v === '') continue
    const t = parseTimeParam(v, nowMs)
    if (t === undefined) problems.push(`${k}: expected ISO 8601, epoch ms or now-<n><s|m|h|d|w>, got "${v}"`)
    else out[k === 'from' ? 'fromMs' : 'toMs'] = t
  }
  if (out.fromMs !== undefined && out.toMs !== undefined && out.fromMs > out.toMs) problems.push('from is after to')
  return out
}

function int(v: string | undefined, name: string, min: number, max: number, dflt: number, problems: string[]): number {
  if (v === undefined || v === '') return dflt
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
    problems.push(`${name}: expected an integer from ${min} to ${max}, got "${v}"`)
    return dflt
  }
  return Number(v)
}

export function parseSearchParams(p: Params, nowMs: number): SearchRequest {
  const problems: string[] = []
  const query = parseQ(one(p.q), 'q', nowMs)
  const range = parseRange(p, nowMs, problems)
  const size = int(one(p.size), 'size', 0, 10000, 50, problems)
  const sort: SortSpec[] = []
  for (const s of (one(p.sort) ?? '@timestamp:desc').split(',').filter(Boolean)) {
    const [field, order = 'desc'] = s.split(':')
    if (!isAggregatable(field)) problems.push(`sort: "${field}" is not a sortable field`)
    else if (order !== 'asc' && order !== 'desc') problems.push(`sort: order must be asc or desc, got "${order}"`)
    else sort.push({ field, order })
  }
  const fieldsText = one(p.fields)
  const fields = fieldsText ? fieldsText.split(',').filter(Boolean) : undefined
  const searchAfter = one(p.search_after) || undefined
  if (problems.length) throw new BadRequest(problems)
  return { query, ...range, size, sort, searchAfter, fields }
}

function aggField(f: unknown, what: string, problems: string[], numeric = false): string {
  if (typeof f !== 'string' || !fieldSpec(f)) {
    problems.push(`${what}: unknown field ${JSON.stringify(f)}`)
    return ''
  }
  if (!isAggregatable(f)) problems.push(`${what}: "${f}" is a text field; use "${f}.keyword"`)
  const t = fieldSpec(f)!.type
  if (numeric && t !== 'long' && t !== 'float' && t !== 'date') problems.push(`${what}: "${f}" is not numeric`)
  return f
}

/** `{field, percents}` of a percentiles aggregation or a histogram's per-bucket percentiles (default 50, 95, 99). */
function parsePercentiles(
  a: Record<string, unknown>,
  where: string,
  problems: string[],
): { field: string; percents: number[] } {
  const percents = a.percents === undefined ? [50, 95, 99] : a.percents
  if (
    !Array.isArray(percents) ||
    !percents.length ||
    percents.some((x) => typeof x !== 'number' || !(x >= 0 && x <= 100))
  )
    problems.push(`${where}.percents: expected numbers from 0 to 100`)
  return { field: aggField(a.field, `${where}.field`, problems, true), percents: percents as number[] }
}

const INTERVAL = /^(auto|\d+(ms|s|m|h|d))$/

function parseAggSpec(name: string, raw: unknown, nowMs: number, problems: string[]): AggSpec | undefined {
  const a = raw as Record<string, unknown>
  const where = `aggs.${name}`
  if (!a || typeof a !== 'object') {
    problems.push(`${where}: expected an object`)
    return undefined
  }
  const size = (v: unknown, dflt: number) => {
    if (v === undefined) return dflt
    if (!Number.isInteger(v) || (v as number) < 1 || (v as number) > 10000) {
      problems.push(`${where}.size: expected an integer from 1 to 10000`)
      return dflt
    }
    return v as number
  }
  switch (a.type) {
    case 'date_histogram': {
      const interval = a.interval === undefined ? 'auto' : String(a.interval)
      if (!INTERVAL.test(interval))
        problems.push(`${where}.interval: expected auto or <n>ms|s|m|h|d, got "${interval}"`)
      const split = a.split as { field?: unknown; size?: unknown } | undefined
      const metric = a.metric as { op?: unknown; field?: unknown } | undefined
      if (metric && !['min', 'max', 'avg', 'sum'].includes(String(metric.op)))
        problems.push(`${where}.metric.op: expected min, max, avg or sum`)
      const pct = a.percentiles as Record<string, unknown> | undefined
      if (pct !== undefined && (!pct || typeof pct !== 'object' || Array.isArray(pct)))
        problems.push(`${where}.percentiles: expected an object {field, percents}`)
      const series = Array.isArray(a.series)
        ? (a.series as { name?: unknown; q?: unknown }[]).map((s, i) => ({
            name: typeof s.name === 'string' && s.name ? s.name : `series${i + 1}`,
            query: parseQ(typeof s.q === 'string' ? s.q : '', `${where}.series[${i}].q`, nowMs),
          }))
        : undefined
      return {
        type: 'date_histogram',
        interval,
        buckets: a.buckets === undefined ? 100 : size(a.buckets, 100),
        split: split
          ? { field: aggField(split.field, `${where}.split.field`, problems), size: size(split.size, 5) }
          : undefined,
        metric: metric
          ? {
              op: metric.op as 'min',
              field: aggField(metric.field, `${where}.metric.field`, problems, true),
            }
          : undefined,
        percentiles:
          pct && typeof pct === 'object' && !Array.isArray(pct)
            ? parsePercentiles(pct, `${where}.percentiles`, problems)
            : undefined,
        series,
      }
    }
    case 'terms': {
      const field = aggField(a.field, `${where}.field`, problems)
      if (a.part === undefined) return { type: 'terms', field, size: size(a.size, 10) }
      if (a.part !== 'domain') problems.push(`${where}.part: expected "domain"`)
      else if (field && fieldSpec(field)!.type !== 'keyword')
        problems.push(`${where}.part: "${field}" is not a keyword field`)
      return { type: 'terms', field, size: size(a.size, 10), part: 'domain' }
    }
    case 'stats':
      return { type: 'stats', field: aggField(a.field, `${where}.field`, problems, true) }
    case 'percentiles':
      return { type: 'percentiles', ...parsePercentiles(a, where, problems) }
    case 'geo':
      return { type: 'geo', size: size(a.size, 250) }
  }
  problems.push(`${where}.type: expected date_histogram, terms, stats, percentiles or geo`)
  return undefined
}

/**
 * `aggs` is a JSON object of named specs (collector/src/search/api.ts); shorthands for curl:
 * `date_histogram=5m|auto`, `terms=action,client_geo.country_code` (`terms_size=N`),
 * `stats=elapsed.Total`, `percentiles=elapsed.Total`, `geo=1`.
 */
export function parseAggsParams(p: Params, nowMs: number): AggsRequest {
  const problems: string[] = []
  const query = parseQ(one(p.q), 'q', nowMs)
  const range = parseRange(p, nowMs, problems)
  const raw: Record<string, unknown> = {}
  const aggsText = one(p.aggs)
  if (aggsText) {
    try {
      const v = JSON.parse(aggsText)
      if (!v || typeof v !== 'object' || Array.isArray(v)) problems.push('aggs: expected a JSON object')
      else Object.assign(raw, v)
    } catch (err) {
      problems.push(`aggs: invalid JSON: ${(err as Error).message}`)
    }
  }
  const dh = one(p.date_histogram)
  if (dh) raw.date_histogram = { type: 'date_histogram', interval: dh }
  const termsSize = Number(one(p.terms_size) ?? 10)
  for (const f of (one(p.terms) ?? '').split(',').filter(Boolean))
    raw[`terms:${f}`] = { type: 'terms', field: f, size: termsSize }
  const stats = one(p.stats)
  if (stats) raw[`stats:${stats}`] = { type: 'stats', field: stats }
  const pct = one(p.percentiles)
  if (pct) raw[`percentiles:${pct}`] = { type: 'percentiles', field: pct }
  if (one(p.geo)) raw.geo = { type: 'geo', size: 250 }
  const aggs: Record<string, AggSpec> = {}
  for (const [name, spec] of Object.entries(raw)) {
    const s = parseAggSpec(name, spec, nowMs, problems)
    if (s) aggs[name] = s
  }
  if (problems.length) throw new BadRequest(problems)
  return { query, ...range, aggs }
}

function sendError(reply: FastifyReply, err: unknown) {
  if (err instanceof QueryError || (err as Error)?.name === 'QueryError') {
    const e = err as QueryError & { param?: string }
    reply.code(400)
    return { error: e.message, position: e.position, query: e.query, param: e.param ?? 'q', code: 'QUERY_INVALID' }
  }
  if (err instanceof BadRequest) {
    reply.code(400)
    return { error: err.message, problems: err.problems, code: 'PARAM_INVALID' }
  }
  if ((err as Error)?.name === 'BackendUnavailableError') {
    reply.code(503)
    return { error: `search backend unavailable: ${(err as Error).message}`, code: 'BACKEND_UNAVAILABLE' }
  }
  reply.code(500)
  return { error: (err as Error)?.message ?? String(err), code: 'INTERNAL' }
}

export function registerSearchRoutes(app: FastifyInstance, deps: SearchDeps): void {
  app.get('/api/search', async (req, reply) => {
    try {
      return await deps.search(parseSearchParams(req.query as Params, Date.now()))
    } catch (err) {
      return sendError(reply, err)
    }
  })
  app.get('/api/search/aggs', async (req, reply) => {
    try {
      return await deps.aggregate(parseAggsParams(req.query as Params, Date.now()))
    } catch (err) {
      return sendError(reply, err)
    }
  })
  app.get('/api/search/fields', async () => ({
    fields: fieldNames().map((name) => ({ name, type: fieldSpec(name)!.type, aggregatable: isAggregatable(name) })),
    default_fields: DEFAULT_FIELDS,
    attribution: deps.attribution?.() ?? [],
  }))
}
