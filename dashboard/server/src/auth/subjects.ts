// Subjects for users without raw subjects (viewers under `dashboard.viewer_subjects: rot13`): the
// server, not the browser, replaces subject text by its rot13 in every relayed answer that carries
// event text, so such a user never receives a raw subject:
//   - /api/search hits, /api/events, /api/status and any other JSON answer: every property named
//     `subject` (or `subject.keyword`), at any depth, string or array of strings (rotSubjects);
//   - /api/search/aggs: bucket keys of terms aggregations and histogram splits on a subject field
//     (rotAggKeys);
//   - /api/stream (SSE): each `data:` line's JSON, as above (createSseSubjectRewriter).
// `subject_rot13` is left as it is (it already is the rot13 text).
// Queries: what such a user sees and copies of a subject is its rot13, so in their queries the
// subject fields speak rot13 too: `subject:uryyb`, `subject.keyword:"Uryyb"` are run as
// `subject_rot13:…` (viewerQuery). Unqualified terms still search the raw subject among the
// default fields (accepted: rot13 hides text from the eye, it is no secret; what such a user can
// learn by probing they can read from the rot13 text they already have).
import { rot13 } from '@vigil/protocol'
import { parseQuery } from '@vigil/collector/search/lucene.ts'
import type { Query } from '@vigil/collector/search/query.ts'

const SUBJECT_KEYS = new Set(['subject', 'subject.keyword'])
export const isSubjectField = (f: unknown): boolean => typeof f === 'string' && SUBJECT_KEYS.has(f)

/** A copy of a JSON value with every `subject` property's text in rot13. */
export function rotSubjects(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(rotSubjects)
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, x] of Object.entries(v)) {
      if (SUBJECT_KEYS.has(k)) out[k] = rotValue(x)
      else out[k] = rotSubjects(x)
    }
    return out
  }
  return v
}
function rotValue(x: unknown): unknown {
  if (typeof x === 'string') return rot13(x)
  if (Array.isArray(x)) return x.map(rotValue)
  if (x && typeof x === 'object') return rotSubjects(x)
  return x
}

type AggSpecLike = { type?: unknown; field?: unknown; split?: { field?: unknown } }

/**
 * The aggregation specs of a /api/search/aggs request (the `aggs` JSON and the shorthand
 * parameters, named as the collector names them).
 */
function aggSpecs(params: URLSearchParams): Record<string, AggSpecLike> {
  const specs: Record<string, AggSpecLike> = {}
  const text = params.get('aggs')
  if (text)
    try {
      const v = JSON.parse(text)
      if (v && typeof v === 'object' && !Array.isArray(v)) Object.assign(specs, v)
    } catch {
      // the collector answers 400
    }
  for (const f of (params.get('terms') ?? '').split(',').filter(Boolean))
    specs[`terms:${f}`] = { type: 'terms', field: f }
  return specs
}

/** An aggregations answer with the keys of subject-field buckets in rot13. */
export function rotAggKeys(body: unknown, params: URLSearchParams): unknown {
  const b = rotSubjects(body) as { aggs?: Record<string, unknown> }
  if (!b || typeof b !== 'object' || !b.aggs) return b
  const specs = aggSpecs(params)
  for (const [name, spec] of Object.entries(specs)) {
    const res = b.aggs[name] as { buckets?: { key?: unknown; split?: Record<string, number> }[] } | undefined
    if (!res || !Array.isArray(res.buckets) || !spec || typeof spec !== 'object') continue
    if (spec.type === 'terms' && isSubjectField(spec.field))
      for (const bucket of res.buckets) if (typeof bucket.key === 'string') bucket.key = rot13(bucket.key)
    if (spec.type === 'date_histogram' && isSubjectField(spec.split?.field))
      for (const bucket of res.buckets)
        if (bucket.split) bucket.split = Object.fromEntries(Object.entries(bucket.split).map(([k, n]) => [rot13(k), n]))
  }
  return b
}

/** A query on the subject fields of someone who sees subjects in rot13 could not be rewritten. */
export class SubjectQueryError extends Error {}

