// Starting and stopping real service binaries for tests.
//
// Every service is a plain child of the test process (not detached), stopped by PID with SIGTERM
// and then SIGKILL after a grace period, from `t.after`. Two safety nets cover crashed runs:
//   1. process.on('exit') (and SIGINT/SIGTERM) SIGTERMs every child still running;
//   2. each child is recorded in $TMPDIR/vigil-harness-pids/; when the harness is loaded, records
//      whose owning test process is gone are swept: the child is killed if (and only if) the PID
//      still belongs to the very process we started (same /proc start time): SIGTERM, then
//      SIGKILL after 3 s.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import {
  accessSync,
  chmodSync,
  constants,
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { ErrorCode, VigilError } from '@vigil/protocol'
import { onProcessEnd, type Owner } from './tmp.ts'

/** Debian package that provides each binary, for the "not found" message. */
export const DEBIAN_PACKAGE: Record<string, string> = {
  'redis-server': 'redis-server',
  'redis-cli': 'redis-tools',
  snmpd: 'snmpd',
  snmpget: 'snmp',
  snmpwalk: 'snmp',
  snmpbulkwalk: 'snmp',
  clamd: 'clamav-daemon',
  clamdscan: 'clamav-daemon',
  spamd: 'spamd',
  spamc: 'spamc',
  'smtp-sink': 'postfix',
  'smtp-source': 'postfix',
}

const SBIN_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']

/** Absolute path of an executable, searching PATH and the sbin directories; throws VIGIL_ERR_HARNESS_MISSING. */
export function resolveBinary(cmd: string, pkg = DEBIAN_PACKAGE[cmd] ?? cmd): string {
  const candidates = cmd.includes('/')
    ? [cmd]
    : [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...SBIN_DIRS].map((d) => join(d, cmd))
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK)
      return c
    } catch {}
  }
  const base = cmd.split('/').pop()
  throw new VigilError(ErrorCode.HARNESS_MISSING, `${base} not found: run scripts/provision.sh (Debian package ${pkg})`)
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

/** Polls `check` until it returns a truthy value (thrown errors count as "not yet"); returns that value. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<NonNullable<T>> {
  const timeoutMs = opts.timeoutMs ?? 10_000
  const intervalMs = opts.intervalMs ?? 50
  const deadline = Date.now() + timeoutMs
  let lastErr: unknown
  for (;;) {
    try {
      const v = await check()
      if (v) return v as NonNullable<T>
    } catch (err) {
      lastErr = err
    }
    if (Date.now() >= deadline) {
      const why = lastErr instanceof Error ? ` (last error: ${lastErr.message})` : ''
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${opts.what ?? 'condition'}${why}`)
    }
    await sleep(intervalMs)
  }
}

/** Last `lines` lines of a file ('' when it does not exist). */
export async function tailFile(path: string, lines = 30): Promise<string> {
  try {
    const text = await readFile(path, 'utf8')
    return text
      .split('\n')
      .slice(-lines - 1)
      .join('\n')
      .trimEnd()
  } catch {
    return ''
  }
}

// ---- PID bookkeeping ---------------------------------------------------------------------------

const live = new Set<ChildProcess>()
const REGISTRY = join(tmpdir(), 'vigil-harness-pids')

/** Field 22 of /proc/<pid>/stat (start time in clock ticks), or null when the process is gone. */
function procStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return fields[19] ?? null // field 22 overall = index 19 after "pid (comm)"
  } catch {
    return null
  }
}

const selfStart = procStartTime(process.pid)

interface PidRecord {
  owner: number
  ownerStart: string | null
  pid: number
  start: string | null
  name: string
}

function recordPath(pid: number): string {
  return join(REGISTRY, `${process.pid}-${pid}.json`)
}

function writeRecord(child: ChildProcess, name: string): void {
  try {
    if (mkdirSync(REGISTRY, { recursive: true })) chmodSync(REGISTRY, 0o1777) // shared by every user, like /tmp
    const rec: PidRecord = {
      owner: process.pid,
      ownerStart: selfStart,
      pid: child.pid!,
      start: procStartTime(child.pid!),
      name,
    }
    writeFileSync(recordPath(child.pid!), JSON.stringify(rec))
  } catch {}
}

