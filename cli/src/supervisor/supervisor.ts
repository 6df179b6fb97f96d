// The `vigil start` supervisor, in the spirit of amavis-mc (spec §1.5): one child process per
// component, restarted with backoff when it exits, given up after too many rapid failures; on
// stop, TERM every child, wait, then KILL what is left. Children run in their own process group
// (so a terminal's Ctrl-C reaches only the supervisor, which stops them in order) and hold an IPC
// channel to the supervisor, so they stop by themselves if the supervisor dies.
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import type { Logger } from '@vigil/protocol'
import { formatExitLine, formatExitStatus } from './exit-status.ts'
import { DEFAULT_POLICY, decideRestart, type RestartPolicy } from './policy.ts'

export interface ChildSpec {
  /** Short name, used as the output prefix `[name]`. */
  readonly name: string
  /** The command as logged, e.g. `vigil filter`. */
  readonly label: string
  readonly command: string
  readonly args: readonly string[]
  readonly env?: Readonly<Record<string, string | undefined>>
  readonly cwd?: string
  /**
   * A stdout line matching this marks the child ready; at start-up the next child is launched only
   * then (or when this one exits, or after `readyTimeoutMs`), so the bus is bound before its
   * publishers connect. Without it the next child starts at once.
   */
  readonly ready?: RegExp
}

export interface SupervisorOptions {
  readonly children: readonly ChildSpec[]
  readonly log: Logger
  readonly policy?: Partial<RestartPolicy>
  /** Wait after TERM before KILL (amavis-mc: 10 s), and after KILL before giving up waiting. */
  readonly stopTimeoutMs?: number
  /** Longest wait for a child's ready line at start-up (default 30 s). */
  readonly readyTimeoutMs?: number
  /** Each line a child writes, without the newline. */
  readonly output?: (name: string, stream: 'stdout' | 'stderr', line: string) => void
}

export type ChildState = 'pending' | 'starting' | 'running' | 'backoff' | 'given-up' | 'stopped'

export interface ChildStatus {
  readonly name: string
  readonly state: ChildState
  readonly pid?: number
  /** Starts since the supervisor began (all series). */
  readonly starts: number
}

export interface Supervisor {
  /** Starts every child in order. */
  start(): void
  /** Stops restarting, TERMs every child, KILLs the rest after the timeout; resolves when all are gone. */
  stop(): Promise<void>
  /** Skips the remaining wait and KILLs every child now (a second Ctrl-C). */
  kill(): void
  /**
   * Restarts every component now (after a configuration reload): running ones get TERM (KILL after
   * the stop timeout) and start again as soon as they exit; ones waiting or given up start now.
   * Not counted as failures.
   */
  restartAll(): void
  status(): ChildStatus[]
  /** Resolves when no child is running or due to restart (all given up or stopped). */
  readonly idle: Promise<void>
}

interface Slot {
  readonly spec: ChildSpec
  state: ChildState
  child?: ChildProcess
  pid?: number
  startedAt: number
  rapidStarts: number
  starts: number
  timer?: NodeJS.Timeout
  exited?: Promise<void>
  restartRequested?: boolean
  restartKillTimer?: NodeJS.Timeout
  /** Resolves the current start-up wait for this child's ready line. */
  onReady?: () => void
}

/** Why an exit code is not worth a restart (sysexits, see docs/errors.md). */
const FATAL_REASON: Record<number, string> = {
  64: 'a usage error',
  69: 'the component is not available in this build',
  78: 'the configuration is invalid; fix it, then `vigil reload` restarts it',
}

function killGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal)
    return true
  } catch {
    return false
  }
}

