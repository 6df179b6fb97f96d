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

/** Builds the fastify app (no listening); exported for inject() tests. */
export async function buildDashboardApp(cfg: DashboardConfig, log: Logger): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, forceCloseConnections: true })
  const files = await loadBuiltApp(cfg.web_dir)
  const upstream = `http://${cfg.collector_http}`
  const sendFile = (path: string, reply: import('fastify').FastifyReply) => {
    reply.header('content-type', TYPES[path.split('.').pop()!] ?? 'application/octet-stream')
    // Hashed asset names never change content; index.html is always revalidated.
    reply.header('cache-control', path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache')
    return reply.send(files.get(path))
  }
  app.get('/', (_req, reply) => sendFile('/index.html', reply))
  app.get('/*', (req, reply) => {
    const path = req.url.split('?')[0]
    if (files.has(path)) return sendFile(path, reply)
    reply.code(404)
    return reply.send({ error: `no such file ${path}` })
  })
  app.get('/favicon.ico', async (_req, reply) => reply.redirect('/favicon.svg'))

  // Relays a GET to the collector; an unreachable collector is a 502 with a JSON reason, never a hang.
  const relay = async (path: string, reply: import('fastify').FastifyReply, stream = false) => {
    const ctl = new AbortController()
    const timer = stream ? undefined : setTimeout(() => ctl.abort(), cfg.upstream_timeout_secs * 1000)
    try {
      const res = await fetch(upstream + path, { signal: ctl.signal })
      reply.code(res.status)
      const ct = res.headers.get('content-type')
      if (ct) reply.header('content-type', ct)
      if (stream && res.body) {
        reply.header('cache-control', 'no-cache')
        const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream)
        reply.raw.on('close', () => ctl.abort())
        body.on('error', () => {})
        return reply.send(body)
      }
      return reply.send(Buffer.from(await res.arrayBuffer()))
    } catch (err) {
      log.warn('Collector unreachable; request answered 502.', { path, err })
      reply.code(502)
      return reply.send({ error: `collector at ${cfg.collector_http} unreachable`, code: ErrorCode.EVENT_DELIVERY })
    } finally {
      if (timer) clearTimeout(timer)
    }
  }
  app.get('/api/status', (req, reply) => relay('/api/status', reply))
  app.get('/api/counters', (req, reply) => relay('/api/counters', reply))
  app.get('/api/events', (req, reply) => {
    const q = new URLSearchParams(req.query as Record<string, string>).toString()
    return relay('/api/events' + (q ? `?${q}` : ''), reply)
  })
  // The search API (Lucene queries, aggregations) and the pipeline accounting, relayed as they are.
  for (const path of ['/api/search', '/api/search/aggs', '/api/search/fields', '/api/pipeline', '/api/history'])
    app.get(path, (req, reply) => {
      const q = new URLSearchParams(req.query as Record<string, string>).toString()
      return relay(path + (q ? `?${q}` : ''), reply)
    })
  app.get('/api/stream', (req, reply) => relay('/api/stream', reply, true))
  app.get('/metrics', (req, reply) => relay('/metrics', reply))
  return app
}

export function createDashboard(_common: CommonConfig, cfg: DashboardConfig, deps: { log: Logger }): Dashboard {
  let app: FastifyInstance | undefined
  let address: string | undefined
  return {
    get address() {
      return address
    },
    async start() {
      app = await buildDashboardApp(cfg, deps.log)
      const { host, port } = splitHostPort(cfg.listen)
      await app.listen({ host, port })
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
    },
    describe() {
      return [`dashboard: http://${address ?? cfg.listen}/ (collector API at http://${cfg.collector_http})`]
    },
  }
}
