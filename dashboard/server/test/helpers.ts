// Helpers of the dashboard server tests: the built web app, and a logged-in HTTP client
// (session cookie + CSRF token).
import { webDir } from '../../../test/e2e/dashboard/stack.ts'

/**
 * A built web app for the tests: $VIGIL_DASHBOARD_WEB_DIR when set, else the e2e stack's webDir()
 * (dashboard/web/dist when fresh, else a cached build of the current sources in $TMPDIR).
 */
export function buildWeb(): Promise<string> {
  const dir = process.env.VIGIL_DASHBOARD_WEB_DIR
  return dir ? Promise.resolve(dir) : webDir()
}

export interface Me {
  user: { name: string; role: 'admin' | 'viewer' }
  csrf: string
  raw_subjects: boolean
}

export interface Client {
  readonly me: Me
  readonly cookie: string
  get(path: string, init?: RequestInit): Promise<Response>
  send(method: 'POST' | 'DELETE', path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>
}

/** Logs in over HTTP; throws unless the answer is 200. */
export async function login(base: string, name: string, password: string): Promise<Client> {
  const res = await fetch(`${base}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, password }),
  })
  if (res.status !== 200) throw new Error(`login ${name}: HTTP ${res.status} ${await res.text()}`)
  const cookie = res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ')
  const me = (await res.json()) as Me
  return {
    me,
    cookie,
    get: (path, init = {}) => fetch(base + path, { ...init, headers: { ...(init.headers ?? {}), cookie } }),
    send: (method, path, body, headers = {}) =>
      fetch(base + path, {
        method,
        headers: {
          cookie,
          'x-csrf-token': me.csrf,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
  }
}
