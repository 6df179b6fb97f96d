// The dashboard server: serves the web app (dashboard/web) and relays the collector's JSON API,
// its server-sent-event stream, /metrics and the search API (Lucene queries, aggregations) to the
// browser under one origin.
import Fastify, { type FastifyInstance } from 'fastify'
import { readFile, readdir } from 'node:fs/promises'
import { join, sep } from 'node:path'
import { Readable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { ErrorCode, VigilError, type CommonConfig, type Logger } from '@vigil/protocol'
import type { DashboardConfig } from './config.ts'
import { newNonce, securityHeaders, withNonce } from './auth/csp.ts'
import { registerAuth } from './auth/routes.ts'
import {
  createSseSubjectRewriter,
  rotAggKeys,
  rotSubjects,
  SubjectQueryError,
  viewerSearchParams,
} from './auth/subjects.ts'
import { createUserStore, type UserStore } from './auth/users.ts'
import { generatePassword } from './auth/password.ts'

const DIST_DIR = fileURLToPath(new URL('../../web/dist/', import.meta.url))
const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  json: 'application/json',
  png: 'image/png',
  woff2: 'font/woff2',
}

/** Every file of the built app (dashboard/web/dist, made by scripts/build-web.sh), by URL path. */
async function loadBuiltApp(dir = DIST_DIR): Promise<Map<string, Buffer>> {
  if (!dir.endsWith('/')) dir += '/'
  const files = new Map<string, Buffer>()
  let names: string[]
  try {
    names = (await readdir(dir, { recursive: true, withFileTypes: true }))
      .filter((d) => d.isFile())
      .map((d) => join(d.parentPath, d.name).slice(dir.length))
  } catch {
    throw new VigilError(
      ErrorCode.CONFIG_INVALID,
      `The dashboard is not built (${dir} is missing): run \`npm run build:web\` (npm start does it).`,
    )
  }
  for (const n of names) files.set('/' + n.split(sep).join('/'), await readFile(join(dir, n)))
  return files
}

export interface Dashboard {
  start(): Promise<void>
  stop(): Promise<void>
  describe(): string[]
  /** The bound address once started, e.g. `127.0.0.1:23235`. */
  readonly address: string | undefined
}

function splitHostPort(s: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(s) ?? /^([^:]+):(\d+)$/.exec(s)
  if (!m) throw new VigilError(ErrorCode.CONFIG_INVALID, `Invalid listen address ${s}.`)
  return { host: m[1], port: Number(m[2]) }
}

declare module 'fastify' {
  interface FastifyRequest {
    /** This answer's CSP style nonce (auth/csp.ts). */
    cspNonce: string
  }
}

/**
 * Builds the fastify app (no listening); exported for inject() tests. `users` is the user store
 * (auth/users.ts), whose database also holds sessions and saved searches; the caller closes it.
 */