/** A supervisor for `opts.children`; nothing runs until start(). */
export function createSupervisor(opts: SupervisorOptions): Supervisor {
  const policy: RestartPolicy = { ...DEFAULT_POLICY, ...opts.policy }
  const stopTimeoutMs = opts.stopTimeoutMs ?? 10_000
  const log = opts.log
  const slots: Slot[] = opts.children.map((spec) => ({
    spec,
    state: 'pending',
    startedAt: 0,
    rapidStarts: 0,
    starts: 0,
  }))
  let stopping = false
  let resolveIdle!: () => void
  const idle = new Promise<void>((r) => (resolveIdle = r))

  const checkIdle = () => {
    if (slots.every((s) => s.state === 'given-up' || s.state === 'stopped')) resolveIdle()
  }

  const launch = (slot: Slot) => {
    slot.timer = undefined
    if (stopping) return
    const { spec } = slot
    slot.state = 'starting'
    slot.starts++
    slot.rapidStarts++
    slot.startedAt = performance.now()
    let child: ChildProcess
    try {
      child = spawn(spec.command, [...spec.args], {
        cwd: spec.cwd,
        env: spec.env as NodeJS.ProcessEnv | undefined,
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        detached: true,
      })
    } catch (err) {
      onGone(slot, undefined, null, null, err as Error)
      return
    }
    slot.child = child
    slot.pid = child.pid
    let settled = false
    slot.exited = new Promise<void>((resolve) => {
      const done = (code: number | null, signal: NodeJS.Signals | null, err?: Error) => {
        if (settled) return
        settled = true
        onGone(slot, child.pid, code, signal, err)
        resolve()
      }
      child.once('exit', (code, signal) => done(code, signal))
      child.on('error', (err) => {
        // 'error' without a pid means the spawn itself failed and no 'exit' follows.
        if (child.pid === undefined) done(null, null, err)
        else log.error('Child process error.', { child: spec.label, err })
      })
    })
    if (child.pid !== undefined) {
      slot.state = 'running'
      log.info(`Process [${child.pid}] started (${spec.label}).`)
    }
    for (const stream of ['stdout', 'stderr'] as const) {
      const src = child[stream]
      if (!src) continue
      createInterface({ input: src, crlfDelay: Infinity }).on('line', (line) => {
        if (stream === 'stdout' && spec.ready?.test(line)) slot.onReady?.()
        opts.output?.(spec.name, stream, line)
      })
    }
  }

  const onGone = (
    slot: Slot,
    pid: number | undefined,
    code: number | null,
    signal: NodeJS.Signals | null,
    err?: Error,
  ) => {
    const uptimeMs = performance.now() - slot.startedAt
    clearTimeout(slot.restartKillTimer)
    slot.child = undefined
    slot.pid = undefined
    const status = err ? `failed to start: ${err.message}` : formatExitStatus(code, signal)
    const line = formatExitLine(pid ?? 0, slot.spec.label, uptimeMs, status)
    // A component's own workers must not outlive it (its process group shares its pid).
    if (pid !== undefined && killGroup(pid, 'SIGKILL')) log.debug(`Killed leftover processes of (${slot.spec.label}).`)
    if (stopping) {
      log.info(line)
      slot.state = 'stopped'
      checkIdle()
      return
    }
    if (slot.restartRequested) {
      slot.restartRequested = false
      log.info(line)
      slot.rapidStarts = 0
      launch(slot)
      return
    }
    log.warn(line)
    const decision = decideRestart(slot.rapidStarts, uptimeMs, err ? null : code, policy)
    if (decision.action === 'give-up') {
      if (decision.reason === 'restart-count') log.error(`Exceeded restart count, giving up on (${slot.spec.label})`)
      else
        log.error(
          `Not restarting (${slot.spec.label}): ${status}, ${FATAL_REASON[code ?? -1] ?? 'restarting cannot help'}.`,
        )
      slot.state = 'given-up'
      checkIdle()
      return
    }
    slot.rapidStarts = decision.rapidStarts
    slot.state = 'backoff'
    log.info(`Restarting (${slot.spec.label}) in ${(decision.delayMs / 1000).toFixed(1)} s.`)
    slot.timer = setTimeout(() => launch(slot), decision.delayMs)
  }

  const readyTimeoutMs = opts.readyTimeoutMs ?? 30_000
  /** Resolves when the slot prints its ready line, exits, or the ready timeout passes (logged). */
  const untilReady = (slot: Slot) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        log.warn(`(${slot.spec.label}) not ready after ${readyTimeoutMs / 1000} s; starting the next component anyway.`)
        done()
      }, readyTimeoutMs)
      const done = () => {
        clearTimeout(timer)
        slot.onReady = undefined
        resolve()
      }
      slot.onReady = done
      void slot.exited?.then(done)
    })

  const waitAll = (ms: number) => {
    const pending = slots.filter((s) => s.child && s.exited).map((s) => s.exited as Promise<void>)
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<void>((r) => (timer = setTimeout(r, ms)))
    return Promise.race([Promise.all(pending).then(() => undefined), timeout]).finally(() => clearTimeout(timer))
  }

  let stopPromise: Promise<void> | undefined
  const killAll = () => {
    for (const s of slots) if (s.pid !== undefined) killGroup(s.pid, 'SIGKILL')
  }

  return {
    idle,
    start() {
      void (async () => {
        for (const slot of slots) {
          if (stopping) break
          launch(slot)
          if (slot.spec.ready && slot.pid !== undefined) await untilReady(slot)
        }
        checkIdle()
      })()
    },
    stop() {
      stopPromise ??= (async () => {
        stopping = true
        for (const s of slots) {
          if (s.timer) clearTimeout(s.timer)
          clearTimeout(s.restartKillTimer)
          s.timer = undefined
          if (s.state === 'backoff' || s.state === 'pending') s.state = 'stopped'
        }
        for (const s of slots) {
          if (s.pid === undefined) continue
          try {
            process.kill(s.pid, 'SIGTERM')
          } catch {}
        }
        await waitAll(stopTimeoutMs)
        const left = slots.filter((s) => s.pid !== undefined)
        if (left.length > 0) {
          log.warn(`Killing ${left.length} process(es) still running after ${stopTimeoutMs / 1000} s.`, {
            pids: left.map((s) => s.pid).join(','),
          })
          killAll()
          await waitAll(stopTimeoutMs)
        }
        checkIdle()
      })()
      return stopPromise
    },
    kill() {
      stopping = true
      for (const s of slots) if (s.timer) clearTimeout(s.timer)
      killAll()
    },
    restartAll() {
      if (stopping) return
      for (const s of slots) {
        if (s.pid !== undefined) {
          const pid = s.pid
          s.restartRequested = true
          try {
            process.kill(pid, 'SIGTERM')
          } catch {}
          clearTimeout(s.restartKillTimer)
          s.restartKillTimer = setTimeout(() => killGroup(pid, 'SIGKILL'), stopTimeoutMs)
        } else if (s.state === 'backoff' || s.state === 'given-up') {
          clearTimeout(s.timer)
          s.rapidStarts = 0
          launch(s)
        }
      }
    },
    status() {
      return slots.map((s) => ({ name: s.spec.name, state: s.state, pid: s.pid, starts: s.starts }))
    },
  }
}
