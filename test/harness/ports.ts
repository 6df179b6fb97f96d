// Free loopback ports for private service instances.
// Ports are drawn at random from 20000-32767: below Linux's ephemeral range (32768-60999), so an
// outgoing connection of another process cannot grab the port between our probe and the
// service's bind, and away from every Vigil default (10024/10025, 23232-23234, 705, 161).
import { createServer } from 'node:net'
import { createSocket } from 'node:dgram'

const LOW = 20000
const HIGH = 32767
const RESERVED = new Set([23232, 23233, 23234, 10024, 10025])
const handedOut = new Set<number>()

function probeTcp(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer()
    srv.unref()
    srv.once('error', () => resolve(false))
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)))
  })
}

function probeUdp(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createSocket(host.includes(':') ? 'udp6' : 'udp4')
    sock.unref()
    sock.once('error', () => {
      sock.close()
      resolve(false)
    })
    sock.bind({ port, address: host, exclusive: true }, () => sock.close(() => resolve(true)))
  })
}

export interface FreePortOptions {
  /** Also require the UDP port of the same number to be free (e.g. snmpd). */
  udp?: boolean
  /** Only UDP (no TCP probe). */
  udpOnly?: boolean
}

/**
 * A port that is free on `host` right now and was never handed out before by this process.
 * Probes both 127.0.0.1 and ::1 when host is the IPv4 loopback and ::1 exists, so a service
 * that binds both families (smtp-sink does by default) finds both free.
 */
export async function freePort(host = '127.0.0.1', opts: FreePortOptions = {}): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW + 1))
    if (RESERVED.has(port) || handedOut.has(port)) continue
    if (!opts.udpOnly && !(await probeTcp(port, host))) continue
    if ((opts.udp || opts.udpOnly) && !(await probeUdp(port, host))) continue
    handedOut.add(port)
    return port
  }
  throw new Error(`freePort: no free port found on ${host} after 200 attempts`)
}

/** n distinct free TCP ports. */
export async function freePorts(n: number, host = '127.0.0.1'): Promise<number[]> {
  const out: number[] = []
  for (let i = 0; i < n; i++) out.push(await freePort(host))
  return out
}

/** A free UDP port (e.g. an SNMP agent address). */
export function freeUdpPort(host = '127.0.0.1'): Promise<number> {
  return freePort(host, { udpOnly: true })
}
