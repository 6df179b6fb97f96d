// AgentX stream framing: a TCP/unix stream carries PDUs back to back, and one `data` event may hold
// a fraction of a PDU or several of them (net-snmp's npm subagent parsed one PDU per read and lost
// the rest; libraries-tried §2 bug 1). The framer buffers bytes and hands out every complete PDU.
import { AgentxDecodeError, decodeHeader, decodePdu, HEADER_BYTES, type Pdu } from './pdu.ts'

export interface FramerEvents {
  pdu(pdu: Pdu): void
  /** A PDU whose header was sound but whose payload was not; the stream stays usable. */
  malformed(err: AgentxDecodeError): void
  /** The stream cannot be re-synchronised (bad header); the caller must drop the connection. */
  fatal(err: AgentxDecodeError): void
}

export interface Framer {
  push(chunk: Buffer): void
  /** Bytes held waiting for the rest of a PDU. */
  pending(): number
  reset(): void
}

const EMPTY = Buffer.alloc(0)

export function createFramer(ev: FramerEvents): Framer {
  let buf: Buffer = EMPTY
  let dead = false
  return {
    push(chunk: Buffer): void {
      if (dead) return
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk
      while (buf.length >= HEADER_BYTES) {
        let total: number
        try {
          total = HEADER_BYTES + decodeHeader(buf, 0).payloadLength
        } catch (err) {
          dead = true
          buf = EMPTY
          ev.fatal(err as AgentxDecodeError)
          return
        }
        if (buf.length < total) break
        // A chunk holding exactly one PDU (each request of a walk) is used as it is.
        const one = buf.length === total ? buf : buf.subarray(0, total)
        buf = buf.length === total ? EMPTY : buf.subarray(total)
        let pdu: Pdu
        try {
          pdu = decodePdu(one)
        } catch (err) {
          if (err instanceof AgentxDecodeError && !err.fatal) {
            ev.malformed(err)
            continue
          }
          dead = true
          buf = EMPTY
          ev.fatal(err instanceof AgentxDecodeError ? err : new AgentxDecodeError(String(err), true))
          return
        }
        ev.pdu(pdu)
      }
    },
    pending: () => buf.length,
    reset(): void {
      buf = EMPTY
      dead = false
    },
  }
}
