// REQ client of the snmp-responder (spec §2.7): one frame `am.snmp?` / `am.nanny?` out, a
// multi-part reply of `am.snmp <name> <type> <value>` records back. Works against Vigil's collector
// and against a real amavis-services snmp-responder alike.
//
// A REQ socket whose request went unanswered is stuck in its send/receive lockstep (and amavis's
// responder may never answer, §2.7 quirks), so after a timeout or error the socket is closed with
// linger 0 and a fresh one is connected for the next query.
import { Request } from 'zeromq'
import { ErrorCode, perlSplit, VigilError, type Logger } from '@vigil/protocol'
import type { StoredValue } from './values.ts'

export type Channel = 'am.snmp' | 'am.nanny'

export interface ResponderReply {
  readonly values: Map<string, StoredValue>
  /** Frames that were not `<channel> <name> <type> <value>`; reading stops at the first one, as amavis does. */
  readonly ignored: number
}

/** Parses the frames of one reply. Stops at a frame of another channel (amavis's subagent does the same). */
export function parseResponderReply(channel: Channel, parts: readonly (Uint8Array | string)[]): ResponderReply {
  const values = new Map<string, StoredValue>()
  let ignored = 0
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]
    const text = typeof p === 'string' ? p : Buffer.from(p.buffer, p.byteOffset, p.byteLength).toString('utf8')
    const f = perlSplit(text, 4)
    if (f[0] !== channel || f.length < 3) {
      ignored = parts.length - i
      break
    }
    values.set(f[1], { type: f[2], value: f[3] ?? '' })
  }
  return { values, ignored }
}

export interface ResponderClient {
  /** One round trip. Rejects with VIGIL_ERR_RESPONDER_TIMEOUT after `timeoutMs` (and resets the socket). */
  query(channel: Channel): Promise<ResponderReply>
  close(): void
  readonly endpoint: string
}

export function createResponderClient(opts: { endpoint: string; timeoutMs: number; log: Logger }): ResponderClient {
  let sock: Request | undefined
  let closed = false
  let chain: Promise<unknown> = Promise.resolve()
  const socket = (): Request => {
    if (!sock) {
      sock = new Request({ linger: 0, receiveTimeout: opts.timeoutMs, sendTimeout: opts.timeoutMs, ipv6: true })
      sock.connect(opts.endpoint)
    }
    return sock
  }
  const reset = () => {
    const s = sock
    sock = undefined
    if (s && !s.closed) s.close()
  }
  const once = async (channel: Channel): Promise<ResponderReply> => {
    if (closed) throw new VigilError(ErrorCode.RESPONDER_TIMEOUT, 'Responder client is closed.')
    const s = socket()
    try {
      await s.send(`${channel}?`)
      const parts = await s.receive()
      return parseResponderReply(channel, parts)
    } catch (err) {
      reset()
      const code = (err as { code?: string }).code
      const what = closed
        ? 'client closed'
        : code === 'EAGAIN'
          ? `no reply within ${opts.timeoutMs} ms`
          : `${(err as Error).message}`
      throw new VigilError(ErrorCode.RESPONDER_TIMEOUT, `Responder ${opts.endpoint} ${channel}? failed: ${what}.`, {
        cause: err,
      })
    }
  }
  return {
    endpoint: opts.endpoint,
    query(channel) {
      // REQ is strictly one request at a time: queue behind the previous query.
      const p = chain.then(
        () => once(channel),
        () => once(channel),
      )
      chain = p.catch(() => undefined)
      return p
    },
    close() {
      closed = true
      reset()
    },
  }
}
