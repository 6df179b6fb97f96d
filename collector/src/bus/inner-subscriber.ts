// msg-forwarder's inner side (spec §1.1): a SUB socket subscribed to "" and bound to the
// endpoints one host's children PUB-connect to. Every message received is handed to `onMessage`
// with the host it belongs to; the caller decides what is forwarded.
import { Subscriber } from 'zeromq'
import { ErrorCode, VigilError, type Logger } from '@vigil/protocol'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { closeNow, ipcPath, isTcp, needsIpv6 } from './sockets.ts'
import type { BusStats } from './stats.ts'

export interface InnerSubscriberOptions {
  host: string
  endpoints: readonly string[]
  hwm: number
  curve?: { server_secret_key: string; server_public_key: string }
  stats: BusStats
  log: Logger
  /** Called for every received message; awaited, so forwarding back-pressures the receive loop. */
  onMessage(host: string, parts: Buffer[]): Promise<void> | void
}

export interface InnerSubscriber {
  start(): Promise<void>
  stop(): Promise<void>
  readonly host: string
  readonly endpoints: readonly string[]
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

  async function run(): Promise<void> {
    while (!stopped) {
      let parts: Buffer[]
      try {
        parts = await sock.receive()
      } catch (err) {
        if (stopped || sock.closed) return
        o.stats.receiveErrors++
        o.log.warn('Inner receive failed.', { host: o.host, err })
        continue
      }
      try {
        await o.onMessage(o.host, parts)
      } catch (err) {
        o.log.error('Message handler failed; message skipped.', { host: o.host, err })
      }
    }
  }

  return {
    host: o.host,
    endpoints: o.endpoints,
    async start() {
      for (const ep of o.endpoints) {
        const p = ipcPath(ep)
        if (p) mkdirSync(dirname(p), { recursive: true })
        try {
          await sock.bind(ep)
        } catch (err) {
          closeNow(sock)
          throw new VigilError(ErrorCode.ZMQ_BIND_FAILED, `Cannot bind the inner socket ${ep}: ${(err as Error).message}.`, { cause: err })
        }
      }
      loop = run()
    },
    async stop() {
      stopped = true
      closeNow(sock)
      await loop
    },
  }
}
