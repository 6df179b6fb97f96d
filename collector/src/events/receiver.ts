// The events channel (ADR 0001, acknowledged since ADR 0015): a ROUTER bound at common.zmq.events.
// Filter workers (DEALERs) send [id, json]; accepted events go to every sink in batches, and the
// id is answered ["ACK", id…] once the search store took the event (stored() from the pipeline) or
// dead-lettered it. An id received again while in flight or after it was stored is a resend: it is
// counted and acknowledged, never stored twice. A one-frame message is an event without an id
// (stored, not acknowledged). Malformed events are counted, dead-lettered and acknowledged.
import { Router } from 'zeromq'
import { isUtf8 } from 'node:buffer'
import type { Logger } from '@vigil/protocol'
import { bindOrThrow, closeNow, needsIpv6 } from '../bus/sockets.ts'
import type { BusStats } from '../bus/stats.ts'
import type { DeadLetter } from '../sinks/dead-letter.ts'
import type { EventSink, StoredEvent } from '../sinks/sink.ts'

/** Largest accepted event; amavis events are a few kB. */
export const MAX_EVENT_BYTES = 4 * 1024 * 1024

/** Parses one frame into an event, or returns the reason it is malformed. Never throws. */
export function parseEvent(raw: Uint8Array, receivedAt: number): StoredEvent | { error: string } {
  if (raw.length === 0) return { error: 'empty frame' }
  if (raw.length > MAX_EVENT_BYTES) return { error: `event of ${raw.length} bytes exceeds ${MAX_EVENT_BYTES}` }
  if (!isUtf8(raw)) return { error: 'not valid UTF-8' }
  const text = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8')
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch (err) {
    return { error: `invalid JSON: ${(err as Error).message}` }
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return { error: 'event is not a JSON object' }
  return { raw: text, event: v as Record<string, unknown>, receivedAt }
}

export interface EventsReceiver {
  start(): Promise<void>
  stop(): Promise<void>
  /** The store took (or dead-lettered) the events with these tokens: acknowledge them to their senders. */
  stored(tokens: readonly number[]): void
  readonly endpoint: string
}

/** Ids remembered as stored, for dedup of resends (a resend comes within seconds to minutes). */
const DONE_IDS = 200_000

export function createEventsReceiver(o: {
  endpoint: string
  sinks: readonly EventSink[]
  deadLetter: DeadLetter
  stats: BusStats
  log: Logger
  onEvent?(e: StoredEvent): void
  now?: () => number
  /**
   * Events are written to the sinks at most this many ms after they arrived, in one batch (the
   * observer, i.e. the live stream, sees each at once). At a few hundred events a second a write
   * per event cost the collector more than receiving them.
   */
  batchMs?: number
}): EventsReceiver {
  const batchMs = o.batchMs ?? 50
  const now = o.now ?? (() => Date.now() / 1000)
  const sock = new Router({ handover: true })
  sock.linger = 2000
  sock.receiveHighWaterMark = 10000
  sock.receiveTimeout = 200
  if (needsIpv6(o.endpoint)) sock.ipv6 = true
  let stopped = false
  let loop: Promise<void> | undefined
  let pending: StoredEvent[] = []
  let flushing: Promise<void> | undefined
  /** The pending batch's timer, and how to end its wait early (stop). */
  let batchTimer: NodeJS.Timeout | undefined
  let flushNow: (() => void) | undefined
  // Acknowledgements: token → sender and id while the store has not confirmed; ids done since.
  let nextToken = 1
  const inFlight = new Map<number, { peer: Buffer; id: string }>()
  const tokenOf = new Map<string, number>()
  const done = new Set<string>()
  const acks = new Map<string, { peer: Buffer; ids: string[] }>()
  let acking: Promise<void> | undefined
  const ack = (peer: Buffer, id: string) => {
    o.stats.eventsAcked++
    const k = peer.toString('latin1')
    const a = acks.get(k) ?? { peer, ids: [] }
    a.ids.push(id)
    acks.set(k, a)
    kickAcks()
  }
  const kickAcks = () => {
    acking ??= sendAcks().finally(() => {
      acking = undefined
      if (acks.size > 0 && !sock.closed) kickAcks()
    })
  }
  async function sendAcks(): Promise<void> {
    while (acks.size > 0 && !sock.closed) {
      const [k, a] = acks.entries().next().value!
      const ids = a.ids.splice(0, 512)
      if (!a.ids.length) acks.delete(k)
      try {
        await sock.send([a.peer, 'ACK', ...ids])
      } catch {
        // the sender is gone (unroutable) or we are closing: it resends, and the resend is acked
      }
    }
  }
  const markDone = (id: string) => {
    done.add(id)
    if (done.size > DONE_IDS) done.delete(done.values().next().value!)
  }

  async function flush(): Promise<void> {
    while (pending.length > 0) {
      const batch = pending
      pending = []
      for (const s of o.sinks) {
        try {
          await s.write(batch)
        } catch (err) {
          o.stats.eventsStoreErrors++
          o.log.error('Event sink failed; batch not stored there.', { sink: s.name, events: batch.length, err })
        }
      }
    }
    flushing = undefined
  }

  function handle(msg: Buffer[]): void {
    const at = now()
    const peer = msg[0]
    const id = msg.length >= 3 ? msg[1].toString('latin1') : undefined
    for (const raw of msg.slice(msg.length >= 3 ? 2 : 1)) {
      if (id !== undefined) {
        if (done.has(id)) {
          o.stats.eventsDuplicates++
          ack(peer, id)
          continue
        }
        const t = tokenOf.get(id)
        if (t !== undefined) {
          // in flight: the ack goes to the newest connection of the sender
          o.stats.eventsDuplicates++
          inFlight.get(t)!.peer = peer
          continue
        }
      }
      const r = parseEvent(raw, at)
      if ('error' in r) {
        o.stats.eventsMalformed++
        o.log.warn('Malformed event dead-lettered.', { error: r.error, bytes: raw.length })
        o.deadLetter.add(raw, r.error, at).catch((err) => o.log.error('Dead-letter write failed.', { err }))
        if (id !== undefined) {
          markDone(id)
          ack(peer, id)
        }
        continue
      }
      o.stats.eventsReceived++
      if (id !== undefined) {
        const token = nextToken++
        inFlight.set(token, { peer, id })
        tokenOf.set(id, token)
        pending.push({ ...r, token })
      } else pending.push(r)
      try {
        o.onEvent?.(r)
      } catch (err) {
        o.log.error('Event observer failed.', { err })
      }
    }
    flushing ??= new Promise<void>((r) => {
      flushNow = r
      batchTimer = setTimeout(r, batchMs)
    }).then(() => {
      batchTimer = undefined
      flushNow = undefined
      return flush()
    })
  }

  // The loop wakes every 200 ms (receiveTimeout) so that stop() can drain what libzmq already
  // queued before closing: events the filter handed over are stored, not lost at shutdown.
  async function run(): Promise<void> {
    for (;;) {
      let parts: Buffer[]
      try {
        parts = await sock.receive()
      } catch (err) {
        if ((err as { code?: string }).code === 'EAGAIN' && !sock.closed) {
          if (stopped) return
          continue
        }
        if (stopped || sock.closed) return
        o.log.warn('Events receive failed.', { err })
        continue
      }
      handle(parts)
      // Back-pressure: let the sinks catch up when a large backlog builds.
      if (pending.length > 5000 && flushing) await flushing
    }
  }

  return {
    endpoint: o.endpoint,
    stored(tokens) {
      for (const t of tokens) {
        const f = inFlight.get(t)
        if (!f) continue
        inFlight.delete(t)
        tokenOf.delete(f.id)
        markDone(f.id)
        ack(f.peer, f.id)
      }
    },
    async start() {
      await bindOrThrow(sock, o.endpoint, 'events')
      loop = run()
    },
    async stop() {
      stopped = true
      if (!sock.closed) sock.receiveTimeout = 0
      await loop
      closeNow(sock)
      if (batchTimer) clearTimeout(batchTimer)
      flushNow?.()
      while (flushing) await flushing
      await acking
      for (const s of o.sinks) await s.close().catch(() => {})
    },
  }
}
