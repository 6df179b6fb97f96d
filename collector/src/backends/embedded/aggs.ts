// aggregate(): date_histogram, terms, stats, percentiles and the country breakdown, counted the
// way a single-shard engine counts them (exact). The matching documents are resolved once per
// request: with no query beyond the time range, side rows are filtered by their own ts_ms (one
// covering index scan per aggregation, `docs` untouched); otherwise the matching rids go into a
// temp table that every aggregation joins.
import type Database from 'better-sqlite3'
import { isAggregatable } from '../../search/fields.ts'
import { QueryError } from '../../search/query.ts'
import type {
  AggResult,
  AggSpec,
  AggsRequest,
  AggsResponse,
  DateHistogramResult,
  GeoResult,
  MetricOp,
  PercentilesResult,
  StatsResult,
  TermsResult,
} from '../../search/api.ts'
import { and, compileQuery, compileQueryIn, TRUE, type SqlFragment } from './compile-sql.ts'
import { formatIp } from './coerce.ts'
import type { StoredField } from './schema.ts'
import { timeRange } from './search.ts'
import { compareCodePoints } from '../../search/order.ts'

/** Below this many matching documents, aggregations loop over the matches; above, they scan the field's index. */
const JOIN_BELOW_DOCS = 20000
/** The engines' search.max_buckets default. */
const MAX_BUCKETS = 65536
/** The 'auto' interval ladder, smallest first. */
const AUTO_LADDER_MS = [
  1e3,
  5e3,
  10e3,
  30e3,
  60e3,
  300e3,
  600e3,
  1800e3,
  3600e3,
  3 * 3600e3,
  12 * 3600e3,
  86400e3,
  7 * 86400e3,
]

interface Scope {
  readonly total: number
  /** Condition on `docs d`. */
  readonly docWhere: SqlFragment
  /** FROM and WHERE iterating side rows `k` of one field within the scope. */
  side(table: 'kw' | 'num' | 'ip', fid: number): { from: string; where: SqlFragment }
}

interface Ctx {
  readonly db: Database.Database
  readonly fields: ReadonlyMap<string, StoredField>
  readonly scope: Scope
}

/** Runs an aggregation request; throws QueryError for an invalid query, field or interval. */
export function runAggregate(
  db: Database.Database,
  fields: ReadonlyMap<string, StoredField>,
  req: AggsRequest,
): AggsResponse {
  const query = compileQueryIn(req.query, { fields }, req.fromMs, req.toMs)
  return db.transaction(() => {
    const scope = makeScope(db, query, req.fromMs, req.toMs)
    const ctx: Ctx = { db, fields, scope }
    const aggs: Record<string, AggResult> = {}
    for (const [name, spec] of Object.entries(req.aggs)) aggs[name] = runOne(ctx, spec, req)
    return { total: scope.total, aggs }
  })()
}

function makeScope(db: Database.Database, query: SqlFragment, fromMs?: number, toMs?: number): Scope {
  const range = timeRange(fromMs, toMs)
  if (query === TRUE) {
    const total = (
      db.prepare(`SELECT count(*) AS n FROM docs d WHERE ${range.sql}`).get(...range.params) as { n: number }
    ).n
    const sideRange = { sql: range.sql.replaceAll('d.ts_ms', 'k.ts_ms'), params: range.params }
    return {
      total,
      docWhere: range,
      side: (table, fid) => ({ from: `${table} k`, where: and([{ sql: 'k.fid = ?', params: [fid] }, sideRange]) }),
    }
  }
  const where = and([query, range])
  const sideRange = { sql: range.sql.replaceAll('d.ts_ms', 'k.ts_ms'), params: range.params }
  db.exec('CREATE TEMP TABLE IF NOT EXISTS agg_m (rid INTEGER PRIMARY KEY)')
  db.exec('DELETE FROM temp.agg_m')
  const total = db
    .prepare(`INSERT INTO temp.agg_m SELECT d.rid FROM docs d WHERE ${where.sql}`)
    .run(...where.params).changes
  const docWhere = { sql: 'd.rid IN (SELECT rid FROM temp.agg_m)', params: [] }
  if (total < JOIN_BELOW_DOCS)
    return {
      total,
      docWhere,
      side: (table, fid) => ({
        from: `temp.agg_m m CROSS JOIN ${table} k`,
        where: { sql: 'k.rid = m.rid AND k.fid = ?', params: [fid] },
      }),
    }
  return {
    total,
    docWhere,
    // Unary + keeps SQLite from driving the loop by rid: the (fid, value) index is scanned in order.
    // The time range first: out-of-range rows are dropped on the index entry, before the lookup.
    side: (table, fid) => ({
      from: `${table} k`,
      where: and([
        { sql: 'k.fid = ?', params: [fid] },
        sideRange,
        { sql: '+k.rid IN (SELECT rid FROM temp.agg_m)', params: [] },
      ]),
    }),
  }
}

