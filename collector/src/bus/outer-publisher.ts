// msg-forwarder's outer PUB (spec §1.1, §1.3). sendTimeout is 0, so zeromq.js sends synchronously
// (no pending send, no promise to wait for): the forwarder loops and the minder can all publish
// without queueing. Drop accounting: libzmq's PUB drops silently at the HWM, so by default only
// frames in/out are counted. With `nodrop`, the socket is an XPUB with XPUB_NODROP: a message that
// would overflow any subscriber's queue fails at once with EAGAIN, is sent to no one, and is counted.
import { Publisher, XPublisher } from 'zeromq'
import type { Logger } from '@vigil/protocol'
import { bindOrThrow, closeNow, isTcp, needsIpv6 } from './sockets.ts'
import type { BusStats } from './stats.ts'

export interface OuterPublisherOptions {
  endpoint: string
  /** 'bind' (default): the outer endpoint; 'connect': feed a local proxy's inproc front end. */
  mode?: 'bind' | 'connect'
  hwm: number
  nodrop: boolean
  curve?: { server_secret_key: string; server_public_key: string }
  stats: BusStats
  log: Logger
}

export interface OuterPublisher {
  start(): Promise<void>
  /** Publishes one multi-part message unchanged, synchronously. Never throws; a refused send is counted. */
  send(parts: readonly (Uint8Array | string)[]): void
  stop(): Promise<void>
  readonly endpoint: string
}

export function createOuterPublisher(o: OuterPublisherOptions): OuterPublisher {
  const useCurve = !!o.curve && isTcp(o.endpoint)
  const sock: Publisher | XPublisher = o.nodrop ? new XPublisher({ noDrop: true }) : new Publisher({})
  sock.sendTimeout = 0
  sock.sendHighWaterMark = o.hwm
  sock.linger = 2000
  if (needsIpv6(o.endpoint)) sock.ipv6 = true
  if (useCurve) {
    sock.curveServer = true
    sock.curveSecretKey = o.curve!.server_secret_key
  }
  let stopped = false
  const onError = (parts: number) => (err: unknown) => {
    o.stats.messagesOut--
    o.stats.framesOut -= parts
    if ((err as { code?: string }).code === 'EAGAIN') o.stats.droppedHwm++
    else {
      o.stats.sendErrors++
      if (!stopped) o.log.warn('Outer send failed; message dropped.', { err })
    }
  }

  return {
    endpoint: o.endpoint,
    async start() {
      await bindOrThrow(sock, o.endpoint, 'outer', { mode: o.mode })
    },
    send(parts) {
      if (stopped || sock.closed) return
      o.stats.messagesOut++
      o.stats.framesOut += parts.length
      try {
        sock.send(parts as (Uint8Array | string)[]).catch(onError(parts.length))
      } catch (err) {
        onError(parts.length)(err)
      }
    },
    async stop() {
      stopped = true
      closeNow(sock)
    },
  }
}