function mapFields(q: Query, f: (field: string) => string): unknown {
  if (q.kind === 'bool')
    return {
      ...q,
      must: q.must.map((x) => mapFields(x, f)),
      should: q.should.map((x) => mapFields(x, f)),
      mustNot: q.mustNot.map((x) => mapFields(x, f)),
    }
  if ('field' in q && typeof q.field === 'string') return { ...q, field: f(q.field) }
  return q
}
function fieldsOf(q: Query, out = new Set<string>()): Set<string> {
  if (q.kind === 'bool') for (const x of [...q.must, ...q.should, ...q.mustNot]) fieldsOf(x, out)
  else if ('field' in q && typeof q.field === 'string') out.add(q.field)
  return out
}
const withoutSpans = (v: unknown): string => JSON.stringify(v, (k, x) => (k === 'span' ? undefined : x))
const toRot = (f: string) => (f === 'subject' ? 'subject_rot13' : f === 'subject.keyword' ? 'subject_rot13.keyword' : f)

/**
 * The query as run for someone who sees subjects in rot13: subject fields become subject_rot13.
 * Unchanged when it names no subject field or does not parse (the collector then reports the
 * error at the user's own positions). Throws SubjectQueryError when the rewrite is ambiguous.
 */
export function viewerQuery(q: string, nowMs = Date.now()): string {
  let before: Query
  try {
    before = parseQuery(q, nowMs)
  } catch {
    return q
  }
  if (![...fieldsOf(before)].some((f) => SUBJECT_KEYS.has(f))) return q
  const rewritten = q
    .replace(
      /(^|[^\w.\\])subject(\.keyword)?(?=\s*:)/g,
      (_m, pre: string, kw: string | undefined) => `${pre}subject_rot13${kw ?? ''}`,
    )
    .replace(
      /(_exists_\s*:\s*)subject(\.keyword)?(?![\w.])/g,
      (_m, pre: string, kw: string | undefined) => `${pre}subject_rot13${kw ?? ''}`,
    )
  let after: Query | undefined
  try {
    after = parseQuery(rewritten, nowMs)
  } catch {
    after = undefined
  }
  if (!after || withoutSpans(mapFields(before, toRot)) !== withoutSpans(after))
    throw new SubjectQueryError(
      'Subjects are shown to you in rot13 only; this query names a subject field in a way that cannot be ' +
        'rewritten to subject_rot13. Search subject_rot13 with the rot13 text instead (e.g. subject_rot13:uryyb).',
    )
  return rewritten
}

/** The query parameters of a search/aggs request as run for someone who sees subjects in rot13. */
export function viewerSearchParams(path: string, params: URLSearchParams): URLSearchParams {
  const out = new URLSearchParams(params)
  const now = Date.now()
  const q = out.get('q')
  if (q) out.set('q', viewerQuery(q, now))
  const sort = out.get('sort')
  if (sort)
    out.set(
      'sort',
      sort
        .split(',')
        .map((s) => {
          const [f, ...rest] = s.split(':')
          return [toRot(f), ...rest].join(':')
        })
        .join(','),
    )
  if (path === '/api/search/aggs') {
    const aggs = out.get('aggs')
    if (aggs) {
      let v: unknown
      try {
        v = JSON.parse(aggs)
      } catch {
        return out
      }
      if (v && typeof v === 'object' && !Array.isArray(v)) {
        for (const spec of Object.values(v as Record<string, { series?: { q?: unknown }[] }>))
          if (spec && Array.isArray(spec.series))
            for (const s of spec.series) if (s && typeof s.q === 'string') s.q = viewerQuery(s.q, now)
        out.set('aggs', JSON.stringify(v))
      }
    }
  }
  return out
}

/**
 * A line-wise rewriter of an SSE stream: `data:` lines carry JSON whose subjects are turned to
 * rot13; a data line that is not JSON is dropped (never passed on unread). Other lines pass.
 */
export function createSseSubjectRewriter(): { push(chunk: string): string; end(): string } {
  let buf = ''
  const line = (l: string): string | undefined => {
    if (!l.startsWith('data:')) return l
    const text = l.slice(5).replace(/^ /, '')
    try {
      return `data: ${JSON.stringify(rotSubjects(JSON.parse(text)))}`
    } catch {
      return undefined
    }
  }
  const flush = (lines: string[]) =>
    lines
      .map(line)
      .filter((l) => l !== undefined)
      .map((l) => l + '\n')
      .join('')
  return {
    push(chunk) {
      buf += chunk
      const parts = buf.split(/\r?\n/)
      buf = parts.pop()!
      return flush(parts)
    },
    end() {
      const rest = buf
      buf = ''
      return rest ? flush([rest]) : ''
    },
  }
}
