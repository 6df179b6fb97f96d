// The sockets of amavis-status: a SUB on the outer bus (ours or a real amavis-services
// msg-forwarder) and, for the full screen, a REQ to the snmp-responder. Both close with
// linger 0 on stop so the process can exit at once.
import { Request, Subscriber } from 'zeromq'
import { SUBSCRIBE } from '@vigil/protocol'

/** amavis sets ZMQ_IPV4ONLY=0 when the endpoint looks like an IPv6 address (spec §1.3). */
function wantsIpv6(endpoint: string): boolean {
  return /:[0-9a-f]*:/i.test(endpoint)
}

export interface BusSource {
  start(): void
  stop(): Promise<void>
}

/** The notice printed when the bus stays silent; the viewer keeps waiting. */
export function quietNotice(endpoint: string): string {
  return `amavis-status: no messages from ${endpoint} yet (is the collector / amavis-services msg-forwarder running?)`
}

/**
 * Subscribes to `am.st ` and `am.proc.` on `endpoint` and hands every message (all its parts)
 * to `onMessage`. If nothing arrives within `quietWarnSecs`, `onQuiet` gets the notice once.
 * Errors of the receive loop go to `onError`; they never throw out of here.
 */
export function createBusSource(opts: {
  endpoint: string
  quietWarnSecs: number
  onMessage(parts: Buffer[]): void
  onQuiet(notice: string): void
  onError(err: unknown): void
}): BusSource {
  const sub = new Subscriber({ linger: 0, ipv6: wantsIpv6(opts.endpoint) })
  let quietTimer: NodeJS.Timeout | undefined
  let stopped = false
  let loop: Promise<void> | undefined
  return {
    start() {
      sub.connect(opts.endpoint)
      sub.subscribe(SUBSCRIBE.state, SUBSCRIBE.proc)
      quietTimer = setTimeout(() => opts.onQuiet(quietNotice(opts.endpoint)), opts.quietWarnSecs * 1000)
      quietTimer.unref()
      loop = (async () => {
        try {
          for await (const parts of sub) {
            if (quietTimer) {
              clearTimeout(quietTimer)
              quietTimer = undefined
            }
            opts.onMessage(parts)
          }
        } catch (err) {
          if (!stopped) opts.onError(err)
        }
      })()
    },
    async stop() {
      stopped = true
      if (quietTimer) clearTimeout(quietTimer)
      sub.close()
      await loop
    },
  }
}

export interface ResponderClient {
  /** Sends `am.snmp?` and resolves the reply's frames; rejects after `timeoutMs` without a reply. */
  query(): Promise<Buffer[]>
  close(): void
}

/**
 * A REQ client of the snmp-responder. After a timeout the REQ socket is stuck mid-exchange, so it
 * is replaced by a fresh one (the Perl subagent would block forever instead).
 */
export function createResponderClient(endpoint: string, timeoutMs: number): ResponderClient {
  let req: Request | undefined
  let closed = false
  const fresh = (): Request => {
    const r = new Request({ linger: 0, receiveTimeout: timeoutMs, sendTimeout: timeoutMs, ipv6: wantsIpv6(endpoint) })
    r.connect(endpoint)
    return r
  }
  return {
    async query() {
      if (closed) throw new Error('responder client closed')
      req ??= fresh()
      const r = req
      try {
        await r.send('am.snmp?')
        return await r.receive()
      } catch (err) {
        r.close()
        if (req === r) req = undefined
        throw err
      }
    },
    close() {
      closed = true
      req?.close()
      req = undefined
    },
  }
}