function runOne(ctx: Ctx, spec: AggSpec, req: AggsRequest): AggResult {
  switch (spec.type) {
    case 'terms':
      return spec.part === 'domain' ? domainTerms(ctx, spec.field, spec.size) : terms(ctx, spec.field, spec.size)
    case 'stats':
      return stats(ctx, spec.field)
    case 'percentiles':
      return percentiles(ctx, spec.field, spec.percents)
    case 'date_histogram':
      return dateHistogram(ctx, spec, req)
    case 'geo':
      return geo(ctx, spec.size)
  }
}

const badField = (msg: string) => new QueryError(msg, { start: 0, end: 0 }, '')

function aggField(ctx: Ctx, name: string): StoredField | '@timestamp' {
  if (name === '@timestamp') return name
  const f = ctx.fields.get(name)
  if (!f || !isAggregatable(name)) throw badField(`Field "${name}" cannot be aggregated`)
  return f
}

function numericField(ctx: Ctx, name: string): StoredField | '@timestamp' {
  const f = aggField(ctx, name)
  if (f !== '@timestamp' && f.table !== 'num') throw badField(`Field "${name}" is not numeric`)
  return f
}

interface ValueCount {
  /** Raw stored value (hex for ip). */
  readonly v: string | number
  readonly c: number
  /** Documents counted for the first time by this row (sums to the documents having the field). */
  readonly f: number
}

function valueCounts(ctx: Ctx, f: StoredField | '@timestamp', extra?: SqlFragment): ValueCount[] {
  const { db, scope } = ctx
  if (f === '@timestamp') {
    const w = and([scope.docWhere, extra ?? TRUE])
    return db
      .prepare(`SELECT d.ts_ms AS v, count(*) AS c, count(*) AS f FROM docs d WHERE ${w.sql} GROUP BY d.ts_ms`)
      .all(...w.params) as ValueCount[]
  }
  const { from, where } = scope.side(f.table as 'kw' | 'num' | 'ip', f.id)
  const w = and([where, extra ?? TRUE])
  const v = f.table === 'ip' ? 'hex(k.value)' : 'k.value'
  const group = f.table === 'kw' ? 'k.lower, k.value' : 'k.value'
  return db
    .prepare(`SELECT ${v} AS v, count(*) AS c, sum(k.first) AS f FROM ${from} WHERE ${w.sql} GROUP BY ${group}`)
    .all(...w.params) as ValueCount[]
}

function termsKey(f: StoredField | '@timestamp', v: string | number): string | number | boolean {
  if (f === '@timestamp') return v
  if (f.spec.type === 'boolean') return v === 1
  if (f.table === 'ip') return formatIp(Buffer.from(v as string, 'hex'))
  return v
}

function byCountThenKey(a: ValueCount, b: ValueCount): number {
  if (a.c !== b.c) return b.c - a.c
  if (typeof a.v === 'number' && typeof b.v === 'number') return a.v - b.v
  return compareCodePoints(String(a.v), String(b.v))
}

function topValues(ctx: Ctx, f: StoredField | '@timestamp', size: number) {
  const rows = valueCounts(ctx, f).sort(byCountThenKey)
  const top = rows.slice(0, Math.max(0, size))
  let other = 0
  for (let i = top.length; i < rows.length; i++) other += rows[i].c
  const withField = rows.reduce((s, r) => s + r.f, 0)
  return { top, other, missing: ctx.scope.total - withField }
}

function terms(ctx: Ctx, name: string, size: number): TermsResult {
  const f = aggField(ctx, name)
  const { top, other, missing } = topValues(ctx, f, size)
  return {
    buckets: top.map((r) => ({ key: termsKey(f, r.v), doc_count: r.c })),
    other_doc_count: other,
    missing_doc_count: missing,
  }
}

