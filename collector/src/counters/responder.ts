// snmp-responder's REP socket (spec §2.7). Every request gets exactly one reply, so the socket
// never wedges: bad requests are answered with one `am.error …` frame and counted.
import { Reply } from 'zeromq'
import type { Logger } from '@vigil/protocol'
import { bindOrThrow, closeNow, needsIpv6 } from '../bus/sockets.ts'
import type { BusStats } from '../bus/stats.ts'
import { answerRequest } from './responder-reply.ts'
import type { Totals } from './totals.ts'

export interface Responder {
  start(): Promise<void>
  stop(): Promise<void>
  readonly endpoint: string
}

export function createResponder(o: { endpoint: string; totals: Totals; stats: BusStats; log: Logger }): Responder {
  const sock = new Reply({})
  sock.linger = 2000
  if (needsIpv6(o.endpoint)) sock.ipv6 = true
  let stopped = false
  let loop: Promise<void> | undefined

  async function run(): Promise<void> {
    while (!stopped) {
      let parts: Buffer[]
      try {
        parts = await sock.receive()
      } catch (err) {
        if (stopped || sock.closed) return
        o.log.warn('Responder receive failed.', { err })
        continue
      }
      o.stats.responderRequests++
      const reply = answerRequest(parts, o.totals.aggregate())
      if (reply.malformed) {
        o.stats.responderMalformed++
        o.log.debug('Unknown responder request answered with am.error.', { frames: parts.length })
      }
      try {
        await sock.send(reply.frames)
      } catch (err) {
        if (stopped || sock.closed) return
        o.log.warn('Responder reply failed.', { err })
      }
    }
  }

  return {
    endpoint: o.endpoint,
    async start() {
      await bindOrThrow(sock, o.endpoint, 'responder')
      loop = run()
    },
    async stop() {
      stopped = true
      closeNow(sock)
      await loop
    },
  }
}
