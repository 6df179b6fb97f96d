// The collector's HTTP side (fastify): JSON API, server-sent events and /metrics.
import Fastify, { type FastifyInstance } from 'fastify'
import type { ServerResponse } from 'node:http'
import { ErrorCode, VigilError, type Logger } from '@vigil/protocol'
import { OPENMETRICS_CONTENT_TYPE } from './metrics.ts'

export interface HttpDeps {
  status(): unknown
  counters(): unknown
  /** Most recent events, newest first, as the JSON text received (amavis number formatting kept). */
  events(limit: number): string[]
  readonly ringCapacity: number
  metrics(): string
  /** Registers an SSE client; returns the unsubscribe function. */
  subscribe(send: (event: string, data: unknown) => void): () => void
  /** Initial payload sent to a new stream client. */
  hello(): unknown
  /** The log pipeline's accounting (produced, queued, in flight, indexed, dead-lettered…). */
  pipeline?(): Promise<unknown>
  /** Per-stage latency summary (stage-latency.ts), for the Live page and amavis-status. */
  stages?(): unknown
}

export function parseListen(listen: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(listen) ?? /^([^:]+):(\d+)$/.exec(listen)
  if (!m) throw new VigilError(ErrorCode.CONFIG_INVALID, `Invalid listen address ${listen}.`)
  return { host: m[1], port: Number(m[2]) }
}

export function buildHttpApp(deps: HttpDeps): FastifyInstance {
  const app = Fastify({ logger: false, forceCloseConnections: true })
  app.get('/api/status', async () => deps.status())
  app.get('/api/counters', async () => deps.counters())
  app.get('/api/pipeline', async (_req, reply) => {
    if (!deps.pipeline) {
      reply.code(404)
      return { error: 'no pipeline' }
    }
    try {
      return await deps.pipeline()
    } catch (err) {
      reply.code(503)
      return { error: `pipeline not available: ${(err as Error).message}` }
    }
  })
  app.get('/api/stages', async (_req, reply) => {
    if (!deps.stages) {
      reply.code(404)
      return { error: 'no stage histograms' }
    }
    return deps.stages()
  })
  app.get('/api/events', async (req, reply) => {
    const q = (req.query as Record<string, string | undefined>).limit
    let limit = 50
    if (q !== undefined) {
      if (!/^\d+$/.test(q) || Number(q) < 1) {
        reply.code(400)
        return { error: 'limit must be a positive integer', code: ErrorCode.CONFIG_INVALID }
      }
      limit = Math.min(Number(q), deps.ringCapacity)
    }
    reply.header('content-type', 'application/json; charset=utf-8')
    return `{"events":[${deps.events(limit).join(',')}]}`
  })
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', OPENMETRICS_CONTENT_TYPE)
    return deps.metrics()
  })
  app.get('/api/stream', (req, reply) => {
    reply.hijack()
    const res: ServerResponse = reply.raw
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    })
    const send = (event: string, data: unknown) => {
      if (!res.writableEnded) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)
    }
    send('hello', deps.hello())
    const unsubscribe = deps.subscribe(send)
    const ping = setInterval(() => {
      if (!res.writableEnded) res.write(': ping\n\n')
    }, 15000)
    const done = () => {
      clearInterval(ping)
      unsubscribe()
    }
    req.raw.on('close', done)
    res.on('close', done)
  })
  return app
}