function removeRecord(pid: number): void {
  try {
    rmSync(recordPath(pid), { force: true })
  } catch {}
}

/** Kills services left behind by test processes that died without cleaning up. */
export function sweepOrphans(): number {
  let killed = 0
  const victims: PidRecord[] = []
  let names: string[]
  try {
    names = readdirSync(REGISTRY)
  } catch {
    return 0
  }
  for (const n of names) {
    if (!n.endsWith('.json')) continue
    const file = join(REGISTRY, n)
    let rec: PidRecord
    try {
      rec = JSON.parse(readFileSync(file, 'utf8')) as PidRecord
    } catch {
      continue
    }
    const ownerAlive = rec.ownerStart !== null && procStartTime(rec.owner) === rec.ownerStart
    if (ownerAlive) continue
    const childStart = procStartTime(rec.pid)
    if (childStart !== null && childStart === rec.start) {
      try {
        // SIGTERM first so forking services (spamd) take their children down with them.
        process.kill(rec.pid, 'SIGTERM')
        victims.push(rec)
        killed++
      } catch {}
    }
    try {
      rmSync(file, { force: true })
    } catch {}
  }
  if (victims.length) {
    const deadline = Date.now() + 3000
    const pause = new Int32Array(new SharedArrayBuffer(4))
    while (Date.now() < deadline && victims.some((v) => procStartTime(v.pid) === v.start)) Atomics.wait(pause, 0, 0, 50)
    for (const v of victims) {
      if (procStartTime(v.pid) === v.start) {
        try {
          process.kill(v.pid, 'SIGKILL')
        } catch {}
      }
    }
  }
  return killed
}

/**
 * Last-chance cleanup when the test process exits with services still running. SIGTERM (not
 * SIGKILL): every service here exits on it promptly, and forking ones (spamd) reap their children.
 * The PID record is kept, so the next harness load SIGKILLs anything that ignored the SIGTERM.
 */
function killAllNow(): void {
  for (const c of live) {
    try {
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM')
    } catch {}
  }
  live.clear()
}

let hooksInstalled = false
function installExitHooks(): void {
  if (hooksInstalled) return
  hooksInstalled = true
  onProcessEnd(killAllNow)
}

installExitHooks()
sweepOrphans()

// ---- spawnService -------------------------------------------------------------------------------

export interface SpawnServiceOptions {
  /** Test context (or scope) whose end stops the service; null = caller stops it. */
  t: Owner | null
  /** Human name used in errors ("redis-server"). */
  name: string
  /** Binary name (searched in PATH and sbin dirs) or absolute path. */
  cmd: string
  args: string[]
  env?: NodeJS.ProcessEnv
  cwd?: string
  /** Resolves true once the service answers; thrown errors count as false. */
  ready: () => Promise<boolean>
  readyTimeoutMs?: number
  /** Receives the child's stdout and stderr (appended). */
  logFile: string
  /** Other log files whose tails go into start errors (e.g. the service's own -Lf log). */
  extraLogFiles?: string[]
  /** Debian package for the "not found" message (defaults from DEBIAN_PACKAGE). */
  pkg?: string
  /** Grace between SIGTERM and SIGKILL on stop (default 5000 ms). */
  graceMs?: number
}

export interface ServiceProcess {
  readonly name: string
  readonly pid: number
  readonly child: ChildProcess
  readonly logFile: string
  /** True until the process has exited. */
  running(): boolean
  /** Resolves when the process exits. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** SIGTERM, SIGKILL after the grace period; resolves once exited. Idempotent. */
  stop(): Promise<void>
  /** Log tail(s) for diagnostics. */
  logTail(lines?: number): Promise<string>
}

