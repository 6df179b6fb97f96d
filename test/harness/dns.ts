// A private authoritative DNS server (NLnet Labs NSD, Debian package nsd) on a free loopback
// port, answering on 127.0.0.1 and ::1 for the test zones it is started with.
//
// NSD rather than knot, unbound or bind9: it is authoritative only (a test zone is all DKIM key
// look-ups need; no recursion that could leak a query off the machine), one small binary with one
// config file and plain zone files, no key or database set-up, and starts in ~50 ms. `pause()`
// stops the process (SIGSTOP) with its sockets still bound, so queries go unanswered and a
// resolver times out, which is what "the DNS server does not answer" looks like in production.
import { Resolver } from 'node:dns/promises'
import { readdirSync, readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { freePort } from './ports.ts'
import { spawnService, type ServiceProcess } from './process.ts'
import { childScope, tmpDir, type Owner } from './tmp.ts'

/** One resource record below a zone: `{ name: 'sel._domainkey', type: 'TXT', data: 'v=DKIM1; …' }`. */
export interface DnsRecord {
  /** Relative to the zone ('@' for the apex) or absolute with a trailing dot. */
  name: string
  type: 'TXT' | 'A' | 'AAAA' | 'MX' | 'CNAME'
  /** TXT: the text, split into 255-octet strings here; others: the RDATA as a zone file writes it. */
  data: string
  ttl?: number
}

export interface StartDnsOptions {
  /** Zone name → its records (an SOA and an NS record are added). */
  zones: Record<string, DnsRecord[]>
}

export interface DnsInstance {
  host: string
  port: number
  /** `127.0.0.1:PORT`, the form of the filter's `dns.servers` entries. */
  server: string
  /** `[::1]:PORT`. */
  server6: string
  dir: string
  pid: number
  process: ServiceProcess
  /** SIGSTOP: the server keeps its sockets and answers nothing (resolvers time out). */
  pause(): void
  /** SIGCONT after pause(). */
  resume(): void
  stop(): Promise<void>
}

/** A TXT value as zone-file character strings of at most 255 octets each. */
export function txtStrings(text: string): string {
  const parts: string[] = []
  for (let i = 0; i < text.length; i += 255) parts.push(text.slice(i, i + 255))
  return parts.map((p) => `"${p.replace(/["\\]/g, (c) => `\\${c}`)}"`).join(' ')
}

function zoneFile(zone: string, records: DnsRecord[]): string {
  const lines = [
    `$ORIGIN ${zone}.`,
    '$TTL 300',
    `@ IN SOA ns1.${zone}. hostmaster.${zone}. 1 3600 600 86400 60`,
    `@ IN NS ns1.${zone}.`,
    `ns1 IN A 127.0.0.1`,
  ]
  for (const r of records) {
    const data = r.type === 'TXT' ? txtStrings(r.data) : r.data
    lines.push(`${r.name} ${r.ttl ?? 300} IN ${r.type} ${data}`)
  }
  return lines.join('\n') + '\n'
}

/** PIDs of the live descendants of `root` (from /proc/<pid>/stat's ppid field). */
function descendants(root: number): number[] {
  const parent = new Map<number, number>()
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8')
      parent.set(Number(e), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]))
    } catch {}
  }
  const out: number[] = []
  const walk = (p: number) => {
    for (const [pid, pp] of parent) if (pp === p) (out.push(pid), walk(pid))
  }
  walk(root)
  return out
}

export async function startDns(t: Owner | null, opts: StartDnsOptions): Promise<DnsInstance> {
  const scope = childScope(t)
  const dir = await tmpDir(scope, 'nsd')
  const host = '127.0.0.1'
  // NSD binds UDP and TCP on both loopback addresses (freePort probes ::1 too).
  const port = await freePort(host, { udp: true })
  const zones = Object.entries(opts.zones)
  for (const [zone, records] of zones) await writeFile(join(dir, `${zone}.zone`), zoneFile(zone, records))
  const conf = [
    'server:',
    `  ip-address: 127.0.0.1@${port}`,
    `  ip-address: ::1@${port}`,
    `  port: ${port}`,
    '  server-count: 1',
    '  username: ""',
    '  chroot: ""',
    `  zonesdir: "${dir}"`,
    `  zonelistfile: "${join(dir, 'zone.list')}"`,
    `  xfrdfile: "${join(dir, 'xfrd.state')}"`,
    `  pidfile: "${join(dir, 'nsd.pid')}"`,
    `  logfile: "${join(dir, 'nsd.log')}"`,
    '  database: ""',
    '  verbosity: 1',
    '  hide-version: yes',
    '  refuse-any: yes',
    'remote-control:',
    '  control-enable: no',
    ...zones.flatMap(([zone]) => ['zone:', `  name: "${zone}"`, `  zonefile: "${zone}.zone"`]),
  ].join('\n')
  const confFile = join(dir, 'nsd.conf')
  await writeFile(confFile, conf + '\n')
  const probe = new Resolver({ timeout: 300, tries: 1 })
  probe.setServers([`${host}:${port}`])
  const firstZone = zones[0]?.[0]
  const proc = await spawnService({
    t: scope,
    name: 'nsd',
    cmd: 'nsd',
    pkg: 'nsd',
    args: ['-d', '-c', confFile],
    cwd: dir,
    logFile: join(dir, 'nsd.stdout.log'),
    extraLogFiles: [join(dir, 'nsd.log')],
    readyTimeoutMs: 15_000,
    ready: async () => (firstZone ? (await probe.resolveSoa(firstZone)).serial === 1 : true),
  }).catch(async (err: unknown) => {
    await scope.close().catch(() => {})
    throw err
  })
  // NSD forks its serving and xfrd processes: pause/resume signal the whole tree we started, by PID.
  const signal = (sig: NodeJS.Signals) => {
    if (!proc.running()) return
    for (const pid of [proc.pid, ...descendants(proc.pid)])
      try {
        process.kill(pid, sig)
      } catch {}
  }
  // A paused server must be resumed before stop() (SIGTERM is not acted on while stopped).
  scope.after(() => signal('SIGCONT'))
  return {
    host,
    port,
    server: `${host}:${port}`,
    server6: `[::1]:${port}`,
    dir,
    pid: proc.pid,
    process: proc,
    pause: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
    stop: async () => {
      signal('SIGCONT')
      await scope.close()
    },
  }
}
