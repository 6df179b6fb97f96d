// What a long-running component does with its own bugs (issue #14, Deliver 5): an exception
// nothing caught, or a promise rejection nothing handled, is logged with its stack and counted;
// none ends a process silently. An uncaught exception leaves the process in an unknown state, so
// the component is stopped (bounded) and the process exits with EX_SOFTWARE (70) for the
// supervisor to restart it, as Node.js advises; an unhandled rejection is one failed operation,
// so the component goes on. Only a main module calls installCrashGuard (it adds process
// listeners); the counts are read by the component's metrics (collector: /metrics).
import type { Logger } from './logger.ts'

/** EX_SOFTWARE (sysexits.h): the exit status after an uncaught exception; the supervisor restarts on it. */
export const EXIT_UNEXPECTED = 70

export interface UnexpectedErrorCounts {
  uncaughtExceptions: number
  unhandledRejections: number
}

const counts: UnexpectedErrorCounts = { uncaughtExceptions: 0, unhandledRejections: 0 }

/** This process's counts since it started (for /metrics). */
export function unexpectedErrorCounts(): Readonly<UnexpectedErrorCounts> {
  return counts
}

/** The part of `process` the guard uses (a test passes an EventEmitter with an exit function). */
export interface GuardedProcess {
  on(event: 'uncaughtException', fn: (err: unknown) => void): unknown
  on(event: 'unhandledRejection', fn: (reason: unknown) => void): unknown
  removeListener(event: 'uncaughtException' | 'unhandledRejection', fn: (err: unknown) => void): unknown
  exit(code: number): void
}

export interface CrashGuardOptions {
  log: Logger
  /** Stops the component cleanly before the exit (its sockets closed, its state flushed). */
  stop?: () => Promise<void>
  /** How long stop() may take before the process exits anyway. */
  stopTimeoutMs?: number
  proc?: GuardedProcess
}

function errorFields(err: unknown): Record<string, unknown> {
  if (err instanceof Error) return { err, stack: err.stack }
  return { err: String(err) }
}

/** Installs the handlers; returns a function that removes them. */
export function installCrashGuard(o: CrashGuardOptions): () => void {
  const proc = o.proc ?? (process as unknown as GuardedProcess)
  const timeoutMs = o.stopTimeoutMs ?? 5000
  let exiting = false
  const onException = (err: unknown) => {
    counts.uncaughtExceptions++
    if (exiting) {
      o.log.error('Another uncaught exception while stopping.', errorFields(err))
      return
    }
    exiting = true
    o.log.fatal('Uncaught exception: stopping for the supervisor to restart this component.', {
      ...errorFields(err),
      exit_code: EXIT_UNEXPECTED,
    })
    const exit = () => proc.exit(EXIT_UNEXPECTED)
    if (!o.stop) return exit()
    const timer = setTimeout(() => {
      o.log.error('Stop after the exception timed out; exiting.', { timeout_ms: timeoutMs })
      exit()
    }, timeoutMs)
    o.stop().then(
      () => {
        clearTimeout(timer)
        exit()
      },
      (err: unknown) => {
        clearTimeout(timer)
        o.log.error('Stop after the exception failed; exiting.', errorFields(err))
        exit()
      },
    )
  }
  const onRejection = (reason: unknown) => {
    counts.unhandledRejections++
    o.log.error('Unhandled promise rejection: the operation failed, the component goes on.', {
      ...errorFields(reason),
      count: counts.unhandledRejections,
    })
  }
  proc.on('uncaughtException', onException)
  proc.on('unhandledRejection', onRejection)
  return () => {
    proc.removeListener('uncaughtException', onException)
    proc.removeListener('unhandledRejection', onRejection)
  }
}
