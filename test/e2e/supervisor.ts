// What the `vigil start` end-to-end tests share: the config of a one-host stack, the supervisor
// started as a user starts it (its output collected), and the processes of its children's groups.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { freePorts, waitFor } from '../harness/index.ts'

export interface StartPorts {
  filterPort: number
  httpPort: number
  dashboardPort: number
}

/** Writes <dir>/vigil.yaml: filter (one worker) → the sink, collector and dashboard on free loopback ports. */
export async function writeStartConfig(dir: string, sinkPort: number): Promise<StartPorts & { configFile: string }> {
  const [filterPort, outerPort, snmpPort, httpPort, dashboardPort] = await freePorts(5)
  const configFile = join(dir, 'vigil.yaml')
  writeFileSync(
    configFile,
    [
      `home: ${join(dir, 'home')}`,
      'myhostname: e2e.vigil.test',
      'zmq:',
      `  outer: tcp://127.0.0.1:${outerPort}`,
      `  snmp: tcp://127.0.0.1:${snmpPort}`,
      'filter:',
      `  listen: ['127.0.0.1:${filterPort}']`,
      `  forward_method: 'smtp:[127.0.0.1]:${sinkPort}'`,
      '  max_servers: 1',
      'collector:',
      `  http_listen: 127.0.0.1:${httpPort}`,
      'dashboard:',
      `  listen: 127.0.0.1:${dashboardPort}`,
      `  collector_http: 127.0.0.1:${httpPort}`,
      '',
    ].join('\n'),
  )
  return { configFile, filterPort, httpPort, dashboardPort }
}

export interface Supervisor {
  /** Everything it printed so far (stdout and stderr). */
  out(): string
  readonly exited: Promise<number | null>
  kill(signal: NodeJS.Signals): void
}

/**
 * `node <bin> start --config <configFile>` with no VIGIL_* overrides from the environment, killed
 * when the test ends; resolves once filter, collector and dashboard print their `listening:` lines.
 */
export async function startSupervisor(
  t: TestContext,
  o: { bin: string; configFile: string; cwd?: string; env?: NodeJS.ProcessEnv },
): Promise<Supervisor> {
  const env = { ...process.env, VIGIL_CONFIG: '', VIGIL_HOME: '', VIGIL_LOG_LEVEL: '', ...o.env }
  const sup = spawn(process.execPath, [o.bin, 'start', '--config', o.configFile], {
    ...(o.cwd ? { cwd: o.cwd } : {}),
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  sup.stdout.on('data', (d) => (out += d))
  sup.stderr.on('data', (d) => (out += d))
  const exited = new Promise<number | null>((resolve) => sup.on('exit', (code) => resolve(code)))
  t.after(() => {
    if (sup.exitCode === null && sup.signalCode === null) sup.kill('SIGKILL')
  })
  await waitFor(
    () => {
      assert.equal(sup.exitCode, null, `vigil start exited early:\n${out}`)
      return ['filter', 'collector', 'dashboard'].every((c) => new RegExp(`^\\[${c}\\] listening: `, 'm').test(out))
    },
    { timeoutMs: 90_000, what: 'every component listening' },
  ).catch((err: Error) => assert.fail(`${err.message}\n${out}`))
  return { out: () => out, exited, kill: (s) => sup.kill(s) }
}

/** The PIDs of the processes the supervisor logged as `Process [PID] started (vigil <name>)`, in order. */
export function startedPids(out: string, name: string): number[] {
  return [...out.matchAll(new RegExp(`Process \\[(\\d+)\\] started \\(vigil ${name}\\)`, 'g'))].map((m) => Number(m[1]))
}

/** Every live process whose process group is one of `groups` (the supervisor's children lead their own). */
export function processesInGroups(groups: ReadonlySet<number>): number[] {
  const out: number[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      // fields[0] is the state, fields[2] the process group; zombies are already gone for our purpose.
      if (fields[0] !== 'Z' && groups.has(Number(fields[2]))) out.push(Number(name))
    } catch {}
  }
  return out
}
