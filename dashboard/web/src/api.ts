// The one HTTP client of the app: JSON in and out, the CSRF token on every unsafe request, and a
// typed error carrying the server's JSON answer (a query error's position, a 429's retry time…).
// Types of the search API come from the collector itself, so the two cannot drift apart.
export type {
  SearchResponse,
  AggsResponse,
  AggSpec,
  DateHistogramResult,
  TermsResult,
  StatsResult,
  PercentilesResult,
  GeoResult,
} from '../../../collector/src/search/api.ts'

export class ApiError extends Error {
  readonly status: number
  readonly body: Record<string, unknown>
  constructor(status: number, body: Record<string, unknown>) {
    super(typeof body.error === 'string' ? body.error : `HTTP ${status}`)
    this.name = 'ApiError'
    this.status = status
    this.body = body
  }
  /** The query error's character offsets, when the server rejected a Lucene query. */
  get position(): { start: number; end: number } | undefined {
    const p = this.body.position as { start: number; end: number } | undefined
    return p && typeof p.start === 'number' ? p : undefined
  }
}

let csrfToken: string | undefined
/** Set by the session (session.tsx) after login or /api/me. */
export function setCsrfToken(token: string | undefined): void {
  csrfToken = token
}

export type Params = Record<string, string | number | boolean | undefined | null>

function withQuery(path: string, params?: Params): string {
  if (!params) return path
  const qs = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') qs.set(k, String(v))
  const s = qs.toString()
  return s ? `${path}?${s}` : path
}

async function parse(res: Response): Promise<unknown> {
  const text = await res.text()
  let body: unknown = {}
  try {
    body = text ? JSON.parse(text) : {}
  } catch {
    body = { error: text.slice(0, 200) || `HTTP ${res.status}` }
  }
  if (!res.ok) {
    if (res.status === 401) window.dispatchEvent(new Event('vigil:unauthorized'))
    throw new ApiError(res.status, (body ?? {}) as Record<string, unknown>)
  }
  return body
}

export async function apiGet<T>(path: string, params?: Params, signal?: AbortSignal): Promise<T> {
  const res = await fetch(withQuery(path, params), { credentials: 'same-origin', signal })
  return (await parse(res)) as T
}

export async function apiSend<T>(method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {}
  if (body !== undefined) headers['content-type'] = 'application/json'
  if (csrfToken) headers['x-csrf-token'] = csrfToken
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return (await parse(res)) as T
}
