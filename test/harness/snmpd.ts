// A private net-snmp snmpd acting as AgentX master, never reading /etc/snmp or /var/lib/snmp:
// `-C -c <conf>` (no default config files), SNMP_PERSISTENT_DIR and SNMPCONFPATH in the temp dir,
// MIBS= and an empty MIBDIRS (Debian ships no MIB files; use numeric OIDs). Clients run with
// the same environment.
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { freePort } from './ports.ts'
import { runCommand, spawnService, type ServiceProcess } from './process.ts'
import { childScope, tmpDir, type Owner } from './tmp.ts'

export const SNMP_COMMUNITY = 'public'
/** SNMPv3 user created in every private snmpd (authPriv, SHA + AES). */
export const SNMP_V3_USER = {
  name: 'vigil',
  authProto: 'SHA',
  authPass: 'vigil-auth-pass',
  privProto: 'AES',
  privPass: 'vigil-priv-pass',
} as const

export interface StartSnmpdOptions {
  /** AgentX master socket: TCP on a free loopback port (default) or a unix socket in the temp dir. */
  agentx?: 'tcp' | 'unix'
  /** Override the SNMPv3 user (name/passwords). */
  v3User?: { name: string; authPass: string; privPass: string }
  /** Extra snmpd.conf lines. */
  config?: string[]
  /** sysContact / sysLocation / sysName values (defaults are fixed test strings). */
  sysContact?: string
  sysLocation?: string
  sysName?: string
}

export interface SnmpCommandResult {
  code: number | null
  stdout: string
  stderr: string
}

export interface SnmpClient {
  /** Returns stdout; throws (with stderr) when the tool exits non-zero (e.g. a timeout). */
  snmpget(args: string[]): Promise<string>
  snmpwalk(args: string[]): Promise<string>
  snmpbulkwalk(args: string[]): Promise<string>
  snmpgetnext(args: string[]): Promise<string>
}

export interface SnmpdInstance extends SnmpClient {
  host: string
  /** The SNMP agent address (UDP). */
  udpPort: number
  /** AgentX master TCP port (0 with agentx: 'unix'). */
  agentxPort: number
  /** net-snmp notation: 'tcp:127.0.0.1:PORT' or 'unix:/path/agentx.sock'. */
  agentxAddress: string
  /** With agentx: 'unix'. */
  agentxSocketPath?: string
  dir: string
  /** Environment for any net-snmp client tool run by the test (private persistent dir, no MIBs). */
  env: NodeJS.ProcessEnv
  /** Current snmpd PID (changes on restart). */
  readonly pid: number
  readonly process: ServiceProcess
  /** The same helpers over SNMPv3 authPriv with the private user. */
  v3: SnmpClient
  /** Runs any net-snmp tool with the private env: run('snmpset', ['-v2c', ...]). Never throws for exit codes. */
  run(tool: string, args: string[]): Promise<SnmpCommandResult>
  /** Stops snmpd and starts it again on the same ports (same config, same persistent dir). */
  restart(): Promise<void>
  /** Stops snmpd (for reconnect tests) without removing its directory; restart() brings it back. */
  kill(): Promise<void>
  stop(): Promise<void>
}

