// Free loopback ports for private service instances.
// Ports are drawn at random from 20000-32767: below Linux's ephemeral range (32768-60999), so an
// outgoing connection of another process cannot grab the port between our probe and the
// service's bind, and away from every Vigil default (10024/10025, 23232-23234, 705, 161).
//
// Ports are also reserved machine-wide in $TMPDIR/vigil-harness-ports/<port> (created with O_EXCL,
// holding the owner's PID and start time), so two test processes running at the same time never
// get the same port even before either has bound it. Reservations of dead processes are reclaimed;
// a process's own reservations are removed when it exits.
import { createServer } from 'node:net'
import { createSocket } from 'node:dgram'
import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const LOW = 20000
const HIGH = Math.min(32767, ephemeralLow() - 1)
const RESERVED = new Set([23232, 23233, 23234, 10024, 10025])
const handedOut = new Set<number>()
const RESERVATIONS = join(tmpdir(), 'vigil-harness-ports')

function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0])
    return low > 21000 ? low : 32768
  } catch {
    return 32768
  }
}

function startTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null
  } catch {
    return null
  }
}

const me = `${process.pid} ${startTime(process.pid)}`
let exitHook = false

/** Claims `port` for this process machine-wide; false when a live process holds it. */
function reserve(port: number): boolean {
  const file = join(RESERVATIONS, String(port))
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      if (mkdirSync(RESERVATIONS, { recursive: true })) chmodSync(RESERVATIONS, 0o1777) // shared by every user, like /tmp
      const fd = openSync(file, 'wx', 0o644)
      writeSync(fd, me)
      closeSync(fd)
      if (!exitHook) {
        exitHook = true
        process.on('exit', () => {
          for (const p of handedOut) {
            try {
              if (readFileSync(join(RESERVATIONS, String(p)), 'utf8') === me) rmSync(join(RESERVATIONS, String(p)))
            } catch {}
          }
        })
      }
      return true
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return true // no reservation dir: best effort
      let owner = ''
      try {
        owner = readFileSync(file, 'utf8')
      } catch {
        continue
      }
      const [pid, start] = owner.split(' ')
      if (owner && startTime(Number(pid)) === start) return false
      // Stale (owner gone, or a half-written file): reclaim it once.
      try {
        rmSync(file, { force: true })
      } catch {
        return false
      }
    }
  }
  return false
}

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
 * A port that is free on `host` right now, was never handed out before by this process and is
 * not reserved by another live test process.
 * Probes both 127.0.0.1 and ::1 when host is the IPv4 loopback and ::1 exists, so a service
 * that binds both families (smtp-sink does by default) finds both free.
 */
export async function freePort(host = '127.0.0.1', opts: FreePortOptions = {}): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW + 1))
    if (RESERVED.has(port) || handedOut.has(port)) continue
    if (!opts.udpOnly && !(await probeTcp(port, host))) continue
    if ((opts.udp || opts.udpOnly) && !(await probeUdp(port, host))) continue
    if (!reserve(port)) continue
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
