// msg-forwarder's inner side (spec §1.1): a SUB socket subscribed to "" and bound to the
// endpoints one host's children PUB-connect to. Every message received is handed to `onMessage`
// with the host it belongs to; the caller decides what is forwarded.
// Batch receives: with receiveTimeout 0 zeromq.js reads synchronously, so the loop drains what
// libzmq has queued without a poll per message, and waits (receiveTimeout -1) only when the
// queue is empty. It yields to the event loop every BATCH messages so timers and HTTP still run.
import { Subscriber } from 'zeromq'
import type { Logger } from '@vigil/protocol'
import { bindOrThrow, closeNow, isTcp, needsIpv6 } from './sockets.ts'
import type { BusStats } from './stats.ts'

export const BATCH = 1000

export interface InnerSubscriberOptions {
  host: string
  endpoints: readonly string[]
  hwm: number
  curve?: { server_secret_key: string; server_public_key: string }
  stats: BusStats
  log: Logger
  /** Called synchronously for every received message. */
  onMessage(host: string, parts: Buffer[]): void
}

export interface InnerSubscriber {
  start(): Promise<void>
  stop(): Promise<void>
  readonly host: string
  readonly endpoints: readonly string[]
}

/**
 * Runs `handle` for every message of `sock` until `isStopped()` or the socket closes, draining
 * in synchronous batches. Never throws.
 */
export async function batchReceiveLoop(
  sock: Subscriber,
  handle: (parts: Buffer[]) => void,
  isStopped: () => boolean,
  onError: (err: unknown) => void,
): Promise<void> {
  const yieldNow = () => new Promise<void>((r) => setImmediate(r))
  let batch = 0
  sock.receiveTimeout = 0
  while (!isStopped() && !sock.closed) {
    let parts: Buffer[]
    try {
      parts = await sock.receive()
    } catch (err) {
      if (isStopped() || sock.closed) return
      if ((err as { code?: string }).code !== 'EAGAIN') {
        onError(err)
        await yieldNow()
        continue
      }
      // Queue empty: wait for the next message with the poller, then drain again.
      sock.receiveTimeout = -1
      try {
        parts = await sock.receive()
      } catch (err2) {
        if (isStopped() || sock.closed) return
        onError(err2)
        continue
      } finally {
        if (!sock.closed) sock.receiveTimeout = 0
      }
      batch = 0
    }
    handle(parts)
    if (++batch >= BATCH) {
      batch = 0
      await yieldNow()
    }
  }
}

export function createInnerSubscriber(o: InnerSubscriberOptions): InnerSubscriber {
  const sock = new Subscriber({})
  sock.receiveHighWaterMark = o.hwm
  sock.linger = 2000
  // Larger messages disconnect the peer instead of reaching us; 16 MB is far above any amavis record.
  sock.maxMessageSize = 16 * 1024 * 1024
  if (o.endpoints.some(needsIpv6)) sock.ipv6 = true
  if (o.curve && o.endpoints.some(isTcp)) {
    sock.curveServer = true
    sock.curveSecretKey = o.curve.server_secret_key
  }
  sock.subscribe('')
  let loop: Promise<void> | undefined
  let stopped = false

  const handle = (parts: Buffer[]) => {
    try {
      o.onMessage(o.host, parts)
    } catch (err) {
      o.log.error('Message handler failed; message skipped.', { host: o.host, err })
    }
  }
  const onError = (err: unknown) => {
    o.stats.receiveErrors++
    o.log.warn('Inner receive failed.', { host: o.host, err })
  }

  return {
    host: o.host,
    endpoints: o.endpoints,
    async start() {
      for (const ep of o.endpoints) await bindOrThrow(sock, ep, 'inner')
      loop = batchReceiveLoop(sock, handle, () => stopped, onError)
    },
    async stop() {
      stopped = true
      closeNow(sock)
      await loop
    },
  }
}
