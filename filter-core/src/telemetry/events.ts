// Delivery of the per-message JSON events (spec §5.1): to Redis (`RPUSH key json` + `LTRIM key
// -limit -1`, pipelined, exactly as amavis) when storage_redis_dsn is set, otherwise to the
// collector over Vigil's PUSH channel. Nothing is dropped silently: an event that cannot be
// delivered (Redis down, collector away and the bounded queue full, shutdown with a backlog) is
// appended to <home>/events-deadletter.ndjson and counted.
import { appendFileSync, mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { Push } from 'zeromq'
import { createZmtpPusher, zmtpSupports } from './zmtp.ts'
import type { Redis } from 'ioredis'
import type { CommonConfig, Logger } from '@vigil/protocol'

export interface EventSinkStats {
  /** Events handed to deliver(): the "produced" side of the pipeline's accounting. */
  produced: number
  delivered: number
  deadLettered: number
  queued: number
  /** Events the Redis LTRIM pushed out of the list (oldest), as far as the list length tells. */
  trimmed: number
}

export interface EventSink {
  deliver(json: string): void
  stats(): EventSinkStats
  close(): Promise<void>
}

export interface EventSinkOptions {
  common: CommonConfig
  eventsEndpoint: string
  deadLetterPath: string
  queueLimit: number
  log: Logger
  /** Collector channel only: events are handed over in bursts at most this many ms apart (0: at once). */
  batchMs?: number
  /** Collector channel only: 'zmtp' (default) writes ZMTP from JS, one write per burst; 'libzmq' a zeromq.js PUSH. */
  transport?: 'zmtp' | 'libzmq'
}

function parseRedisServer(server: string): { host?: string; port?: number; path?: string } {
  if (server.startsWith('/')) return { path: server }
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(server) ?? /^([^:]+):(\d+)$/.exec(server)
  if (m) return { host: m[1], port: Number(m[2]) }
  return { host: server, port: 6379 }
}

export function createEventSink(opts: EventSinkOptions): EventSink {
  const st: EventSinkStats = { produced: 0, delivered: 0, deadLettered: 0, queued: 0, trimmed: 0 }
  // One warning per reason and 10 s, with the count since the last one (not one line per event).
  const lastWarn = new Map<string, { at: number; count: number; msg: string }>()
  const warn = (why: string, n: number, msg = 'Events not delivered; written to the dead-letter file.') => {
    const w = lastWarn.get(why) ?? { at: 0, count: 0, msg }
    w.count += n
    const now = Date.now()
    if (now - w.at >= 10_000) {
      opts.log.warn(msg, { reason: why, count: w.count, file: opts.deadLetterPath })
      w.at = now
      w.count = 0
    }
    lastWarn.set(why, w)
  }
  const deadLetterMany = (jsons: string[], why: string) => {
    if (!jsons.length) return
    try {
      mkdirSync(dirname(opts.deadLetterPath), { recursive: true })
      appendFileSync(opts.deadLetterPath, jsons.join('\n') + '\n')
      st.deadLettered += jsons.length
      warn(why, jsons.length)
    } catch (e) {
      opts.log.error('Events lost: dead-letter file not writable.', {
        err: e as Error,
        file: opts.deadLetterPath,
        count: jsons.length,
      })
    }
  }
  const deadLetter = (json: string, why: string) => deadLetterMany([json], why)
  const flushWarnings = () => {
    for (const [why, w] of lastWarn)
      if (w.count) opts.log.warn(w.msg, { reason: why, count: w.count, file: opts.deadLetterPath })
    lastWarn.clear()
  }
  const sink = opts.common.storage_redis_dsn.length
    ? createRedisSink(opts, st, deadLetter, deadLetterMany, (n) =>
        warn(
          'redis list over redis_logging_queue_size_limit',
          n,
          'Oldest events trimmed from the Redis list (LTRIM), as amavis does.',
        ),
      )
    : createPushSink(opts, st, deadLetter, deadLetterMany)
  return {
    ...sink,
    deliver(json) {
      st.produced++
      sink.deliver(json)
    },
    async close() {
      await sink.close()
      flushWarnings()
    },
  }
}

function createRedisSink(
  opts: EventSinkOptions,
  st: EventSinkStats,
  deadLetter: (j: string, why: string) => void,
  deadLetterMany: (j: string[], why: string) => void,
  onTrimmed: (n: number) => void,
): EventSink {
  const dsns = opts.common.storage_redis_dsn
  const key = opts.common.redis_logging_key
  const limit = opts.common.redis_logging_queue_size_limit
  let idx = 0
  let client: Redis | undefined
  let RedisCtor: typeof import('ioredis').Redis | undefined
  let pending = 0
  let closing: Promise<void> | undefined
  const connectTo = (i: number) => {
    const d = dsns[i]
    const s = parseRedisServer(d.server)
    const c = new RedisCtor!({
      ...(s.path ? { path: s.path } : { host: s.host, port: s.port }),
      db: d.db_id,
      password: d.password,
      connectionName: `amavis[${process.pid}]`,
      lazyConnect: false,
      enableOfflineQueue: true,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      retryStrategy: (times) => Math.min(times * 200, 2000),
    })
    c.on('error', () => {})
    return c
  }
  // ioredis is loaded only when Redis logging is configured (it costs ~12 MB per worker).
  const ready = import('ioredis').then((m) => {
    RedisCtor = m.Redis
    if (!closing) client = connectTo(0)
  })
  const early: string[] = []
  let unavailable = false
  void ready.then(
    () => {
      for (const j of early.splice(0)) deliver(j)
    },
    (e: Error) => {
      unavailable = true
      opts.log.error('Redis client could not be loaded; events go to the dead-letter file.', { err: e })
      deadLetterMany(early.splice(0), 'redis client unavailable')
    },
  )
  let idle: (() => void) | undefined
  const deliver = (json: string): void => {
    if (closing) return deadLetter(json, 'shutting down')
    if (unavailable) return deadLetter(json, 'redis client unavailable')
    if (!client) {
      early.push(json)
      return
    }
    pending++
    const c = client
    c.pipeline()
      .rpush(key, json)
      .ltrim(key, -limit, -1)
      .exec()
      .then((res) => {
        const err = res?.find((r) => r[0])?.[0]
        if (err) throw err
        const len = Number(res?.[0]?.[1] ?? 0)
        if (len > limit) {
          st.trimmed += len - limit
          onTrimmed(len - limit)
        }
        st.delivered++
      })
      .catch((e: Error) => {
        deadLetter(json, `redis: ${e.message}`)
        // Fail over to the next DSN for later events, as amavis tries the next server.
        if (dsns.length > 1 && c === client) {
          idx = (idx + 1) % dsns.length
          client.disconnect()
          client = connectTo(idx)
        }
      })
      .finally(() => {
        pending--
        if (pending === 0) idle?.()
      })
  }
  return {
    deliver,
    stats: () => ({ ...st, queued: pending }),
    close() {
      closing ??= (async () => {
        await ready.catch(() => undefined)
        deadLetterMany(early.splice(0), 'shutting down')
        if (pending > 0) await new Promise<void>((r) => ((idle = r), setTimeout(r, 3000).unref()))
        client?.disconnect()
        client = undefined
      })()
      return closing
    },
  }
}

/** How the collector channel hands events over: `take` returns how many of them it took, in order. */
interface EventChannel {
  take(events: string[]): number | Promise<number>
  close(): Promise<void>
}

/** ZMTP written from JS: a burst of events is one socket write. */
function zmtpChannel(endpoint: string): EventChannel {
  const push = createZmtpPusher({ endpoints: [endpoint] })
  return { take: (events) => push.push(events), close: () => push.close(200) }
}

/** A libzmq PUSH (IMMEDIATE: a send fails at once while no collector is connected). */
function libzmqChannel(endpoint: string): EventChannel {
  const push = new Push({ immediate: true, sendTimeout: 0, sendHighWaterMark: 1000, linger: 500 })
  if (/:[0-9a-f]*:/i.test(endpoint)) push.ipv6 = true
  push.connect(endpoint)
  return {
    async take(events) {
      let n = 0
      for (const e of events) {
        try {
          await push.send(e)
        } catch {
          break
        }
        n++
      }
      return n
    },
    async close() {
      push.linger = 200
      push.close()
    },
  }
}

function createPushSink(
  opts: EventSinkOptions,
  st: EventSinkStats,
  deadLetter: (j: string, why: string) => void,
  deadLetterMany: (j: string[], why: string) => void,
): EventSink {
  const channel =
    (opts.transport ?? 'zmtp') === 'zmtp' && zmtpSupports(opts.eventsEndpoint)
      ? zmtpChannel(opts.eventsEndpoint)
      : libzmqChannel(opts.eventsEndpoint)
  const queue: string[] = []
  let pumping = false
  let retry: NodeJS.Timeout | undefined
  let batch: NodeJS.Timeout | undefined
  let closed = false
  const batchMs = opts.batchMs ?? 0
  const pump = async () => {
    if (pumping || closed) return
    pumping = true
    try {
      // Handed over in pieces of at most 256 events, so one write stays bounded.
      while (queue.length && !closed) {
        const n = await channel.take(queue.slice(0, 256))
        queue.splice(0, n)
        st.delivered += n
        if (!n) {
          // No collector connected (or its queue is full): keep the events, try again shortly.
          if (!retry && !closed) retry = setTimeout(() => ((retry = undefined), void pump()), 200)
          break
        }
      }
    } finally {
      pumping = false
    }
  }
  return {
    deliver(json) {
      if (closed) return deadLetter(json, 'shutting down')
      if (queue.length >= opts.queueLimit) return deadLetter(json, 'event queue full; collector away')
      queue.push(json)
      if (batchMs <= 0) return void pump()
      if (!batch && !retry) {
        batch = setTimeout(() => ((batch = undefined), void pump()), batchMs)
        batch.unref()
      }
    },
    stats: () => ({ ...st, queued: queue.length }),
    async close() {
      if (closed) return
      // Try for a short while to hand over the backlog, then dead-letter what is left.
      const until = Date.now() + 500
      while (queue.length && Date.now() < until) {
        await pump()
        if (queue.length) await new Promise((r) => setTimeout(r, 50))
      }
      closed = true
      if (retry) clearTimeout(retry)
      if (batch) clearTimeout(batch)
      deadLetterMany(queue.splice(0), 'collector away at shutdown')
      await channel.close()
    },
  }
}
