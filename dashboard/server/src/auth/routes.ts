// Users and security of the dashboard's HTTP side: sessions (@fastify/session on the SQLite store),
// CSRF (@fastify/csrf-protection, header `x-csrf-token`), login rate limiting (@fastify/rate-limit,
// failed logins per client address and per user name), roles, and the routes
//   GET /api/me, POST /api/login, POST /api/logout                      (anyone / the session)
//   GET|POST|DELETE /api/saved-searches[/:id]                           (the session's user)
//   GET|POST /api/users, DELETE /api/users/:name, POST /api/users/:name/password   (admin only)
// Every other /api route, /metrics and /api/stream need a session (401 JSON otherwise); every
// unsafe method needs the session's CSRF token (403); the static app shell is public.
import fastifyCookie from '@fastify/cookie'
import fastifyCsrf from '@fastify/csrf-protection'
import fastifyRateLimit from '@fastify/rate-limit'
import fastifySession from '@fastify/session'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { randomBytes } from 'node:crypto'
import type { Logger } from '@vigil/protocol'
import type { DashboardConfig } from '../config.ts'
import { createSessionStore } from './session-store.ts'
import { checkRole, UserError, type Role, type User, type UserStore } from './users.ts'

declare module 'fastify' {
  interface Session {
    /** The logged-in user's name (the role is read from the user store on every request). */
    user?: string
  }
  interface FastifyRequest {
    /** The logged-in user, set by the auth hook on /api routes and /metrics. */
    user?: User
  }
}

export const SESSION_COOKIE = 'vigil_session'
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
/** Reachable without a session: the login, the session check (answers 401 itself). */
const PUBLIC_API = new Set(['/api/login', '/api/me'])

const pathOf = (req: FastifyRequest) => req.url.split('?')[0]
const needsSession = (path: string) =>
  (path.startsWith('/api/') || path === '/api' || path === '/metrics') && !PUBLIC_API.has(path)
const isAdminPath = (path: string) => path === '/api/users' || path.startsWith('/api/users/')

export interface AuthContext {
  /** Whether this request's user receives subjects as they are (else rot13, subjects.ts). */
  rawSubjects(req: FastifyRequest): boolean
}

function sessionSecret(users: UserStore): string {
  const db = users.db
  const row = db.prepare("SELECT value FROM meta WHERE key = 'session_secret'").get() as { value: string } | undefined
  if (row) return row.value
  const secret = randomBytes(32).toString('base64url')
  db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES ('session_secret', ?)").run(secret)
  return (db.prepare("SELECT value FROM meta WHERE key = 'session_secret'").get() as { value: string }).value
}

function fail(reply: FastifyReply, status: number, error: string, code: string, extra: Record<string, unknown> = {}) {
  reply.code(status)
  return reply.send({ error, code, ...extra })
}

