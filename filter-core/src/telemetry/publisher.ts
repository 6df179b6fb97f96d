// The ZMQ PUB socket of an amavis process (spec §1.3): connected to every endpoint of
// @zmq_sockets, a slow-joiner pause after connecting, never blocking the caller (PUB drops at the
// high-water mark, as amavis's does). Records are held up to `batchMs` and leave as one burst.
// Two writers: ZMTP written from JS (telemetry/zmtp.ts, default: one socket write per burst), or a
// libzmq PUB (LINGER 2000, 0 at shutdown, SNDHWM 1000, IPv6 for v6 endpoints). For the latter,
// sendTimeout 0 matters: with any other value zeromq.js defers one send in every 512 made without
// yielding to the event loop, and a send made while that one is pending throws EBUSY, so the rest
// of a burst (am.st records, the am.snmp counter frame) was lost once every ~40 messages.
import { Publisher } from 'zeromq'
import { createStateEncoder, type StateEncoder } from '@vigil/protocol'
import { createZmtpPublisher, zmtpSupports } from './zmtp.ts'

export interface BusPublisher {
  /** Sends one record or one multi-part message (every frame must carry the same topic). */
  send(frames: string | string[]): void
  /** `am.st <pid> <time> <state> [<task_id>]` through this process's state encoder. */
  state(state: string, taskId?: string): void
  /** Resolves when every queued send was handed to libzmq. */
  flush(): Promise<void>
  /** Closes the socket: LINGER 0 after a short grace period (amavis at shutdown), or `lingerMs` if given. */
  close(opts?: { lingerMs?: number }): Promise<void>
}

const V6 = /:[0-9a-f]*:/i

export async function createBusPublisher(opts: {
  endpoints: string[]
  slowJoinerMs: number
  pid?: number
  now?: () => number
  onError?: (e: unknown) => void
  /**
   * Records are held for up to this long and then sent in one burst (0: each at once). Every
   * record keeps the time it was made in its own text, so only delivery is delayed; a burst
   * wakes the subscriber (and libzmq's I/O thread) once instead of once per record.
   */
  batchMs?: number
  /**
   * 'zmtp' (default): ZMTP written from JS (telemetry/zmtp.ts), one socket write per burst;
   * 'libzmq': a zeromq.js PUB. Endpoints only libzmq can reach (e.g. inproc://) use libzmq anyway.
   */
  transport?: 'zmtp' | 'libzmq'
}): Promise<BusPublisher> {
  const pid = opts.pid ?? process.pid
  const now = opts.now ?? (() => Date.now() / 1000)
  const enc: StateEncoder = createStateEncoder(pid)
  const useZmtp =
    (opts.transport ?? 'zmtp') === 'zmtp' && opts.endpoints.length > 0 && opts.endpoints.every(zmtpSupports)
  const writer = useZmtp ? zmtpWriter(opts) : libzmqWriter(opts)
  if (opts.slowJoinerMs > 0) await new Promise((r) => setTimeout(r, opts.slowJoinerMs))
  const batchMs = opts.batchMs ?? 0
  let closed = false
  let held: (string | string[])[] = []
  let timer: NodeJS.Timeout | undefined
  const release = () => {
    if (timer) clearTimeout(timer)
    timer = undefined
    if (!held.length) return
    const out = held
    held = []
    writer.write(out)
  }
  const send = (frames: string | string[]) => {
    if (closed) return
    if (batchMs <= 0) return writer.write([frames])
    held.push(frames)
    if (!timer) {
      timer = setTimeout(release, batchMs)
      timer.unref()
    }
  }
  return {
    send,
    state(state, taskId) {
      send(enc.encode(state, taskId, now()))
    },
    flush() {
      release()
      return writer.flush()
    },
    async close(o) {
      if (closed) return
      release()
      closed = true
      await writer.close(o?.lingerMs)
    },
  }
}

/** Where bursts of records go: a ZMTP PUB written from JS, or a libzmq PUB. */
interface BurstWriter {
  write(messages: (string | string[])[]): void
  flush(): Promise<void>
  /** `lingerMs` undefined: a short grace period for the last records (e.g. `exiting`), then drop. */
  close(lingerMs?: number): Promise<void>
}

function zmtpWriter(opts: { endpoints: string[]; onError?: (e: unknown) => void }): BurstWriter {
  const zp = createZmtpPublisher({ endpoints: opts.endpoints, onError: opts.onError })
  return {
    write: (messages) => zp.send(messages),
    flush: () => zp.flush(),
    close: (lingerMs) => zp.close(lingerMs ?? 100),
  }
}

function libzmqWriter(opts: { endpoints: string[]; onError?: (e: unknown) => void }): BurstWriter {
  const pub = new Publisher({ linger: 2000, sendHighWaterMark: 1000, sendTimeout: 0 })
  if (opts.endpoints.some((e) => V6.test(e))) pub.ipv6 = true
  for (const ep of opts.endpoints) pub.connect(ep)
  // A PUB socket never blocks (it drops at the high-water mark), so zeromq.js queues every send
  // at once and resolves immediately: no need to wait for the previous one. Only the last
  // promise is kept, for flush().
  let last: Promise<void> = Promise.resolve()
  const onError = (e: unknown) => opts.onError?.(e)
  return {
    write(messages) {
      for (const frames of messages) {
        try {
          last = pub.send(frames).catch(onError)
        } catch (e) {
          onError(e)
        }
      }
    },
    flush: () => last,
    async close(lingerMs) {
      await last
      if (lingerMs !== undefined) pub.linger = lingerMs
      else {
        // Give the I/O thread a moment to write the last records, then drop the rest.
        await new Promise((r) => setTimeout(r, 100))
        pub.linger = 0
      }
      pub.close()
    },
  }
}

/** A publisher that sends nothing (enable_zmq: false, or no endpoints). */
export function createNullPublisher(): BusPublisher {
  return { send() {}, state() {}, flush: async () => {}, close: async () => {} }
}
