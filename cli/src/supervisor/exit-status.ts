// How a child's end is written in the supervisor's log, after amavis's exit_status_str:
// `exit 1`, `TERMINATED, signal 15`, `KILLED, signal 9`. Pure.
import { constants } from 'node:os'

const NAMED: Record<string, string> = {
  SIGINT: 'INTERRUPTED',
  SIGABRT: 'ABORTED',
  SIGKILL: 'KILLED',
  SIGTERM: 'TERMINATED',
}

/** `exit N`, or the signal's amavis-style name and number. */
export function formatExitStatus(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal) {
    const num = constants.signals[signal] ?? '?'
    return `${NAMED[signal] ?? 'DIED'}, signal ${num} (${signal})`
  }
  return `exit ${code ?? '?'}`
}

/** `Process [<pid>] exited (<cmd>) after <s> s: <status>` (amavis-mc's line). */
export function formatExitLine(pid: number, cmd: string, uptimeMs: number, status: string): string {
  return `Process [${pid}] exited (${cmd}) after ${(uptimeMs / 1000).toFixed(1)} s: ${status}`
}
