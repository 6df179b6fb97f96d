// SearchRequest → the engines' `_search` body, and the answer back. Pure (tested without an engine).
import type { SearchRequest, SearchResponse, SortSpec } from '../../search/api.ts'
import { withTimeRange } from '../../search/compile-dsl.ts'
import { QueryError } from '../../search/query.ts'

const DEFAULT_SORT: readonly SortSpec[] = [{ field: '@timestamp', order: 'desc' }]

/** Sort clauses: the requested keys, then `event_id` in the last key's order (missing values last). */
export function sortClauses(sort: readonly SortSpec[]): Record<string, unknown>[] {
  const keys = sort.length ? sort : DEFAULT_SORT
  const out = keys.map((k) => ({ [k.field]: { order: k.order, missing: '_last' } }))
  const last = keys[keys.length - 1]
  if (last.field !== 'event_id') out.push({ event_id: { order: last.order, missing: '_last' } })
  return out
}

/** The opaque paging token: base64url of the engine's `sort` array of the page's last hit. */
export function encodeSearchAfter(sortValues: readonly unknown[]): string {
  return Buffer.from(JSON.stringify(sortValues)).toString('base64url')
}

/** The sort values in a token; throws QueryError (a 400, as on the embedded store) when it is not one for this sort. */
export function decodeSearchAfter(token: string, keys: number): unknown[] {
  let v: unknown
  try {
    v = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'))
  } catch {
    v = undefined
  }
  if (!Array.isArray(v) || v.length !== keys)
    throw new QueryError('Invalid search_after token for this sort', { start: 0, end: 0 }, '')
  return v
}

/**
 * The `_search` body. One hit more than `size` is asked for, so the answer knows whether a next
 * page exists (the template's max_result_window is 10001 for it).
 */
export function buildSearchBody(req: SearchRequest): Record<string, unknown> {
  const sort = sortClauses(req.sort)
  const body: Record<string, unknown> = {
    query: withTimeRange(req.query, req.fromMs, req.toMs),
    size: req.size > 0 ? req.size + 1 : 0,
    track_total_hits: true,
    sort,
  }
  if (req.searchAfter) body.search_after = decodeSearchAfter(req.searchAfter, sort.length)
  if (req.fields) body._source = req.fields.length ? { includes: [...req.fields] } : false
  return body
}

interface RawHit {
  _source?: Record<string, unknown>
  sort?: unknown[]
}

/** The engine's answer as a SearchResponse (`total` exact: track_total_hits is true). */
export function readSearchResponse(req: SearchRequest, body: any): SearchResponse {
  const raw: RawHit[] = body?.hits?.hits ?? []
  const page = raw.slice(0, req.size)
  const total = typeof body?.hits?.total === 'number' ? body.hits.total : (body?.hits?.total?.value ?? 0)
  const res: { total: number; hits: Record<string, unknown>[]; next?: string } = {
    total,
    hits: page.map((h) => h._source ?? {}),
  }
  if (raw.length > req.size && page.length) res.next = encodeSearchAfter(page[page.length - 1].sort ?? [])
  return res
}
