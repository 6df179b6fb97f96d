// The supervisor's pid file (amavis-mc's -P pid_file): refuses to start a second supervisor for
// the same home while the first is alive, replaces a stale file, removes it at exit.
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs'

export type PidFileResult = { ok: true } | { ok: false; runningPid?: number; error?: string }

/** True when a process with this pid exists (EPERM counts: it exists, owned by someone else). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Writes `pid\n` to `path` unless another live process owns it. Never throws. */
export function acquirePidFile(path: string, pid: number = process.pid): PidFileResult {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, `${pid}\n`, { flag: 'wx' })
      return { ok: true }
    } catch (err) {
      const e = err as NodeJS.ErrnoException
      if (e.code !== 'EEXIST') return { ok: false, error: `${path}: ${e.code ?? e.message}` }
    }
    let other = NaN
    try {
      other = Number.parseInt(readFileSync(path, 'utf8').trim(), 10)
    } catch {}
    if (Number.isInteger(other) && other > 0 && other !== pid && isAlive(other)) return { ok: false, runningPid: other }
    try {
      unlinkSync(path)
    } catch {}
  }
  return { ok: false, error: `${path}: cannot replace the stale pid file` }
}

/** Removes the pid file if it still holds `pid`. Never throws. */
export function releasePidFile(path: string, pid: number = process.pid): void {
  try {
    if (Number.parseInt(readFileSync(path, 'utf8').trim(), 10) === pid) unlinkSync(path)
  } catch {}
}

/** The live pid recorded in `path`, or undefined (no file, garbage, or a dead process). Never throws. */
export function readLivePid(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10)
    return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined
  } catch {
    return undefined
  }
}
