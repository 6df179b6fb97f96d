// msg-forwarder's outer PUB (spec §1.1, §1.3). Every send goes through one serial queue because
// zeromq.js allows one pending send per socket; the forwarder loops and the minder both use it.
// Drop accounting: libzmq's PUB drops silently at the HWM, so by default only frames in/out are
// counted. With `nodrop`, the socket is an XPUB with XPUB_NODROP and sendTimeout 0: a message that
// would overflow any subscriber's queue fails with EAGAIN, is not sent to anyone, and is counted.
import { Publisher, XPublisher } from 'zeromq'
import type { Logger } from '@vigil/protocol'
import { ErrorCode, VigilError } from '@vigil/protocol'
import { closeNow, ensureIpcDir, isTcp, needsIpv6 } from './sockets.ts'
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
  /** Publishes one multi-part message unchanged. Never throws; a failed send is counted. */
  send(parts: readonly (Uint8Array | string)[]): Promise<void>
  /** Resolves when every queued message has been handed to libzmq. */
  flush(): Promise<void>
  stop(): Promise<void>
  readonly endpoint: string
}

export function createOuterPublisher(o: OuterPublisherOptions): OuterPublisher {
  const useCurve = !!o.curve && isTcp(o.endpoint)
  const sock: Publisher | XPublisher = o.nodrop
    ? new XPublisher({ noDrop: true, sendTimeout: 0 })
    : new Publisher({})
  sock.sendHighWaterMark = o.hwm
  sock.linger = 2000
  if (needsIpv6(o.endpoint)) sock.ipv6 = true
  if (useCurve) {
    sock.curveServer = true
    sock.curveSecretKey = o.curve!.server_secret_key
  }
  const queue: (readonly (Uint8Array | string)[])[] = []
  let draining: Promise<void> | undefined
  let stopped = false

  async function drain(): Promise<void> {
    while (queue.length > 0) {
      const parts = queue.shift()!
      if (stopped) continue
      try {
        await sock.send(parts as (Uint8Array | string)[])
        o.stats.messagesOut++
        o.stats.framesOut += parts.length
      } catch (err) {
        const code = (err as { code?: string }).code
        if (code === 'EAGAIN') o.stats.droppedHwm++
        else {
          o.stats.sendErrors++
          if (!stopped) o.log.warn('Outer send failed; message dropped.', { err })
        }
      }
    }
    draining = undefined
  }

  return {
    endpoint: o.endpoint,
    async start() {
      try {
        if (o.mode === 'connect') sock.connect(o.endpoint)
        else {
          ensureIpcDir(o.endpoint)
          await sock.bind(o.endpoint)
        }
      } catch (err) {
        closeNow(sock)
        throw new VigilError(ErrorCode.ZMQ_BIND_FAILED, `Cannot bind the outer socket ${o.endpoint}: ${(err as Error).message}.`, { cause: err })
      }
    },
    send(parts) {
      queue.push(parts)
      draining ??= drain()
      return draining
    },
    async flush() {
      while (draining) await draining
    },
    async stop() {
      stopped = true
      await this.flush()
      closeNow(sock)
    },
  }
}
