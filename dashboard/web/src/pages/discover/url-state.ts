// The Discover page's whole state lives in the URL (`#/discover?q=…&from=…&to=…&cols=…&sort=…
// &series=…&split=…&refresh=…`), so a search can be shared, bookmarked or saved. This module is
// pure (no DOM): parse/serialise the state, resolve the time range, quote filter values, and build
// the API requests, so it runs under node:test (dashboard/web/test/discover.test.ts).
//
// URL parameters (all optional):
//   q        Lucene query text (default: empty = every event)
//   from,to  date math `now`, `now-24h` (s m h d w), epoch ms or ISO 8601 (default now-24h … now)
//   cols     comma-separated column ids (COLUMNS below; default DEFAULT_COLS)
//   sort     `<field>:asc|desc` on a sortable field (default @timestamp:desc)
//   series   repeated: one histogram series query each (`series=NOT action:REJECT&series=action:REJECT`)
//   split    a field to stack the histogram by (action, content_type, …)
//   refresh  off | 10s | 30s | 1m (auto-refresh of a relative range)

export interface Column {
  readonly id: string
  readonly label: string
  /** Dotted document path shown in the cell. */
  readonly path: string
  /** Sortable catalogue field (keyword sub-field for text), or undefined. */
  readonly sort?: string
  readonly numeric?: boolean
}

export const COLUMNS: readonly Column[] = [
  { id: 'time', label: 'Time', path: '@timestamp', sort: '@timestamp' },
  { id: 'log_id', label: 'log_id', path: 'log_id', sort: 'log_id' },
  { id: 'country', label: 'Country', path: 'client_geo.country_code', sort: 'client_geo.country_code' },
  { id: 'action', label: 'Action', path: 'action', sort: 'action' },
  { id: 'content_type', label: 'Content', path: 'content_type', sort: 'content_type' },
  { id: 'author', label: 'Author', path: 'author', sort: 'author.keyword' },
  { id: 'mail_from', label: 'Sender', path: 'mail_from', sort: 'mail_from' },
  { id: 'rcpt_to', label: 'Recipients', path: 'rcpt_to', sort: 'rcpt_to' },
  { id: 'subject', label: 'Subject', path: 'subject', sort: 'subject.keyword' },
  { id: 'spam_score', label: 'Spam score', path: 'spam_score', sort: 'spam_score', numeric: true },
  { id: 'size', label: 'Size', path: 'size', sort: 'size', numeric: true },
  { id: 'elapsed', label: 'Elapsed (s)', path: 'elapsed.Total', sort: 'elapsed.Total', numeric: true },
  { id: 'client_ip', label: 'Client IP', path: 'client_ip', sort: 'client_ip' },
  { id: 'mail_id', label: 'mail_id', path: 'mail_id', sort: 'mail_id' },
  { id: 'host', label: 'Host', path: 'host', sort: 'host' },
]
const COLUMN_BY_ID = new Map(COLUMNS.map((c) => [c.id, c]))

export const DEFAULT_COLS = [
  'time',
  'log_id',
  'country',
  'action',
  'content_type',
  'author',
  'rcpt_to',
  'subject',
  'spam_score',
  'size',
  'elapsed',
]

export const REFRESH_OPTIONS = ['off', '10s', '30s', '1m'] as const
export type Refresh = (typeof REFRESH_OPTIONS)[number]
export const REFRESH_MS: Record<Refresh, number> = { off: 0, '10s': 10_000, '30s': 30_000, '1m': 60_000 }

export const PRESETS: readonly { readonly from: string; readonly label: string }[] = [
  { from: 'now-15m', label: 'Last 15 minutes' },
  { from: 'now-1h', label: 'Last hour' },
  { from: 'now-4h', label: 'Last 4 hours' },
  { from: 'now-24h', label: 'Last 24 hours' },
  { from: 'now-7d', label: 'Last 7 days' },
  { from: 'now-30d', label: 'Last 30 days' },
]

/** Fields a histogram can be stacked by. */
export const SPLIT_FIELDS = ['action', 'content_type', 'client_geo.country_code', 'host', 'recipients.action']

export interface SortState {
  readonly field: string
  readonly order: 'asc' | 'desc'
}

export interface DiscoverState {
  readonly q: string
  readonly from: string
  readonly to: string
  readonly cols: readonly string[]
  readonly sort: SortState
  readonly series: readonly string[]
  readonly split: string
  readonly refresh: Refresh
}

export const DEFAULT_STATE: DiscoverState = {
  q: '',
  from: 'now-24h',
  to: 'now',
  cols: DEFAULT_COLS,
  sort: { field: '@timestamp', order: 'desc' },
  series: [],
  split: '',
  refresh: 'off',
}

export function columnById(id: string): Column | undefined {
  return COLUMN_BY_ID.get(id)
}