// Per lower-cased domain (the text after the last '@', not empty) of a keyword field, the sum of
// its addresses' document counts (what the engines' terms over the addresses add up to).
function domainTerms(ctx: Ctx, name: string, size: number): TermsResult {
  const f = aggField(ctx, name)
  if (f === '@timestamp' || f.table !== 'kw') throw badField(`Field "${name}" is not a keyword field`)
  const { from, where } = ctx.scope.side('kw', f.id)
  // rtrim(s, s without '@') strips the characters after the last '@': its length + 1 starts the domain.
  const domain = "substr(k.lower, length(rtrim(k.lower, replace(k.lower, '@', ''))) + 1)"
  const w = and([where, { sql: `instr(k.lower, '@') > 0 AND ${domain} <> ''`, params: [] }])
  const rows = ctx.db
    .prepare(
      `SELECT v, sum(c) AS c, 0 AS f FROM (SELECT ${domain} AS v, count(DISTINCT k.rid) AS c FROM ${from}
         WHERE ${w.sql} GROUP BY k.lower, k.value) GROUP BY v`,
    )
    .all(...w.params) as ValueCount[]
  const withDomain = (
    ctx.db.prepare(`SELECT count(DISTINCT k.rid) AS n FROM ${from} WHERE ${w.sql}`).get(...w.params) as { n: number }
  ).n
  rows.sort(byCountThenKey)
  const top = rows.slice(0, Math.max(0, size))
  let other = 0
  for (let i = top.length; i < rows.length; i++) other += rows[i].c
  return {
    buckets: top.map((r) => ({ key: String(r.v), doc_count: r.c })),
    other_doc_count: other,
    missing_doc_count: ctx.scope.total - withDomain,
  }
}

function numericRows(ctx: Ctx, f: StoredField | '@timestamp', select: string, group = ''): SqlSelect {
  if (f === '@timestamp') {
    const onDocs = (s: string) =>
      s.replaceAll('k.value', 'd.ts_ms').replaceAll('k.mult', '1').replaceAll('k.ts_ms', 'd.ts_ms')
    const w = ctx.scope.docWhere
    return { sql: onDocs(`SELECT ${select} FROM docs d WHERE ${w.sql} ${group}`), params: w.params }
  }
  const { from, where } = ctx.scope.side('num', f.id)
  return { sql: `SELECT ${select} FROM ${from} WHERE ${where.sql} ${group}`, params: where.params }
}

interface SqlSelect {
  readonly sql: string
  readonly params: unknown[]
}

function stats(ctx: Ctx, name: string): StatsResult {
  const f = numericField(ctx, name)
  const q = numericRows(ctx, f, 'sum(k.mult) AS n, min(k.value) AS lo, max(k.value) AS hi, sum(k.value * k.mult) AS s')
  const r = ctx.db.prepare(q.sql).get(...q.params) as { n: number | null; lo: number; hi: number; s: number }
  const count = r.n ?? 0
  if (!count) return { count: 0, min: null, max: null, avg: null, sum: 0 }
  return { count, min: r.lo, max: r.hi, avg: r.s / count, sum: r.s }
}

/**
 * Percentiles by linear interpolation between the closest ranks over the exact sorted values
 * (rank = p/100 × (n − 1)); the engines' TDigest agrees on small sets and approximates on large ones.
 */
function percentiles(ctx: Ctx, name: string, percents: readonly number[]): PercentilesResult {
  const f = numericField(ctx, name)
  const q = numericRows(ctx, f, 'k.value AS v, sum(k.mult) AS m', 'GROUP BY k.value ORDER BY k.value')
  return { values: percentilesOf(ctx.db.prepare(q.sql).all(...q.params) as ValueMult[], percents) }
}

/** One distinct value and how many times it occurs. */
interface ValueMult {
  readonly v: number
  readonly m: number
}

const percentKey = (p: number): string => (Number.isInteger(p) ? p.toFixed(1) : String(p))

/** The percentiles of values given in ascending order with their multiplicities (null for none). */
function percentilesOf(rows: readonly ValueMult[], percents: readonly number[]): Record<string, number | null> {
  const n = rows.reduce((s, r) => s + r.m, 0)
  const at = (rank: number): number => {
    let seen = 0
    for (const r of rows) {
      seen += r.m
      if (rank < seen) return r.v
    }
    return rows[rows.length - 1].v
  }
  const values: Record<string, number | null> = {}
  for (const p of percents) {
    const key = percentKey(p)
    if (!n) {
      values[key] = null
      continue
    }
    const rank = (Math.min(100, Math.max(0, p)) / 100) * (n - 1)
    const lo = Math.floor(rank)
    const a = at(lo)
    const b = at(Math.ceil(rank))
    values[key] = a + (b - a) * (rank - lo)
  }
  return values
}

