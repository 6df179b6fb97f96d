// The collector channel with acknowledgements (ADR 0015): a DEALER to the collector's ROUTER.
// Each event leaves as [id, json]; it counts as delivered only when the collector answers
// ["ACK", id…] after storing it (or dead-lettering it there with its reason). Until then it is kept
// here, in memory up to events_queue_limit and beyond that in the spool (telemetry/spool.ts), sent
// again after a reconnect or when no answer came within resendMs, and spooled to disk when the
// worker stops. The collector drops an id it already stored, so a resend never stores twice. What
// can be neither kept nor spooled is dead-lettered with the reason and counted.
import { hostname } from 'node:os'
import { Dealer } from 'zeromq'
import { createZmtpDealer, zmtpSupports } from './zmtp.ts'
import { openEventSpool, type SpooledEvent } from './spool.ts'
import type { EventSink, EventSinkOptions, EventSinkStats } from './events.ts'

export interface AckHandlers {
  onAck(ids: string[]): void
  onReady(): void
  onLost(): void
}

/** Hands [id, json] messages to the collector; `take` returns how many it took, in order. */
interface AckChannel {
  take(messages: string[][]): number | Promise<number>
  close(): Promise<void>
}

const acksOf = (frames: Buffer[]): string[] =>
  frames.length > 1 && frames[0].toString('latin1') === 'ACK' ? frames.slice(1).map((f) => f.toString('latin1')) : []

function zmtpAckChannel(endpoint: string, identity: string, h: AckHandlers): AckChannel {
  const d = createZmtpDealer({
    endpoints: [endpoint],
    identity,
    onMessage: (f) => h.onAck(acksOf(f)),
    onReady: h.onReady,
    onLost: h.onLost,
  })
  return { take: (m) => d.push(m), close: () => d.close(200) }
}

/** A libzmq DEALER (IMMEDIATE: a send fails at once while no collector is connected). */
function libzmqAckChannel(endpoint: string, identity: string, h: AckHandlers): AckChannel {
  const d = new Dealer({ routingId: identity, immediate: true, sendTimeout: 0, sendHighWaterMark: 1000, linger: 0 })
  if (/:[0-9a-f]*:/i.test(endpoint)) d.ipv6 = true
  d.connect(endpoint)
  void (async () => {
    for await (const ev of d.events) {
      if (ev.type === 'handshake') h.onReady()
      else if (ev.type === 'disconnect') h.onLost()
    }
  })().catch(() => {})
  void (async () => {
    for await (const frames of d) h.onAck(acksOf(frames))
  })().catch(() => {})
  return {
    async take(messages) {
      let n = 0
      for (const m of messages) {
        try {
          await d.send(m)
        } catch {
          break
        }
        n++
      }
      return n
    },
    async close() {
      d.close()
    },
  }
}

interface Pending {
  json: string
  /** ms when last handed to the channel; 0: waiting to be sent. */
  sentAt: number
}

export function createAckedSink(
  opts: EventSinkOptions,
  st: EventSinkStats,
  deadLetterMany: (j: string[], why: string) => void,
): EventSink {
  const pid = process.pid
  const prefix = `${opts.common.myhostname || hostname()}.${pid}.${Date.now().toString(36)}`
  const resendMs = opts.resendMs ?? 10_000
  const spool = openEventSpool({ ...opts, home: opts.common.home })
  const pending = new Map<string, Pending>()
  let toSend: string[] = []
  let seq = 0
  let pumping = false
  let closed = false
  let retry: NodeJS.Timeout | undefined
  let batch: NodeJS.Timeout | undefined
  const batchMs = opts.batchMs ?? 0

  const requeueAll = () => {
    toSend = []
    for (const [id, p] of pending) {
      if (p.sentAt) st.resent = (st.resent ?? 0) + 1
      p.sentAt = 0
      toSend.push(id)
    }
  }
  const handlers: AckHandlers = {
    onAck(ids) {
      for (const id of ids) if (pending.delete(id)) st.delivered++
      refill()
    },
    onReady: () => void pump(),
    onLost: requeueAll,
  }
  const channel =
    (opts.transport ?? 'zmtp') === 'zmtp' && zmtpSupports(opts.eventsEndpoint)
      ? zmtpAckChannel(opts.eventsEndpoint, prefix, handlers)
      : libzmqAckChannel(opts.eventsEndpoint, prefix, handlers)

  const toSpool = (events: SpooledEvent[], why: string) => {
    if (!events.length) return
    if (spool.write(events)) st.spooled = (st.spooled ?? 0) + events.length
    else
      deadLetterMany(
        events.map((e) => e[1]),
        why,
      )
  }
  /** Takes spooled events back while the window has room (their own or a retired worker's). */
  let lastClaim = 0
  const refill = () => {
    if (closed || pending.size > opts.queueLimit / 2 || Date.now() - lastClaim < 500) return
    lastClaim = Date.now()
    const got = spool.claim()
    if (!got) return
    for (const [id, json] of got)
      if (!pending.has(id)) {
        pending.set(id, { json, sentAt: 0 })
        toSend.push(id)
      }
    void pump()
  }

  const pump = async () => {
    if (pumping || closed) return
    pumping = true
    try {
      while (toSend.length && !closed) {
        const ids: string[] = []
        const msgs: string[][] = []
        while (toSend.length && ids.length < 256) {
          const id = toSend.shift()!
          const p = pending.get(id)
          if (!p || p.sentAt) continue
          ids.push(id)
          msgs.push([id, p.json])
        }
        if (!ids.length) break
        const n = await channel.take(msgs)
        const now = Date.now()
        for (let i = 0; i < n; i++) {
          const p = pending.get(ids[i])
          if (p) p.sentAt = now
        }
        if (n < ids.length) {
          toSend = ids.slice(n).concat(toSend)
          // No collector connected (or its queue is full): keep the events, try again shortly.
          if (!retry && !closed) retry = setTimeout(() => ((retry = undefined), void pump()), 200)
          break
        }
      }
    } finally {
      pumping = false
    }
  }

  // Unanswered events are sent again; spooled ones are taken back when there is room.
  const tick = setInterval(() => {
    const now = Date.now()
    for (const [id, p] of pending)
      if (p.sentAt && now - p.sentAt > resendMs) {
        p.sentAt = 0
        st.resent = (st.resent ?? 0) + 1
        toSend.push(id)
      }
    refill()
    void pump()
  }, 1000)
  tick.unref()

  return {
    deliver(json) {
      const id = `${prefix}.${(seq++).toString(36)}`
      if (closed) return toSpool([[id, json]], 'shutting down; spool not writable')
      if (pending.size >= opts.queueLimit) return toSpool([[id, json]], 'event queue full; spool not writable')
      pending.set(id, { json, sentAt: 0 })
      toSend.push(id)
      if (batchMs <= 0) return void pump()
      if (!batch && !retry) {
        batch = setTimeout(() => ((batch = undefined), void pump()), batchMs)
        batch.unref()
      }
    },
    stats: () => ({ ...st, queued: pending.size }),
    async close() {
      if (closed) return
      // Wait a short while for the collector to acknowledge the backlog, then spool what is left.
      const until = Date.now() + (opts.closeWaitMs ?? 1000)
      while (pending.size && Date.now() < until) {
        await pump()
        await new Promise((r) => setTimeout(r, 25))
      }
      closed = true
      clearInterval(tick)
      if (retry) clearTimeout(retry)
      if (batch) clearTimeout(batch)
      toSpool(
        [...pending].map(([id, p]) => [id, p.json]),
        'collector away at shutdown; spool not writable',
      )
      pending.clear()
      await channel.close()
    },
  }
}