export async function startSnmpd(t: Owner | null, opts: StartSnmpdOptions = {}): Promise<SnmpdInstance> {
  const scope = childScope(t)
  try {
    const dir = await tmpDir(scope, 'snmpd')
    const persist = join(dir, 'persist')
    const clientPersist = join(dir, 'client-persist')
    const noMibs = join(dir, 'nomibs')
    const confPath = join(dir, 'confpath')
    for (const d of [persist, clientPersist, noMibs, confPath]) await mkdir(d, { mode: 0o700 })
    const host = '127.0.0.1'
    const udpPort = await freePort(host, { udpOnly: true })
    const unix = opts.agentx === 'unix'
    const agentxPort = unix ? 0 : await freePort(host)
    const agentxSocketPath = unix ? join(dir, 'agentx.sock') : undefined
    const agentxAddress = unix ? `unix:${agentxSocketPath}` : `tcp:${host}:${agentxPort}`
    const user = { ...SNMP_V3_USER, ...(opts.v3User ?? {}) }
    const conf = join(dir, 'snmpd.conf')
    await writeFile(
      conf,
      [
        `agentaddress udp:${host}:${udpPort}`,
        'master agentx',
        `agentXSocket ${agentxAddress}`,
        ...(unix ? ['agentXPerms 0600 0700'] : []),
        'agentXTimeout 2',
        'agentXRetries 1',
        `rocommunity ${SNMP_COMMUNITY} 127.0.0.1`,
        `createUser ${user.name} SHA "${user.authPass}" AES "${user.privPass}"`,
        `rouser ${user.name} priv`,
        `sysContact ${opts.sysContact ?? 'vigil-test@localhost'}`,
        `sysLocation ${opts.sysLocation ?? 'vigil test harness'}`,
        `sysName ${opts.sysName ?? 'vigil-harness'}`,
        'sysServices 72',
        'dontLogTCPWrappersConnects yes',
        ...(opts.config ?? []),
      ].join('\n') + '\n',
    )
    const baseEnv = { ...process.env, MIBS: '', MIBDIRS: noMibs, SNMPCONFPATH: confPath }
    const serverEnv = { ...baseEnv, SNMP_PERSISTENT_DIR: persist }
    const env = { ...baseEnv, SNMP_PERSISTENT_DIR: clientPersist }
    const target = `${host}:${udpPort}`

    const run = (tool: string, args: string[]): Promise<SnmpCommandResult> =>
      runCommand(tool, args, { env, timeoutMs: 60_000 })
    const strict = async (tool: string, args: string[]): Promise<string> => {
      const r = await run(tool, args)
      if (r.code !== 0)
        throw new Error(`${tool} ${args.join(' ')} exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`)
      return r.stdout
    }
    const v2 = ['-v2c', '-c', SNMP_COMMUNITY, '-On', '-t', '3', '-r', '1']
    const v3 = [
      '-v3',
      '-l',
      'authPriv',
      '-u',
      user.name,
      '-a',
      'SHA',
      '-A',
      user.authPass,
      '-x',
      'AES',
      '-X',
      user.privPass,
      '-On',
      '-t',
      '3',
      '-r',
      '1',
    ]
    const client = (base: string[]): SnmpClient => ({
      snmpget: (args) => strict('snmpget', [...base, target, ...args]),
      snmpwalk: (args) => strict('snmpwalk', [...base, target, ...args]),
      snmpbulkwalk: (args) => strict('snmpbulkwalk', [...base, target, ...args]),
      snmpgetnext: (args) => strict('snmpgetnext', [...base, target, ...args]),
    })

    const spawnSnmpd = (): Promise<ServiceProcess> =>
      spawnService({
        t: scope,
        name: 'snmpd',
        cmd: 'snmpd',
        args: ['-f', '-Lf', join(dir, 'snmpd.log'), '-C', '-c', conf, '-p', join(dir, 'snmpd.pid'), '-I', '-smux'],
        cwd: dir,
        env: serverEnv,
        logFile: join(dir, 'snmpd.out'),
        extraLogFiles: [join(dir, 'snmpd.log')],
        readyTimeoutMs: 30_000,
        ready: async () => {
          const r = await runCommand(
            'snmpget',
            ['-v2c', '-c', SNMP_COMMUNITY, '-On', '-t', '1', '-r', '0', target, '1.3.6.1.2.1.1.3.0'],
            {
              env,
              timeoutMs: 5000,
            },
          )
          return r.code === 0 && r.stdout.includes('.1.3.6.1.2.1.1.3.0 = Timeticks')
        },
      })
    let proc = await spawnSnmpd()
    const inst: SnmpdInstance = {
      host,
      udpPort,
      agentxPort,
      agentxAddress,
      agentxSocketPath,
      dir,
      env,
      get pid() {
        return proc.pid
      },
      get process() {
        return proc
      },
      ...client(v2),
      v3: client(v3),
      run,
      async kill() {
        await proc.stop()
      },
      async restart() {
        await proc.stop()
        proc = await spawnSnmpd()
      },
      stop: () => scope.close(),
    }
    return inst
  } catch (err) {
    await scope.close().catch(() => {})
    throw err
  }
}