/** The state a URL's parameters describe; unknown or malformed values fall back to the defaults. */
export function parseState(p: URLSearchParams): DiscoverState {
  const cols = (p.get('cols') ?? '')
    .split(',')
    .filter((c) => COLUMN_BY_ID.has(c))
    .filter((c, i, a) => a.indexOf(c) === i)
  const sortText = p.get('sort') ?? ''
  const m = /^([\w.@]+):(asc|desc)$/.exec(sortText)
  const refresh = p.get('refresh') as Refresh | null
  return {
    q: p.get('q') ?? '',
    from: p.get('from') || DEFAULT_STATE.from,
    to: p.get('to') || DEFAULT_STATE.to,
    cols: cols.length ? cols : DEFAULT_COLS,
    sort: m ? { field: m[1], order: m[2] as 'asc' | 'desc' } : DEFAULT_STATE.sort,
    series: p.getAll('series').filter((s) => s.trim() !== ''),
    split: p.get('split') ?? '',
    refresh: refresh && (REFRESH_OPTIONS as readonly string[]).includes(refresh) ? refresh : 'off',
  }
}

/** URL parameters for a state; defaults are left out so links stay short. */
export function stateToParams(s: DiscoverState): URLSearchParams {
  const p = new URLSearchParams()
  if (s.q) p.set('q', s.q)
  p.set('from', s.from)
  p.set('to', s.to)
  if (s.cols.join(',') !== DEFAULT_COLS.join(',')) p.set('cols', s.cols.join(','))
  if (s.sort.field !== DEFAULT_STATE.sort.field || s.sort.order !== DEFAULT_STATE.sort.order)
    p.set('sort', `${s.sort.field}:${s.sort.order}`)
  for (const q of s.series) p.append('series', q)
  if (s.split) p.set('split', s.split)
  if (s.refresh !== 'off') p.set('refresh', s.refresh)
  return p
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }

/** `now`, `now-24h`, epoch ms or ISO 8601 (the API's grammar) → epoch ms; undefined if malformed. */
export function resolveTime(v: string, nowMs: number): number | undefined {
  const s = v.trim()
  if (/^\d{1,16}$/.test(s)) return Number(s)
  const rel = /^now(?:([+-])(\d+)([smhdw]))?$/.exec(s)
  if (rel) return rel[1] ? nowMs + (rel[1] === '-' ? -1 : 1) * Number(rel[2]) * UNIT_MS[rel[3]] : nowMs
  if (!/^\d{4}-\d{2}-\d{2}/.test(s)) return undefined
  const t = Date.parse(s)
  return Number.isFinite(t) ? t : undefined
}

export function isRelative(s: DiscoverState): boolean {
  return s.from.startsWith('now') || s.to.startsWith('now')
}

/** The range as epoch ms at `nowMs` (from ≤ to), or an error message. */
export function resolveRange(
  s: Pick<DiscoverState, 'from' | 'to'>,
  nowMs: number,
): { fromMs: number; toMs: number } | { error: string } {
  const fromMs = resolveTime(s.from, nowMs)
  const toMs = resolveTime(s.to, nowMs)
  if (fromMs === undefined) return { error: `From: cannot read "${s.from}"` }
  if (toMs === undefined) return { error: `To: cannot read "${s.to}"` }
  if (fromMs > toMs) return { error: 'From is after To' }
  return { fromMs, toMs }
}

/** `2026-06-01 12:34:56.789` (UTC), as the table and the picker show times. */
export function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '')
}

/** A relative range's label (`Last 24 hours`), or `from → to`. */
export function rangeLabel(s: Pick<DiscoverState, 'from' | 'to'>): string {
  const preset = PRESETS.find((p) => p.from === s.from)
  if (preset && s.to === 'now') return preset.label
  const show = (v: string) => (/^\d{1,16}$/.test(v) ? formatTime(Number(v)) : v)
  return `${show(s.from)} → ${show(s.to)}`
}

// ---------------------------------------------------------------------------------------------
// Query text helpers

const BARE_VALUE = /^[A-Za-z0-9_][A-Za-z0-9_.@-]*$/
const RESERVED_WORDS = new Set(['AND', 'OR', 'NOT', 'TO'])

