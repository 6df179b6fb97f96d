// Delivery of the per-message JSON events (spec §5.1): to Redis (`RPUSH key json` + `LTRIM key
// -limit -1`, pipelined, exactly as amavis) when storage_redis_dsn is set, otherwise to the
// collector over Vigil's acknowledged DEALER channel (telemetry/acked-sink.ts, ADR 0015). Nothing
// is dropped silently: an event Redis did not take (down, unreachable) is kept (up to the queue
// limit) and retried, spooled to <home>/events-spool/ when the worker stops and sent by the next
// one; an event Redis refuses (a reply error), or that can be neither kept nor spooled, is
// appended to <home>/events-deadletter.ndjson and counted.
import { appendFileSync, mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { createAckedSink } from './acked-sink.ts'
import { openEventSpool } from './spool.ts'
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
  /** Collector channel: events sent again (no acknowledgement in time, or the connection was lost). */
  resent?: number
  /** Collector channel: events written to the spool (window full, or the worker stopped). */
  spooled?: number
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
  /** Collector channel: an event not acknowledged this long after it was sent is sent again. */
  resendMs?: number
  /** Collector channel: the spool directory (default <home>/events-spool). */
  spoolDir?: string
  /** Collector channel: segments in the spool beyond which events are dead-lettered. */
  spoolMaxSegments?: number
  /** Collector channel: how long close() waits for acknowledgements before spooling. */
  closeWaitMs?: number
}

function parseRedisServer(server: string): { host?: string; port?: number; path?: string } {
  if (server.startsWith('/')) return { path: server }
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(server) ?? /^([^:]+):(\d+)$/.exec(server)
  if (m) return { host: m[1], port: Number(m[2]) }
  return { host: server, port: 6379 }
}

export function createEventSink(opts: EventSinkOptions): EventSink {
  const st: EventSinkStats = {
    produced: 0,
    delivered: 0,
    deadLettered: 0,
    queued: 0,
    trimmed: 0,
    resent: 0,
    spooled: 0,
  }
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
    : createAckedSink(opts, st, deadLetterMany)
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
  // Events Redis did not take: retried with a backoff; at close, spooled for the next worker.
  const spool = openEventSpool({ ...opts, home: opts.common.home })
  const retryQ: string[] = []
  let retryTimer: NodeJS.Timeout | undefined
  let backoffMs = 200
  let spoolSeq = 0
  let spooledSome = false
  /** Redis takes events again: send what this worker spooled meanwhile, one segment at a time. */
  const unspool = () => {
    if (!spooledSome || closing || retryQ.length) return
    const seg = spool.claim()
    if (!seg) spooledSome = false
    else for (const [, j] of seg) deliver(j)
  }
  const keep = (json: string, why: string) => {
    if (retryQ.length >= opts.queueLimit) return spoolRest([json])
    retryQ.push(json)
    if (closing || retryTimer) return
    retryTimer = setTimeout(() => {
      retryTimer = undefined
      backoffMs = Math.min(backoffMs * 2, 5000)
      for (const j of retryQ.splice(0)) deliver(j)
    }, backoffMs)
    retryTimer.unref()
  }
  const spoolRest = (jsons: string[]) => {
    if (!jsons.length) return
    const prefix = `redis.${process.pid}.${Date.now().toString(36)}`
    if (spool.write(jsons.map((j) => [`${prefix}.${spoolSeq++}`, j]))) {
      st.spooled = (st.spooled ?? 0) + jsons.length
      spooledSome = true
    } else deadLetterMany(jsons, 'redis did not take it; spool not writable')
  }
  void ready.then(
    () => {
      for (const j of early.splice(0)) deliver(j)
      // what earlier workers left in the spool (Redis was down when they stopped)
      for (let seg = spool.claim(); seg; seg = spool.claim()) for (const [, j] of seg) deliver(j)
    },
    (e: Error) => {
      unavailable = true
      opts.log.error('Redis client could not be loaded; events go to the dead-letter file.', { err: e })
      deadLetterMany(early.splice(0), 'redis client unavailable')
    },
  )
  let idle: (() => void) | undefined
  const deliver = (json: string): void => {
    if (closing) return spoolRest([json])
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
        backoffMs = 200
        unspool()
      })
      .catch((e: Error) => {
        // A reply error (WRONGTYPE, OOM…) will not pass on a retry; a connection problem may.
        if (e.name === 'ReplyError') deadLetter(json, `redis: ${e.message}`)
        else keep(json, `redis: ${e.message}`)
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
    stats: () => ({ ...st, queued: pending + retryQ.length }),
    close() {
      closing ??= (async () => {
        await ready.catch(() => undefined)
        if (retryTimer) clearTimeout(retryTimer)
        spoolRest(early.splice(0))
        if (pending > 0) await new Promise<void>((r) => ((idle = r), setTimeout(r, 3000).unref()))
        spoolRest(retryQ.splice(0))
        client?.disconnect()
        client = undefined
      })()
      return closing
    },
  }
}
