// The shipper: drains the amavis Redis list into a Backend with an acknowledgement (issue #10,
// Deliver 1). One loop, one batch in flight at a time:
//   1. take: move the list's head atomically onto <key>:inflight:<id> (or, when that list is not
//      empty — a crash, a takeover — send its items again first);
//   2. fill: a short batch waits up to batch_wait_ms for more items;
//   3. prepare each item (parse, @timestamp, id, enrichment) or dead-letter it with a reason;
//   4. bulk in requests of at most batch_max_bytes; 'ok' is done, 'reject' is dead-lettered,
//      'retry' is sent again with exponential backoff, and so is the whole remainder when the
//      backend is unavailable (for ever: nothing is dead-lettered for an outage). No new item is
//      taken meanwhile: that is the back-pressure;
//   5. ack: trim the batch off the in-flight list and push its dead letters, in one script.
// A heartbeat timer keeps <key>:shipper:<id> alive; between batches the loop adopts the in-flight
// lists of registered peers whose heartbeat expired.
import { appendFile, mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'
import { hostname } from 'node:os'
import type { Logger } from '@vigil/protocol'
import { BackendUnavailableError, type Backend, type IndexDoc, type ItemResult } from '../backends/backend.ts'
import type { ShipperConfig } from '../config.ts'
import { createStatsCounters, toQueueStatus, type QueueStatus, type ShipperStats } from './accounting.ts'
import { itemHash } from './doc-id.ts'
import { createPreparer, type DeadReasonClass, type EnrichFn } from './prepare.ts'
import { createRedisQueue, type RedisTarget } from './redis-queue.ts'

export type { QueueStatus, ShipperStats } from './accounting.ts'

export interface ShipperOptions {
  readonly redis: RedisTarget
  /** redis_logging_key (amavis default `amavis-log`). */
  readonly key: string
  /** Unique among the shippers of this list (shipper.id, default myhostname). */
  readonly id: string
  readonly backend: Backend
  readonly cfg: ShipperConfig
  readonly indexPrefix: string
  readonly deadLetterFile: string
  /** The Enricher of collector/src/enrich/ (an object with enrich(doc), or the bare function). */
  readonly enrich?: EnrichFn | { enrich(doc: Record<string, unknown>): void }
  readonly log: Logger
  /** Confirmed documents, as they are confirmed (the collector's live ring and stream). */
  readonly onIndexed?: (docs: ShippedDoc[]) => void
  /** stop(): longest wait for the current batch to resolve before leaving it in flight (default 10 s). */
  readonly stopTimeoutMs?: number
  /** Items larger than this are dead-lettered as oversize (default 16 MiB). */
  readonly maxItemBytes?: number
  readonly now?: () => number
}

/** A confirmed document with the item text it came from. */
export type ShippedDoc = IndexDoc & { readonly raw: string }

export interface Shipper {
  start(): Promise<void>
  stop(): Promise<void>
  stats(): ShipperStats
  queueStatus(): Promise<QueueStatus>
}

/**
 * Item codes retried for ever, like an unavailable backend: capacity and availability, not the
 * item's fault (429 too many requests; 503 shard unavailable; 507 the embedded store's size cap,
 * where events must stay queued). Other 5xx are dead-lettered after max_item_attempts.
 */
const RETRY_FOR_EVER = new Set([429, 503, 507])

/** Dead-letter item text kept in the record; the rest is cut and `truncated` set. */
const DEAD_ITEM_MAX_BYTES = 256 * 1024

interface Pending {
  readonly raw: Buffer
  doc: IndexDoc
  attempts: number
}

interface DeadLetter {
  readonly raw: Buffer
  readonly reasonClass: DeadReasonClass
  readonly reason: string
  readonly code: number
}

interface Batch {
  items: Buffer[]
  readonly redelivered: boolean
  readonly takenAt: number
}

/** Thrown inside the loop when stop()'s deadline passed with the batch unresolved. */
class StopDeadline extends Error {}

export function createShipper(o: ShipperOptions): Shipper {
  const { cfg, log, backend } = o
  const now = o.now ?? Date.now
  const stopTimeoutMs = o.stopTimeoutMs ?? 10_000
  const queue = createRedisQueue(o.redis, o.key, o.id, cfg.dead_letter_key)
  const st = createStatsCounters(o.id, o.key, now)
  const enrichFn: EnrichFn | undefined =
    typeof o.enrich === 'function'
      ? o.enrich
      : o.enrich
        ? (d) => (o.enrich as { enrich: EnrichFn }).enrich(d)
        : undefined
  const prepare = createPreparer({
    indexPrefix: o.indexPrefix,
    enrich: enrichFn,
    maxItemBytes: o.maxItemBytes,
    onEnrichError: (err) => {
      st.c.enrichErrors++
      if (st.c.enrichErrors === 1) log.warn('Enrichment failed; events are indexed without client_geo.', { err })
    },
  })
  const heartbeatMs = Math.max(500, Math.floor((cfg.orphan_after_secs * 1000) / 3))
  const idleMaxMs = Math.min(1000, Math.max(10, cfg.batch_wait_ms))
  const fillPollMs = Math.max(5, Math.floor(cfg.batch_wait_ms / 10))

  let stopping = false
  let stopDeadline = Infinity
  let wake: (() => void) | undefined
  let loop: Promise<void> | undefined
  let heartbeatTimer: NodeJS.Timeout | undefined
  let takeoverDue = true
  let unresolved = false // a batch was left in flight at stop

  /** Sleeps ms, or less when stop() is called; throws StopDeadline once stop's deadline passed. */
  const pause = async (ms: number) => {
    if (!stopping || now() < stopDeadline) {
      const until = Math.min(ms, stopping ? stopDeadline - now() : ms)
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, Math.max(0, until))
        function done() {
          clearTimeout(t)
          if (wake === done) wake = undefined
          resolve()
        }
        wake = done
      })
    }
    if (stopping && now() >= stopDeadline) throw new StopDeadline('stop deadline')
  }
  const backoff = (round: number) => Math.min(cfg.retry_max_ms, cfg.retry_min_ms * 2 ** Math.max(0, round - 1))

  const redisFailed = (err: unknown, what: string) => {
    st.error('redis', err)
    if (st.state.redisUp) log.warn('Redis unavailable; the shipper retries.', { what, err })
    st.state.redisUp = false
  }
  const redisOk = () => {
    if (!st.state.redisUp) log.info('Redis reachable again.')
    st.state.redisUp = true
  }
  /** A Redis call retried with backoff until it succeeds or stop's deadline passes. */
  const persist = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    for (let round = 1; ; round++) {
      try {
        const v = await fn()
        redisOk()
        return v
      } catch (err) {
        redisFailed(err, what)
        await pause(backoff(round))
      }
    }
  }

  const beat = async () => {
    try {
      await queue.heartbeat(
        cfg.orphan_after_secs * 1000,
        JSON.stringify({ host: hostname(), pid: process.pid, at: new Date(now()).toISOString() }),
      )
      redisOk()
    } catch (err) {
      redisFailed(err, 'heartbeat')
    }
    takeoverDue = true
  }

  const adoptOrphans = async () => {
    const adopted = await queue.takeOver()
    takeoverDue = false
    for (const { peer, items } of adopted) {
      st.c.takenOver += items
      log.warn('Took over the in-flight list of a shipper presumed dead; its items are sent again.', { peer, items })
    }
  }

  /** Takes a batch (redelivered items first) and fills a short one for up to batch_wait_ms. */
  const collect = async (): Promise<Batch | null> => {
    const first = await queue.take(cfg.batch_max_events, cfg.batch_max_bytes)
    if (first.items.length === 0) return null
    const batch: Batch = { items: first.items, redelivered: first.redelivered, takenAt: now() }
    st.state.inFlight = batch.items.length
    st.state.inFlightSince = batch.takenAt
    if (first.redelivered) {
      st.c.redelivered += batch.items.length
      log.info('Sending in-flight items again (crash, takeover or unfinished stop).', {
        items: batch.items.length,
        in_flight_list: first.inflightLength,
      })
      return batch
    }
    st.c.taken += batch.items.length
    let bytes = batch.items.reduce((a, b) => a + b.length, 0)
    const deadline = batch.takenAt + cfg.batch_wait_ms
    // Items left in the list after a move mean the batch is full (by count or by bytes): send it.
    let full = first.queuedAfter > 0
    while (!stopping && !full && batch.items.length < cfg.batch_max_events && bytes < cfg.batch_max_bytes) {
      const left = deadline - now()
      if (left <= 0) break
      await pause(Math.min(fillPollMs, left))
      let more
      try {
        more = await queue.fill(cfg.batch_max_events - batch.items.length, cfg.batch_max_bytes - bytes)
      } catch (err) {
        // The fill may or may not have run: the in-flight list is the truth, read it back.
        redisFailed(err, 'fill')
        batch.items = await persist('read in-flight', () => queue.readInflight())
        st.state.inFlight = batch.items.length
        break
      }
      st.c.taken += more.items.length
      full = more.queuedAfter > 0
      batch.items.push(...more.items)
      bytes += more.items.reduce((a, b) => a + b.length, 0)
      st.state.inFlight = batch.items.length
      if (more.inflightLength !== batch.items.length) {
        // Only this loop writes to the list, so this means a peer took it over while we were
        // presumed dead: resynchronise on what is really in flight.
        batch.items = await persist('read in-flight', () => queue.readInflight())
        st.state.inFlight = batch.items.length
        break
      }
    }
    return batch
  }

  /** Requests of at most batch_max_bytes of JSON (a larger single document goes alone). */
  const chunks = (items: Pending[]): Pending[][] => {
    const out: Pending[][] = []
    let cur: Pending[] = []
    let bytes = 0
    for (const p of items) {
      const len = Buffer.byteLength(p.doc.json)
      if (cur.length && bytes + len > cfg.batch_max_bytes) {
        out.push(cur)
        cur = []
        bytes = 0
      }
      cur.push(p)
      bytes += len
    }
    if (cur.length) out.push(cur)
    return out
  }

  const backendDown = (err: unknown) => {
    st.error('backend', err)
    if (st.state.backendUp) log.warn('Backend unavailable; events stay in flight and queued.', { err })
    st.state.backendUp = false
  }

  const notifyIndexed = (ok: Pending[]) => {
    if (!o.onIndexed) return
    try {
      o.onIndexed(ok.map((p) => ({ ...p.doc, raw: p.raw.toString('utf8') })))
    } catch (err) {
      log.error('onIndexed callback failed (the documents are stored).', { err })
    }
  }

  /** Sends the prepared items until each is confirmed or dead-lettered; returns the confirmed count. */
  const resolve = async (pending: Pending[], dead: DeadLetter[]): Promise<number> => {
    let indexed = 0
    for (let round = 1; pending.length; round++) {
      const again: Pending[] = []
      const parts = chunks(pending)
      for (let i = 0; i < parts.length; i++) {
        const part = parts[i]
        let results: ItemResult[]
        try {
          st.c.bulkRequests++
          results = await backend.bulk(part.map((p) => p.doc))
        } catch (err) {
          // BackendUnavailableError, or anything else the backend threw: nothing is known to be
          // stored, so the rest of the batch is retried whole, for ever.
          if (!(err instanceof BackendUnavailableError))
            log.error('Backend bulk failed unexpectedly; retrying as if unavailable.', { err })
          backendDown(err)
          for (const rest of parts.slice(i)) again.push(...rest)
          break
        }
        if (!st.state.backendUp) log.info('Backend reachable again.')
        st.state.backendUp = true
        const ok: Pending[] = []
        part.forEach((p, j) => {
          const r: ItemResult = results[j] ?? { status: 'retry', code: 0, reason: 'no result for this item' }
          if (r.status === 'ok') ok.push(p)
          else if (r.status === 'reject' && p.doc.verbatim) {
            // The producer's text may hold a key twice (the engines reject it, JSON.parse folds
            // it): sent once more as the parsed document serialised, dead-lettered if that fails.
            p.doc = { ...p.doc, json: JSON.stringify(p.doc.doc), verbatim: undefined }
            st.c.retried++
            again.push(p)
          } else if (r.status === 'reject')
            dead.push({ raw: p.raw, reasonClass: 'rejected', reason: `rejected: ${r.reason}`, code: r.code })
          else {
            p.attempts++
            st.c.retried++
            if (r.code >= 500 && r.code < 600 && !RETRY_FOR_EVER.has(r.code) && p.attempts >= cfg.max_item_attempts)
              dead.push({
                raw: p.raw,
                reasonClass: 'retries_exhausted',
                reason: `retries exhausted (${p.attempts} attempts): ${r.reason}`,
                code: r.code,
              })
            else again.push(p)
          }
        })
        indexed += ok.length
        if (ok.length) notifyIndexed(ok)
      }
      pending = again
      if (pending.length) await pause(backoff(round))
    }
    return indexed
  }

  const deadRecord = (d: DeadLetter): string => {
    const truncated = d.raw.length > DEAD_ITEM_MAX_BYTES
    return JSON.stringify({
      at: new Date(now()).toISOString(),
      shipper: o.id,
      reason: d.reason,
      reason_class: d.reasonClass,
      code: d.code,
      item_id: itemHash(d.raw),
      bytes: d.raw.length,
      ...(truncated ? { truncated: true } : {}),
      item: (truncated ? d.raw.subarray(0, DEAD_ITEM_MAX_BYTES) : d.raw).toString('utf8'),
    })
  }

  // The file first, then the Redis ack: a crash in between repeats a line in the file, never
  // loses one; the Redis list gets each dead letter exactly once (pushed in the ack script).
  const writeDeadFile = async (lines: string[]) => {
    if (!lines.length || !o.deadLetterFile) return
    try {
      await mkdir(dirname(o.deadLetterFile), { recursive: true })
      await appendFile(o.deadLetterFile, lines.join('\n') + '\n')
    } catch (err) {
      st.c.deadLetterFileErrors++
      log.error('Dead-letter file not writable; the dead letters are in the Redis list only.', {
        err,
        file: o.deadLetterFile,
      })
    }
  }

  const ship = async (batch: Batch) => {
    const dead: DeadLetter[] = []
    const pending: Pending[] = []
    for (const raw of batch.items) {
      const p = prepare(raw)
      if (p.ok) pending.push({ raw, doc: p.doc, attempts: 0 })
      else dead.push({ raw, reasonClass: p.reasonClass, reason: p.reason, code: 0 })
    }
    const indexed = await resolve(pending, dead)
    const lines = dead.map(deadRecord)
    await writeDeadFile(lines)
    const acked = await persist('ack', () => queue.ack(batch.items.length, indexed, lines))
    st.c.batches++
    if (acked) st.c.indexed += indexed
    if (!acked) {
      // The peer that adopted the list sends, dead-letters and counts these items itself.
      st.c.acksLostToTakeover++
      log.warn('In-flight list was taken over by a peer before the ack (this shipper was presumed dead).', {
        items: batch.items.length,
      })
      return
    }
    for (const d of dead) st.deadLettered(d.reasonClass)
    if (dead.length)
      log.warn('Events dead-lettered.', {
        count: dead.length,
        first_reason: dead[0].reason,
        list: queue.keys.dead,
        file: o.deadLetterFile,
      })
  }

  const measureBacklog = async () => {
    try {
      const q = toQueueStatus(o.key, await queue.snapshot(), now())
      st.state.backlogAtStart = q.queued + q.inFlight
    } catch {
      // Redis not reachable yet: measured at the next try.
    }
  }

  const run = async () => {
    let idle = 0
    while (!stopping) {
      let batch: Batch | null = null
      try {
        if (st.state.backlogAtStart === null) await measureBacklog()
        if (takeoverDue) await adoptOrphans()
        batch = await collect()
        redisOk()
      } catch (err) {
        if (err instanceof StopDeadline) break
        redisFailed(err, 'take')
        try {
          await pause(backoff(++idle))
        } catch {
          break
        }
        continue
      }
      if (!batch) {
        st.state.inFlight = 0
        st.state.inFlightSince = null
        idle = Math.min(idle + 1, 20)
        try {
          await pause(Math.min(idleMaxMs, 5 * 2 ** (idle - 1)))
        } catch {
          break
        }
        continue
      }
      idle = 0
      try {
        await ship(batch)
        st.state.inFlight = 0
        st.state.inFlightSince = null
      } catch (err) {
        if (!(err instanceof StopDeadline)) throw err
        unresolved = true
        log.warn('Stopped with a batch unresolved; its items stay in flight and are sent again first.', {
          items: batch.items.length,
        })
        break
      }
    }
  }

  return {
    async start() {
      if (loop) return
      await beat()
      heartbeatTimer = setInterval(() => void beat(), heartbeatMs)
      heartbeatTimer.unref()
      log.info('Shipper started.', {
        id: o.id,
        key: o.key,
        in_flight_list: queue.keys.inflight,
        dead_letters: queue.keys.dead,
        backend: backend.kind,
      })
      loop = run().catch((err) => {
        log.error('Shipper loop failed.', { err })
      })
    },
    async stop() {
      if (stopping) return
      stopping = true
      stopDeadline = now() + stopTimeoutMs
      wake?.()
      if (loop) {
        // A bulk request that hangs past the deadline cannot be cancelled from here: stop anyway,
        // its batch stays in flight (sent again first by the next start or a peer).
        let timer: NodeJS.Timeout | undefined
        const late = new Promise<boolean>((r) => (timer = setTimeout(() => r(true), stopTimeoutMs + 2000)))
        const hung = await Promise.race([loop.then(() => false), late])
        clearTimeout(timer)
        if (hung) unresolved = true
      }
      if (heartbeatTimer) clearInterval(heartbeatTimer)
      try {
        const left = unresolved ? 1 : await queue.inflightLength()
        // Nothing in flight: leave the set at once. Items left: drop only the heartbeat, so that a
        // live peer adopts them now rather than after orphan_after_secs.
        if (left === 0) await queue.unregister()
        else await queue.dropHeartbeat()
      } catch (err) {
        log.warn('Could not unregister from Redis; peers will find this shipper dead after orphan_after_secs.', { err })
      }
      await queue.close()
      log.info('Shipper stopped.', { ...st.snapshot() })
    },
    stats: () => st.snapshot(),
    async queueStatus() {
      return toQueueStatus(o.key, await queue.snapshot(), now())
    },
  }
}