export async function registerAuth(
  app: FastifyInstance,
  cfg: DashboardConfig,
  users: UserStore,
  log: Logger,
): Promise<AuthContext> {
  const idleMs = cfg.auth.session_idle_mins * 60_000
  const rawSubjects = (u: User | undefined) => !!u && (u.role === 'admin' || cfg.viewer_subjects === 'raw')
  const meBody = (req: FastifyRequest, reply: FastifyReply, u: User) => ({
    user: { name: u.name, role: u.role },
    csrf: reply.generateCsrf(),
    raw_subjects: rawSubjects(u),
  })

  await app.register(fastifyCookie)
  await app.register(fastifySession, {
    secret: sessionSecret(users),
    cookieName: SESSION_COOKIE,
    store: createSessionStore(users.db, idleMs),
    saveUninitialized: false,
    rolling: true,
    // Explicit secure and sameSite: 'auto' would silently downgrade sameSite to lax over HTTP.
    cookie: { path: '/', httpOnly: true, sameSite: 'strict', secure: cfg.auth.cookie_secure, maxAge: idleMs },
  })
  await app.register(fastifyCsrf, {
    sessionPlugin: '@fastify/session',
    getToken: (req: FastifyRequest) => {
      const t = req.headers['x-csrf-token']
      return typeof t === 'string' ? t : undefined
    },
  })
  await app.register(fastifyRateLimit, { global: false })
  const limit = { max: cfg.auth.login_max_failures, timeWindow: cfg.auth.login_window_secs * 1000 }
  const byIp = app.createRateLimit({ ...limit, keyGenerator: (req) => `ip:${req.ip}` })
  const byName = app.createRateLimit({
    ...limit,
    keyGenerator: (req) => `name:${String((req.body as { name?: unknown } | undefined)?.name ?? '').toLowerCase()}`,
  })

  // Session, role and CSRF checks, before any route's handler (after the session plugin's hook).
  app.addHook('onRequest', (req, reply, done) => {
    const path = pathOf(req)
    if (needsSession(path) || PUBLIC_API.has(path)) {
      const name = req.session.user
      const u = name ? users.get(name) : undefined
      if (u) req.user = u
      else if (needsSession(path)) {
        reply.header('cache-control', 'no-store')
        return void fail(reply, 401, 'Not logged in.', 'UNAUTHORIZED')
      }
      if (u && isAdminPath(path) && u.role !== 'admin')
        return void fail(reply, 403, 'Only an admin may do this.', 'FORBIDDEN')
    }
    if (UNSAFE.has(req.method) && path !== '/api/login') {
      // Answers 403 "Invalid csrf token" (JSON) when the header is missing or wrong.
      return app.csrfProtection(req, reply, done)
    }
    done()
  })

  app.get('/api/me', async (req, reply) => {
    reply.header('cache-control', 'no-store')
    if (!req.user) return fail(reply, 401, 'Not logged in.', 'UNAUTHORIZED')
    return meBody(req, reply, req.user)
  })

  app.post('/api/login', async (req, reply) => {
    reply.header('cache-control', 'no-store')
    const body = (req.body ?? {}) as { name?: unknown; password?: unknown }
    if (typeof body.name !== 'string' || typeof body.password !== 'string' || !body.name || body.password.length > 1024)
      return fail(reply, 400, 'Expected JSON {name, password}.', 'BAD_REQUEST')
    for (const l of [byIp, byName]) {
      const r = await l(req, { increment: false })
      if (!r.isAllowed && r.remaining <= 0 && r.ttlInSeconds > 0) {
        reply.header('retry-after', String(r.ttlInSeconds))
        log.warn('Dashboard login refused: too many failed attempts.', { user: body.name, ip: req.ip })
        return fail(reply, 429, `Too many failed logins; try again in ${r.ttlInSeconds} s.`, 'RATE_LIMITED', {
          retry_after_secs: r.ttlInSeconds,
        })
      }
    }
    const u = await users.verify(body.name, body.password)
    if (!u) {
      await byIp(req)
      await byName(req)
      log.warn('Dashboard login failed.', { user: body.name, ip: req.ip })
      return fail(reply, 401, 'Wrong user name or password.', 'UNAUTHORIZED')
    }
    // A new session id at login (no fixation), then the user and a fresh CSRF secret in it.
    await req.session.regenerate()
    req.session.user = u.name
    log.info('Dashboard login.', { user: u.name, role: u.role, ip: req.ip })
    return meBody(req, reply, u)
  })

  app.post('/api/logout', async (req) => {
    await req.session.destroy()
    return { ok: true }
  })

  // --- saved searches (per user) -------------------------------------------------------------
  const db = users.db
  app.get('/api/saved-searches', async (req) => ({
    searches: db
      .prepare('SELECT id, name, hash, created_ms FROM saved_searches WHERE user = ? ORDER BY created_ms, id')
      .all(req.user!.name),
  }))
  app.post('/api/saved-searches', async (req, reply) => {
    const b = (req.body ?? {}) as { name?: unknown; hash?: unknown }
    if (typeof b.name !== 'string' || !b.name.trim() || b.name.length > 200)
      return fail(reply, 400, 'name: a non-empty string of at most 200 characters.', 'BAD_REQUEST')
    if (typeof b.hash !== 'string' || !b.hash.startsWith('#/') || b.hash.length > 8000)
      return fail(
        reply,
        400,
        'hash: the page URL fragment, starting with "#/" (at most 8000 characters).',
        'BAD_REQUEST',
      )
    const saved = {
      id: randomBytes(9).toString('base64url'),
      name: b.name.trim(),
      hash: b.hash,
      created_ms: Date.now(),
    }
    db.prepare('INSERT INTO saved_searches (id, user, name, hash, created_ms) VALUES (?, ?, ?, ?, ?)').run(
      saved.id,
      req.user!.name,
      saved.name,
      saved.hash,
      saved.created_ms,
    )
    reply.code(201)
    return saved
  })
  app.delete<{ Params: { id: string } }>('/api/saved-searches/:id', async (req, reply) => {
    const n = db
      .prepare('DELETE FROM saved_searches WHERE id = ? AND user = ?')
      .run(req.params.id, req.user!.name).changes
    if (!n) return fail(reply, 404, 'No such saved search.', 'NOT_FOUND')
    return { ok: true }
  })

  // --- user management (admin only; the hook answers 403 to others) ----------------------------
  const userError = (reply: FastifyReply, err: unknown) => {
    if (err instanceof UserError)
      return fail(
        reply,
        /exists already/.test(err.message) ? 409 : /^No user/.test(err.message) ? 404 : 400,
        err.message,
        'BAD_REQUEST',
      )
    throw err
  }
  app.get('/api/users', async () => ({ users: users.list() }))
  app.post('/api/users', async (req, reply) => {
    const b = (req.body ?? {}) as { name?: unknown; role?: unknown; password?: unknown }
    if (typeof b.name !== 'string' || typeof b.role !== 'string' || typeof b.password !== 'string')
      return fail(reply, 400, 'Expected JSON {name, role, password}.', 'BAD_REQUEST')
    try {
      checkRole(b.role)
      const u = await users.add(b.name, b.role as Role, b.password)
      log.info('Dashboard user added.', { user: u.name, role: u.role, by: req.user!.name })
      reply.code(201)
      return u
    } catch (err) {
      return userError(reply, err)
    }
  })
  app.delete<{ Params: { name: string } }>('/api/users/:name', async (req, reply) => {
    const name = req.params.name
    if (name === req.user!.name) return fail(reply, 400, 'You cannot delete yourself.', 'BAD_REQUEST')
    if (!users.remove(name)) return fail(reply, 404, `No user '${name}'.`, 'NOT_FOUND')
    log.info('Dashboard user deleted.', { user: name, by: req.user!.name })
    return { ok: true }
  })
  app.post<{ Params: { name: string } }>('/api/users/:name/password', async (req, reply) => {
    const b = (req.body ?? {}) as { password?: unknown }
    if (typeof b.password !== 'string') return fail(reply, 400, 'Expected JSON {password}.', 'BAD_REQUEST')
    try {
      await users.setPassword(req.params.name, b.password)
    } catch (err) {
      return userError(reply, err)
    }
    log.info('Dashboard password reset.', { user: req.params.name, by: req.user!.name })
    return { ok: true }
  })

  return { rawSubjects: (req) => rawSubjects(req.user) }
}