export async function buildDashboardApp(cfg: DashboardConfig, log: Logger, users: UserStore): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, forceCloseConnections: true })
  const files = await loadBuiltApp(cfg.web_dir)
  const upstream = `http://${cfg.collector_http}`
  app.decorateRequest('cspNonce', '')
  app.addHook('onRequest', (req, reply, done) => {
    req.cspNonce = newNonce()
    reply.headers(securityHeaders(req.cspNonce))
    done()
  })
  const auth = await registerAuth(app, cfg, users, log)
  const sendFile = (path: string, req: import('fastify').FastifyRequest, reply: import('fastify').FastifyReply) => {
    reply.header('content-type', TYPES[path.split('.').pop()!] ?? 'application/octet-stream')
    // Hashed asset names never change content; index.html is always revalidated (and carries
    // this answer's CSP nonce).
    reply.header('cache-control', path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache')
    if (path === '/index.html') return reply.send(withNonce(files.get(path)!.toString('utf8'), req.cspNonce))
    return reply.send(files.get(path))
  }
  app.get('/', (req, reply) => sendFile('/index.html', req, reply))
  app.get('/*', (req, reply) => {
    const path = req.url.split('?')[0]
    if (files.has(path)) return sendFile(path, req, reply)
    reply.code(404)
    return reply.send({ error: `no such file ${path}` })
  })
  app.get('/favicon.ico', async (_req, reply) => reply.redirect('/favicon.svg'))

  // Relays a GET to the collector; an unreachable collector is a 502 with a JSON reason, never a hang.
  // For a user without raw subjects (`rewrite`), JSON answers get their subjects in rot13 and the
  // SSE stream is rewritten line by line (auth/subjects.ts): such a user never receives a raw one.
  type Rewrite = ((body: unknown) => unknown) | undefined
  const relay = async (path: string, reply: import('fastify').FastifyReply, stream = false, rewrite?: Rewrite) => {
    const ctl = new AbortController()
    const timer = stream ? undefined : setTimeout(() => ctl.abort(), cfg.upstream_timeout_secs * 1000)
    try {
      const res = await fetch(upstream + path, { signal: ctl.signal })
      reply.code(res.status)
      const ct = res.headers.get('content-type')
      if (ct) reply.header('content-type', ct)
      if (stream && res.body) {
        reply.header('cache-control', 'no-cache')
        let body: Readable = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream)
        reply.raw.on('close', () => ctl.abort())
        body.on('error', () => {})
        if (rewrite) {
          const rw = createSseSubjectRewriter()
          const src = body
          body = Readable.from(
            (async function* () {
              const dec = new TextDecoder()
              for await (const chunk of src) {
                const out = rw.push(dec.decode(chunk as Uint8Array, { stream: true }))
                if (out) yield out
              }
              const rest = rw.end()
              if (rest) yield rest
            })(),
          )
          body.on('error', () => {})
        }
        return reply.send(body)
      }
      const buf = Buffer.from(await res.arrayBuffer())
      if (!rewrite) return reply.send(buf)
      let json: unknown
      try {
        json = JSON.parse(buf.toString('utf8'))
      } catch {
        reply.code(502)
        return reply.send({
          error: 'the collector answered something that is not JSON',
          code: ErrorCode.EVENT_DELIVERY,
        })
      }
      reply.header('content-type', 'application/json; charset=utf-8')
      return reply.send(JSON.stringify(rewrite(json)))
    } catch (err) {
      log.warn('Collector unreachable; request answered 502.', { path, err })
      reply.code(502)
      return reply.send({ error: `collector at ${cfg.collector_http} unreachable`, code: ErrorCode.EVENT_DELIVERY })
    } finally {
      if (timer) clearTimeout(timer)
    }
  }
  const rot = (req: import('fastify').FastifyRequest): Rewrite => (auth.rawSubjects(req) ? undefined : rotSubjects)
  // The JSON API, the search API (Lucene queries, aggregations) and the pipeline accounting.
  for (const path of [
    '/api/status',
    '/api/counters',
    '/api/events',
    '/api/search',
    '/api/search/aggs',
    '/api/search/fields',
    '/api/pipeline',
    '/api/history',
    '/api/stages',
  ])
    app.get(path, (req, reply) => {
      let params = new URLSearchParams(req.query as Record<string, string>)
      let rewrite = rot(req)
      if (rewrite && (path === '/api/search' || path === '/api/search/aggs')) {
        try {
          params = viewerSearchParams(path, params)
        } catch (err) {
          if (!(err instanceof SubjectQueryError)) throw err
          reply.code(400)
          return reply.send({ error: err.message, code: 'QUERY_INVALID', param: 'q' })
        }
        if (path === '/api/search/aggs') {
          const p = params
          rewrite = (b) => rotAggKeys(b, p)
        }
      }
      const q = params.toString()
      return relay(path + (q ? `?${q}` : ''), reply, false, rewrite)
    })
  app.get('/api/stream', (req, reply) => relay('/api/stream', reply, true, rot(req)))
  app.get('/metrics', (req, reply) => relay('/metrics', reply))
  return app
}

/**
 * On the first start (no user at all) creates the user `admin` with a generated password, stored
 * hashed, and logs that password once; returns it (undefined when users exist).
 */
export async function ensureFirstAdmin(users: UserStore, log: Logger): Promise<string | undefined> {
  if (users.count() > 0) return undefined
  const password = generatePassword()
  await users.add('admin', 'admin', password)
  log.warn(
    `FIRST START: created the dashboard user "admin" with the password ${password} (shown only this once; ` +
      'change it with `vigil user passwd admin`, add users with `vigil user add NAME --role admin|viewer`).',
  )
  return password
}

export function createDashboard(common: CommonConfig, cfg: DashboardConfig, deps: { log: Logger }): Dashboard {
  let app: FastifyInstance | undefined
  let users: UserStore | undefined
  let address: string | undefined
  return {
    get address() {
      return address
    },
    async start() {
      users = createUserStore(common.home, { scryptLogN: cfg.auth.scrypt_log_n })
      try {
        await ensureFirstAdmin(users, deps.log)
        app = await buildDashboardApp(cfg, deps.log, users)
        const { host, port } = splitHostPort(cfg.listen)
        await app.listen({ host, port })
      } catch (err) {
        await app?.close()
        app = undefined
        users.close()
        users = undefined
        throw err
      }
      const a = app.server.address()
      address =
        a && typeof a === 'object'
          ? a.family === 'IPv6'
            ? `[${a.address}]:${a.port}`
            : `${a.address}:${a.port}`
          : cfg.listen
      deps.log.info('Dashboard listening.', { url: `http://${address}/`, collector: cfg.collector_http })
    },
    async stop() {
      await app?.close()
      app = undefined
      users?.close()
      users = undefined
    },
    describe() {
      return [`dashboard: http://${address ?? cfg.listen}/ (collector API at http://${cfg.collector_http})`]
    },
  }
}
