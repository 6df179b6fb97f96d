// search(): exact total, sorted hits with the event_id tie-breaker, search_after paging and
// `fields` projection, with the engines' sort semantics: a multi-valued field sorts by its
// minimum ascending and its maximum descending, documents without the field come last in both
// orders (ES `missing: _last`).
import type Database from 'better-sqlite3'
import { isAggregatable } from '../../search/fields.ts'
import { QueryError } from '../../search/query.ts'
import type { SearchRequest, SearchResponse, SortSpec } from '../../search/api.ts'
import { and, compileQueryIn, type SqlFragment } from './compile-sql.ts'
import type { StoredField } from './schema.ts'

interface SortKey {
  readonly expr: string
  readonly desc: boolean
  /** Docs columns are never NULL: no missing-last term, and the first key can seek the index. */
  readonly nullable: boolean
}

const MAX_SIZE = 10000

/** Runs a search request; throws QueryError for an invalid query, sort field or token. */
export function runSearch(
  db: Database.Database,
  fields: ReadonlyMap<string, StoredField>,
  req: SearchRequest,
): SearchResponse {
  const where = and([compileQueryIn(req.query, { fields }, req.fromMs, req.toMs), timeRange(req.fromMs, req.toMs)])
  const total = (
    db.prepare(`SELECT count(*) AS n FROM docs d WHERE ${where.sql}`).get(...where.params) as { n: number }
  ).n
  const size = Math.max(0, Math.min(MAX_SIZE, Math.trunc(req.size)))
  if (size === 0) return { total, hits: [] }
  const keys = sortKeys(req.sort, fields)
  const after = req.searchAfter === undefined ? undefined : afterCondition(keys, decodeToken(req.searchAfter, keys))
  const full = after ? and([where, after]) : where
  const order = keys.map((k) => `${k.nullable ? `(${k.expr}) IS NULL, ` : ''}${k.expr} ${k.desc ? 'DESC' : 'ASC'}`)
  const cols = keys.map((k, i) => `${k.expr} AS s${i}`).join(', ')
  const sql = `SELECT d.doc AS doc, ${cols} FROM docs d WHERE ${full.sql} ORDER BY ${order.join(', ')} LIMIT ?`
  const rows = db.prepare(sql).all(...full.params, size + 1) as Record<string, unknown>[]
  const page = rows.slice(0, size)
  const hits = page.map((r) => {
    const doc = JSON.parse(r.doc as string) as Record<string, unknown>
    return req.fields ? projectSource(doc, req.fields) : doc
  })
  const res: SearchResponse = { total, hits }
  if (rows.length > size) {
    const last = page[page.length - 1]
    return { ...res, next: encodeToken(keys.map((_, i) => last[`s${i}`] as string | number | null)) }
  }
  return res
}

export function timeRange(fromMs?: number, toMs?: number): SqlFragment {
  const conds: string[] = []
  const params: unknown[] = []
  if (fromMs !== undefined) {
    conds.push('d.ts_ms >= ?')
    params.push(Math.trunc(fromMs))
  }
  if (toMs !== undefined) {
    conds.push('d.ts_ms <= ?')
    params.push(Math.trunc(toMs))
  }
  return conds.length ? { sql: conds.join(' AND '), params } : { sql: '1', params: [] }
}

function sortKeys(sort: readonly SortSpec[], fields: ReadonlyMap<string, StoredField>): SortKey[] {
  const specs = sort.length ? sort : [{ field: '@timestamp', order: 'desc' as const }]
  const keys = specs.map((s) => sortKey(s, fields))
  keys.push({ expr: 'd.event_id', desc: specs[specs.length - 1].order === 'desc', nullable: false })
  return keys
}

function sortKey(s: SortSpec, fields: ReadonlyMap<string, StoredField>): SortKey {
  const desc = s.order === 'desc'
  if (s.field === '@timestamp') return { expr: 'd.ts_ms', desc, nullable: false }
  if (s.field === 'event_id') return { expr: 'd.event_id', desc, nullable: false }
  const f = fields.get(s.field)
  if (!f || !isAggregatable(s.field))
    throw new QueryError(`Cannot sort on field "${s.field}"`, { start: 0, end: 0 }, '')
  const agg = desc ? 'max' : 'min'
  const value = f.table === 'ip' ? `hex(${agg}(value))` : `${agg}(value)`
  return { expr: `(SELECT ${value} FROM ${f.table} WHERE rid = d.rid AND fid = ${f.id})`, desc, nullable: true }
}

// Rows strictly after the last hit in sort order; NULL (missing) sorts after every value.
function afterCondition(keys: readonly SortKey[], values: readonly (string | number | null)[]): SqlFragment {
  const build = (i: number): SqlFragment => {
    if (i === keys.length) return { sql: '0', params: [] }
    const k = keys[i]
    const v = values[i]
    const rest = build(i + 1)
    if (v === null) return { sql: `((${k.expr}) IS NULL AND (${rest.sql}))`, params: rest.params }
    const op = k.desc ? '<' : '>'
    const missing = k.nullable ? ` OR (${k.expr}) IS NULL` : ''
    return {
      sql: `(${k.expr} ${op} ?${missing} OR (${k.expr} = ? AND (${rest.sql})))`,
      params: [v, v, ...rest.params],
    }
  }
  const cond = build(0)
  const first = keys[0]
  // A redundant bound on the first key lets SQLite seek the docs_ts index instead of scanning.
  if (!first.nullable && values[0] !== null)
    return { sql: `${first.expr} ${first.desc ? '<=' : '>='} ? AND ${cond.sql}`, params: [values[0], ...cond.params] }
  return cond
}

function encodeToken(values: readonly (string | number | null)[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url')
}

function decodeToken(token: string, keys: readonly SortKey[]): (string | number | null)[] {
  try {
    const v = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown
    if (
      Array.isArray(v) &&
      v.length === keys.length &&
      v.every((x) => x === null || typeof x === 'string' || typeof x === 'number')
    )
      return v
  } catch {
    // falls through to the error below
  }
  throw new QueryError('Invalid search_after token for this sort', { start: 0, end: 0 }, '')
}

/**
 * The document reduced to the given dotted paths, as the engines' `_source` includes do: the
 * structure is kept (`recipients.action` gives `{recipients: [{action}, …]}`).
 */
export function projectSource(doc: Record<string, unknown>, paths: readonly string[]): Record<string, unknown> {
  interface Node {
    leaf: boolean
    children: Map<string, Node>
  }
  const root: Node = { leaf: false, children: new Map() }
  for (const p of paths) {
    let n = root
    for (const seg of p.split('.')) {
      let c = n.children.get(seg)
      if (!c) n.children.set(seg, (c = { leaf: false, children: new Map() }))
      n = c
    }
    n.leaf = true
  }
  const pick = (v: unknown, n: Node): unknown => {
    if (n.leaf) return v
    if (Array.isArray(v)) return v.map((x) => pick(x, n)).filter((x) => x !== undefined)
    if (!v || typeof v !== 'object') return undefined
    const out: Record<string, unknown> = {}
    for (const [k, c] of n.children) {
      if (!(k in (v as object))) continue
      const picked = pick((v as Record<string, unknown>)[k], c)
      if (picked !== undefined) out[k] = picked
    }
    return Object.keys(out).length ? out : undefined
  }
  return (pick(doc, root) as Record<string, unknown> | undefined) ?? {}
}