/** Milliseconds of a fixed interval (`500ms`, `30s`, `5m`, `1h`, `1d`), or undefined. */
export function parseIntervalMs(s: string): number | undefined {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(s.trim())
  if (!m || Number(m[1]) === 0) return undefined
  return Number(m[1]) * { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd']
}

/** The smallest ladder interval giving at most `buckets` buckets over [fromMs, toMs] (the largest if none does). */
export function autoIntervalMs(fromMs: number, toMs: number, buckets: number): number {
  for (const iv of AUTO_LADDER_MS) if (Math.floor(toMs / iv) - Math.floor(fromMs / iv) + 1 <= buckets) return iv
  return AUTO_LADDER_MS[AUTO_LADDER_MS.length - 1]
}

function dateHistogram(
  ctx: Ctx,
  spec: Extract<AggSpec, { type: 'date_histogram' }>,
  req: AggsRequest,
): DateHistogramResult {
  const { db, scope } = ctx
  let fromMs = req.fromMs
  let toMs = req.toMs
  if (fromMs === undefined || toMs === undefined) {
    const w = scope.docWhere
    const r = db
      .prepare(`SELECT min(d.ts_ms) AS lo, max(d.ts_ms) AS hi FROM docs d WHERE ${w.sql}`)
      .get(...w.params) as {
      lo: number | null
      hi: number | null
    }
    fromMs ??= r.lo ?? undefined
    toMs ??= r.hi ?? undefined
  }
  const iv =
    spec.interval === 'auto'
      ? fromMs === undefined || toMs === undefined
        ? AUTO_LADDER_MS[0]
        : autoIntervalMs(fromMs, toMs, spec.buckets ?? 100)
      : parseIntervalMs(spec.interval)
  if (!iv) throw badField(`Invalid interval "${spec.interval}"`)
  if (fromMs === undefined || toMs === undefined || toMs < fromMs) return { interval_ms: iv, buckets: [] }
  const first = Math.floor(fromMs / iv) * iv
  const last = Math.floor(toMs / iv) * iv
  const n = (last - first) / iv + 1
  if (n > MAX_BUCKETS) throw badField(`Too many buckets (${n}); use a larger interval`)

  const counts = bucketCounts(db, scope.docWhere, iv)
  const split = spec.split ? splitCounts(ctx, spec.split, iv) : undefined
  const metric = spec.metric ? metricValues(ctx, spec.metric.op, spec.metric.field, iv) : undefined
  const pct = spec.percentiles
    ? bucketPercentiles(ctx, spec.percentiles.field, spec.percentiles.percents, iv)
    : undefined
  const noValues = spec.percentiles ? percentilesOf([], spec.percentiles.percents) : undefined
  const series = spec.series?.map((s) => ({
    name: s.name,
    counts: bucketCounts(db, and([scope.docWhere, compileQuery(s.query, { fields: ctx.fields })]), iv),
  }))
  const buckets: DateHistogramResult['buckets'][number][] = []
  for (let key = first; key <= last; key += iv) {
    buckets.push({
      key,
      key_as_string: new Date(key).toISOString(),
      doc_count: counts.get(key) ?? 0,
      ...(split && {
        split: Object.fromEntries(split.keys.map((k) => [k, split.counts.get(`${key}\u0000${k}`) ?? 0])),
      }),
      ...(metric && { metric: metric.get(key) ?? null }),
      ...(pct && { percentiles: pct.get(key) ?? noValues }),
      ...(series && { series: Object.fromEntries(series.map((s) => [s.name, s.counts.get(key) ?? 0])) }),
    })
  }
  return { interval_ms: iv, buckets }
}

// The interval is written as an integer literal: a bound JS number is a REAL in SQLite, which
// would turn the division into a float one.
function bucketOf(alias: string, iv: number): string {
  return `(${alias}.ts_ms / ${Math.trunc(iv)}) * ${Math.trunc(iv)}`
}

function bucketCounts(db: Database.Database, where: SqlFragment, iv: number): Map<number, number> {
  const rows = db
    .prepare(`SELECT ${bucketOf('d', iv)} AS b, count(*) AS c FROM docs d WHERE ${where.sql} GROUP BY b`)
    .all(...where.params) as { b: number; c: number }[]
  return new Map(rows.map((r) => [r.b, r.c]))
}

// The split's values are the top `size` of the whole result (a terms aggregation first), then
// counted per bucket, so every bucket reports the same series (zeros included).
function splitCounts(ctx: Ctx, split: { field: string; size: number }, iv: number) {
  const f = aggField(ctx, split.field)
  const { top } = topValues(ctx, f, split.size)
  const keys = top.map((r) => String(termsKey(f, r.v)))
  const counts = new Map<string, number>()
  if (!top.length) return { keys, counts }
  const marks = top.map(() => '?').join(', ')
  let sql: string
  let params: unknown[]
  if (f === '@timestamp') {
    const w = ctx.scope.docWhere
    sql = `SELECT ${bucketOf('d', iv)} AS b, d.ts_ms AS v, count(*) AS c FROM docs d WHERE ${w.sql} AND d.ts_ms IN (${marks}) GROUP BY b, v`
    params = [...w.params, ...top.map((r) => r.v)]
  } else {
    const { from, where } = ctx.scope.side(f.table as 'kw' | 'num' | 'ip', f.id)
    const v = f.table === 'ip' ? 'hex(k.value)' : 'k.value'
    const values = f.table === 'ip' ? top.map((r) => Buffer.from(r.v as string, 'hex')) : top.map((r) => r.v)
    const lowerIn = f.table === 'kw' ? ` AND k.lower IN (${marks})` : ''
    const lowers = f.table === 'kw' ? top.map((r) => (r.v as string).toLowerCase()) : []
    sql = `SELECT ${bucketOf('k', iv)} AS b, ${v} AS v, count(*) AS c FROM ${from} WHERE ${where.sql}${lowerIn} AND k.value IN (${marks}) GROUP BY b, k.value`
    params = [...where.params, ...lowers, ...values]
  }
  for (const r of ctx.db.prepare(sql).all(...params) as { b: number; v: string | number; c: number }[])
    counts.set(`${r.b}\u0000${String(termsKey(f, r.v))}`, r.c)
  return { keys, counts }
}

function metricValues(ctx: Ctx, op: MetricOp, field: string, iv: number): Map<number, number> {
  const f = numericField(ctx, field)
  const expr = {
    min: 'min(k.value)',
    max: 'max(k.value)',
    sum: 'sum(k.value * k.mult)',
    avg: 'sum(k.value * k.mult) * 1.0 / sum(k.mult)',
  }[op]
  const q = numericRows(ctx, f, `${bucketOf('k', iv)} AS b, ${expr} AS m`, 'GROUP BY b')
  const rows = ctx.db.prepare(q.sql).all(...q.params) as { b: number; m: number }[]
  return new Map(rows.map((r) => [r.b, r.m]))
}

// Per bucket, the same computation as the top-level percentiles: every distinct value of the
// bucket with its multiplicity, in order (one grouped scan for all buckets).
function bucketPercentiles(
  ctx: Ctx,
  field: string,
  percents: readonly number[],
  iv: number,
): Map<number, Record<string, number | null>> {
  const f = numericField(ctx, field)
  const q = numericRows(
    ctx,
    f,
    `${bucketOf('k', iv)} AS b, k.value AS v, sum(k.mult) AS m`,
    'GROUP BY b, k.value ORDER BY b, k.value',
  )
  const out = new Map<number, Record<string, number | null>>()
  let key: number | undefined
  let rows: ValueMult[] = []
  const flush = () => {
    if (key !== undefined) out.set(key, percentilesOf(rows, percents))
  }
  for (const r of ctx.db.prepare(q.sql).iterate(...q.params) as Iterable<{ b: number; v: number; m: number }>) {
    if (r.b !== key) {
      flush()
      key = r.b
      rows = []
    }
    rows.push({ v: r.v, m: r.m })
  }
  flush()
  return out
}

// Countries by document count (as terms on client_geo.country_code); each country's point is the
// location of its earliest document (by @timestamp, then event_id) that has one.
function geo(ctx: Ctx, size: number): GeoResult {
  const code = ctx.fields.get('client_geo.country_code')!
  const loc = ctx.fields.get('client_geo.location')!
  const { top } = topValues(ctx, code, size)
  const w = ctx.scope.docWhere
  const first = ctx.db.prepare(
    `SELECT g.lat AS lat, g.lon AS lon FROM docs d
       JOIN kw k ON k.rid = d.rid AND k.fid = ? AND k.lower = ? AND k.value = ?
       JOIN geo g ON g.rid = d.rid AND g.fid = ? AND g.seq = 0
     WHERE ${w.sql} ORDER BY d.ts_ms, d.event_id LIMIT 1`,
  )
  return {
    buckets: top.map((r) => {
      const p = first.get(code.id, (r.v as string).toLowerCase(), r.v, loc.id, ...w.params) as
        { lat: number; lon: number } | undefined
      return { country_code: r.v as string, doc_count: r.c, location: p ? { lat: p.lat, lon: p.lon } : null }
    }),
  }
}