/** A value as a Lucene term: bare when it is a plain word, else a quoted phrase (IPv6, spaces, `:`…). */
export function quoteValue(v: string | number | boolean): string {
  const s = String(v)
  if (typeof v !== 'string') return s
  if (BARE_VALUE.test(s) && !RESERVED_WORDS.has(s) && !s.endsWith('-')) return s
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`
}

/** `field:value`, value quoted as needed. */
export function fieldClause(field: string, value: string | number | boolean): string {
  return `${field}:${quoteValue(value)}`
}

/**
 * The query with `+field:value` (sign '+') or `-field:value` (sign '-') added as a MUST / MUST_NOT
 * clause. A query whose top level is not made only of signed clauses is wrapped as `+(…)` first,
 * so the filter narrows it (Lucene: next to a MUST clause an unsigned one would only score).
 * The opposite clause, if present as written, is removed; the same clause is not added twice.
 */
export function addFilter(q: string, field: string, value: string | number | boolean, sign: '+' | '-'): string {
  const clause = fieldClause(field, value)
  const mine = `${sign}${clause}`
  const other = `${sign === '+' ? '-' : '+'}${clause}`
  let text = q.trim()
  const tokens = splitTopLevel(text)
  if (tokens.includes(mine)) return text
  if (tokens.includes(other)) text = tokens.filter((t) => t !== other).join(' ')
  if (text === '') return mine
  const rest = splitTopLevel(text)
  const allSigned = rest.every((t) => t.startsWith('+') || t.startsWith('-'))
  return allSigned ? `${text} ${mine}` : `+(${text}) ${mine}`
}

/**
 * The top-level clauses of a query split on whitespace outside quotes, parentheses, brackets and
 * braces (`+a:b -c:"d e" +(x OR y)` → three). Operators (AND, OR…) come back as tokens of their own.
 */
export function splitTopLevel(q: string): string[] {
  const out: string[] = []
  let depth = 0
  let quote = false
  let cur = ''
  for (let i = 0; i < q.length; i++) {
    const c = q[i]
    if (c === '\\' && i + 1 < q.length) {
      cur += c + q[++i]
      continue
    }
    if (c === '"') quote = !quote
    else if (!quote && (c === '(' || c === '[' || c === '{')) depth++
    else if (!quote && (c === ')' || c === ']' || c === '}')) depth = Math.max(0, depth - 1)
    if (!quote && depth === 0 && /\s/.test(c)) {
      if (cur) out.push(cur)
      cur = ''
    } else cur += c
  }
  if (cur) out.push(cur)
  return out
}

/** The query of a pivot (`every event with this mail_id`). */
export function pivotQuery(field: 'mail_id' | 'message_id' | 'client_ip', value: string): string {
  return fieldClause(field, value)
}

// ---------------------------------------------------------------------------------------------
// Requests

/** Fields the table always needs beside its columns: row id, pivots, subject reveal. */
export const ROW_FIELDS = ['event_id', 'mail_id', 'message_id', 'client_ip']

export function tableFields(cols: readonly string[]): string[] {
  const paths = cols.map((c) => COLUMN_BY_ID.get(c)?.path).filter((p): p is string => !!p)
  return [...new Set([...ROW_FIELDS, ...paths])]
}

export const PAGE_SIZE = 50

/** GET /api/search parameters for the table (one page). */
export function searchParams(
  s: DiscoverState,
  range: { fromMs: number; toMs: number },
  after?: string,
): Record<string, string> {
  const p: Record<string, string> = {
    q: s.q,
    from: String(range.fromMs),
    to: String(range.toMs),
    size: String(PAGE_SIZE),
    sort: `${s.sort.field}:${s.sort.order}`,
    fields: tableFields(s.cols).join(','),
  }
  if (after) p.search_after = after
  return p
}

export const HISTOGRAM_BUCKETS = 100

/** The histogram aggregation: interval auto, with the series and/or the split. */
export function histogramAgg(s: DiscoverState): Record<string, unknown> {
  const h: Record<string, unknown> = { type: 'date_histogram', interval: 'auto', buckets: HISTOGRAM_BUCKETS }
  if (s.series.length) h.series = s.series.map((q, i) => ({ name: seriesName(i), q }))
  if (s.split) h.split = { field: s.split, size: 6 }
  return { h }
}

export function seriesName(i: number): string {
  return `s${i + 1}`
}

/** Fields the sidebar shows top values of (terms over the whole result). */
export const SIDEBAR_FIELDS = [
  'action',
  'content_type',
  'client_geo.country_code',
  'client_ip',
  'mail_from',
  'rcpt_to',
  'author.keyword',
  'recipients.action',
  'tests',
  'host',
]
export const SIDEBAR_SIZE = 5

export function sidebarAggs(fields: readonly string[] = SIDEBAR_FIELDS): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const f of fields) out[f] = { type: 'terms', field: f, size: SIDEBAR_SIZE }
  return out
}

/** A value at a dotted path of a document; arrays of objects are flattened (`recipients.action`). */
export function getPath(doc: unknown, path: string): unknown {
  let cur: unknown = doc
  for (const k of path.split('.')) {
    if (cur === null || cur === undefined) return undefined
    if (Array.isArray(cur)) {
      const vals = cur.map((x) => (x && typeof x === 'object' ? (x as Record<string, unknown>)[k] : undefined))
      cur = vals.flat().filter((x) => x !== undefined)
    } else if (typeof cur === 'object') cur = (cur as Record<string, unknown>)[k]
    else return undefined
  }
  return cur
}

/** A cell's text: arrays joined, numbers as they are, times formatted (UTC). */
export function cellText(col: Column, doc: Record<string, unknown>): string {
  const v = getPath(doc, col.path)
  if (v === undefined || v === null) return ''
  if (col.id === 'time' && typeof v === 'string') {
    const t = Date.parse(v)
    return Number.isFinite(t) ? formatTime(t) : v
  }
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(', ')
  if (typeof v === 'object') return JSON.stringify(v)
  return String(v)
}
