// One request/response exchange over a stream socket, as clamd and spamd speak it: write the
// request, half-close, read until the service closes.
import { connect, type NetConnectOpts } from 'node:net'

/**
 * Connects to `target`, writes `payload` (each part in turn), ends the write side and resolves
 * with everything received until the peer closes. Rejects on a socket error, or with `timeoutError`
 * (after destroying the socket) when the peer has not closed within `timeoutMs`.
 */
export function streamRequest(
  target: NetConnectOpts,
  payload: (Buffer | string)[],
  timeoutMs: number,
  timeoutError: () => Error,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = connect(target)
    const chunks: Buffer[] = []
    const timer = setTimeout(() => {
      sock.destroy()
      reject(timeoutError())
    }, timeoutMs)
    sock.on('data', (d: Buffer) => chunks.push(d))
    sock.once('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
    sock.once('close', () => {
      clearTimeout(timer)
      resolve(Buffer.concat(chunks))
    })
    for (const p of payload) sock.write(p)
    sock.end()
  })
}
