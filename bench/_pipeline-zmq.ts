// ZMQ forwarding latency through the collector, for bench/log-pipeline.ts (part 3): a PUB sends
// am.st frames to the collector's inner socket at a steady rate, a SUB on its outer PUB receives
// them, and each frame's latency is receive time − send time in this one process (one clock).
// Each frame is a well-formed am.st (the collector drops malformed ones) whose task id carries the
// frame's sequence number: `am.st <pid> <abs time> <state> <pid>-<seq>`, 1,000 PIDs cycling
// through the busy states as amavis children do.
import { Publisher, Subscriber } from 'zeromq'
import { formatAbsTime } from '@vigil/protocol'

const STATES = ['m', 'd', '=', 'G', 'D', 'V', 'S', 'r', 'F']
const PIDS = 1000

export interface LatencyResult {
  readonly sent: number
  readonly received: number
  /** Per-frame latencies in ms, sorted ascending. */
  readonly latenciesMs: Float64Array
  /** Achieved send rate (frames/s). */
  readonly sendRate: number
}

export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[i]
}

function frame(seq: number): string {
  const pid = 20000 + (seq % PIDS)
  const state = STATES[Math.floor(seq / PIDS) % STATES.length]
  return `am.st ${pid} ${formatAbsTime(Date.now() / 1000)} ${state} ${pid}-${seq}`
}

export interface ForwardingProbe {
  /** Sends `rate` frames/s for `seconds`, then waits up to 1 s for stragglers. */
  measure(rate: number, seconds: number): Promise<LatencyResult>
  close(): void
}

/** Connects a PUB to `inner` and a SUB to `outer`; resolves once frames flow end to end. */
export async function createForwardingProbe(inner: string, outer: string): Promise<ForwardingProbe> {
  // sendTimeout 0: zeromq.js sends synchronously (no promise queue between the clock and the wire).
  const pub = new Publisher({ linger: 0, sendHighWaterMark: 0, sendTimeout: 0 })
  const sub = new Subscriber({ linger: 0, receiveHighWaterMark: 0 })
  pub.connect(inner)
  sub.connect(outer)
  sub.subscribe('am.st 2')
  let seq = 0
  let sentAt = new Float64Array(0)
  let recvAt = new Float64Array(0)
  let received = 0
  let base = 0
  let onFrame: (() => void) | undefined
  void (async () => {
    try {
      for await (const [msg] of sub) {
        const t = performance.now()
        const s = msg.toString('latin1')
        const n = Number(s.slice(s.lastIndexOf('-') + 1)) - base
        if (n >= 0 && n < recvAt.length && recvAt[n] === 0) {
          recvAt[n] = t
          received++
        }
        onFrame?.()
      }
    } catch {
      // closed
    }
  })()
  // Slow joiners on both sides: probe until one frame comes through.
  const deadline = Date.now() + 15_000
  let joined = false
  onFrame = () => (joined = true)
  while (!joined) {
    if (Date.now() > deadline) throw new Error('no am.st frame came through the collector within 15 s')
    await pub.send(frame(seq++)).catch(() => {})
    await new Promise((r) => setTimeout(r, 50))
  }
  onFrame = undefined
  await new Promise((r) => setTimeout(r, 200))

  return {
    async measure(rate, seconds) {
      const n = Math.round(rate * seconds)
      base = seq
      sentAt = new Float64Array(n)
      recvAt = new Float64Array(n)
      received = 0
      const t0 = performance.now()
      let i = 0
      // Send what is due every millisecond or so: a steady rate, not bursts of a second's worth.
      while (i < n) {
        const due = Math.min(n, Math.floor(((performance.now() - t0) / 1000) * rate) + 1)
        for (; i < due; i++) {
          sentAt[i] = performance.now()
          pub.send(frame(seq++)).catch(() => {})
        }
        await new Promise((r) => setTimeout(r, 1))
      }
      const sendMs = performance.now() - t0
      const until = Date.now() + 1000
      while (received < n && Date.now() < until) await new Promise((r) => setTimeout(r, 10))
      const lat: number[] = []
      for (let k = 0; k < n; k++) if (recvAt[k] > 0) lat.push(recvAt[k] - sentAt[k])
      const sorted = Float64Array.from(lat).sort()
      return { sent: n, received: sorted.length, latenciesMs: sorted, sendRate: n / (sendMs / 1000) }
    },
    close() {
      pub.close()
      sub.close()
    },
  }
}