export async function spawnService(opts: SpawnServiceOptions): Promise<ServiceProcess> {
  const bin = resolveBinary(opts.cmd, opts.pkg)
  const fd = openSync(opts.logFile, 'a')
  let child: ChildProcess
  try {
    child = spawn(bin, opts.args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', fd, fd],
      detached: false,
    })
  } finally {
    closeSync(fd)
  }
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }))
    child.once('error', () => resolve({ code: null, signal: null }))
  })
  if (child.pid === undefined) {
    const err = await spawnError
    throw new VigilError(ErrorCode.HARNESS_START, `${opts.name}: cannot spawn ${bin}: ${err.message}`, { cause: err })
  }
  const pid = child.pid
  live.add(child)
  writeRecord(child, opts.name)
  let done = false
  void exited.then(() => {
    done = true
    live.delete(child)
    removeRecord(pid)
  })
  // Never keep the test process alive just because a service runs; stop() re-refs while waiting.
  child.unref()

  const logTail = async (lines = 30): Promise<string> => {
    const parts: string[] = []
    for (const f of [opts.logFile, ...(opts.extraLogFiles ?? [])]) {
      const tail = await tailFile(f, lines)
      if (tail) parts.push(`--- ${f} ---\n${tail}`)
    }
    return parts.join('\n') || '(no log output)'
  }

  let stopping: Promise<void> | null = null
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (done) return
      child.ref()
      try {
        child.kill('SIGTERM')
      } catch {}
      let timer: NodeJS.Timeout | undefined
      const killed = await Promise.race([
        exited.then(() => true),
        new Promise<boolean>((r) => {
          timer = setTimeout(() => r(false), opts.graceMs ?? 5000)
        }),
      ])
      clearTimeout(timer)
      if (!killed) {
        try {
          child.kill('SIGKILL')
        } catch {}
        await exited
      }
    })()
    return stopping
  }

  const svc: ServiceProcess = {
    name: opts.name,
    pid,
    child,
    logFile: opts.logFile,
    running: () => !done,
    exited,
    stop,
    logTail,
  }
  opts.t?.after(stop)

  // Wait for readiness, failing early if the process dies.
  const timeoutMs = opts.readyTimeoutMs ?? 20_000
  const deadline = Date.now() + timeoutMs
  let interval = 25
  for (;;) {
    if (done) {
      const { code, signal } = await exited
      throw new VigilError(
        ErrorCode.HARNESS_START,
        `${opts.name} exited during start-up (${signal ? `signal ${signal}` : `exit code ${code}`}): ${bin} ${opts.args.join(' ')}\n${await logTail()}`,
      )
    }
    let ok = false
    let probeTimer: NodeJS.Timeout | undefined
    try {
      // A probe that hangs must not outlive the start-up deadline.
      ok = await Promise.race([
        opts.ready(),
        new Promise<boolean>((r) => {
          probeTimer = setTimeout(() => r(false), Math.max(100, deadline - Date.now()))
        }),
      ])
    } catch {}
    clearTimeout(probeTimer)
    if (ok && !done) return svc
    if (Date.now() >= deadline) {
      const tail = await logTail()
      await stop()
      throw new VigilError(
        ErrorCode.HARNESS_START,
        `${opts.name} did not become ready within ${timeoutMs} ms: ${bin} ${opts.args.join(' ')}\n${tail}`,
      )
    }
    await sleep(interval)
    interval = Math.min(interval * 2, 250)
  }
}

/** Runs a command to completion (no shell) with a timeout; never throws for a non-zero exit. */
export function runCommand(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; input?: string | Buffer; timeoutMs?: number; cwd?: string; pkg?: string } = {},
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; elapsedMs: number }> {
  const bin = resolveBinary(cmd, opts.pkg)
  const started = Date.now()
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (b: Buffer) => out.push(b))
    child.stderr.on('data', (b: Buffer) => err.push(b))
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000)
    child.once('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        elapsedMs: Date.now() - started,
      })
    })
    child.stdin.on('error', () => {})
    child.stdin.end(opts.input ?? '')
  })
}

/** Synchronous variant for one-off probes (e.g. `snmpd -v`). */
export function runCommandSync(cmd: string, args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(resolveBinary(cmd), args, { encoding: 'utf8', timeout: 10_000 })
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' }
}
