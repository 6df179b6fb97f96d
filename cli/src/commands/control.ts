// `vigil stop` and `vigil reload` (amavisd's stop/reload): signal the supervisor recorded in
// <home>/vigil.pid. stop waits until it has exited (it stops its components first).
import { join } from 'node:path'
import type { LoadedConfig } from '../config/load.ts'
import { EXIT } from '../exit-codes.ts'
import type { CliIo } from '../io.ts'
import { isAlive, readLivePid } from '../supervisor/pid-file.ts'
import { PID_FILE_NAME } from './start.ts'

/** How long `vigil stop` waits: the supervisor's TERM wait plus its KILL wait, plus slack. */
const STOP_WAIT_MS = 25_000

/** Signals the live supervisor of `home`; exit 1 when there is none (or, for stop, it does not exit in time). */
export async function runControl(command: 'stop' | 'reload', loaded: LoadedConfig, io: CliIo): Promise<number> {
  const pidFile = join(loaded.config.home, PID_FILE_NAME)
  const pid = readLivePid(pidFile)
  if (pid === undefined) {
    io.stderr(`vigil: not running (no live supervisor in ${pidFile})\n`)
    return EXIT.FAILURE
  }
  try {
    process.kill(pid, command === 'stop' ? 'SIGTERM' : 'SIGHUP')
  } catch (err) {
    io.stderr(`vigil: cannot signal pid ${pid}: ${(err as NodeJS.ErrnoException).code}\n`)
    return EXIT.FAILURE
  }
  if (command === 'reload') {
    io.stdout(`vigil: reload requested (pid ${pid}); the supervisor logs the outcome\n`)
    return EXIT.OK
  }
  const deadline = Date.now() + STOP_WAIT_MS
  while (isAlive(pid)) {
    if (Date.now() > deadline) {
      io.stderr(`vigil: pid ${pid} is still running after ${STOP_WAIT_MS / 1000} s\n`)
      return EXIT.FAILURE
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  io.stdout(`vigil: stopped (pid ${pid})\n`)
  return EXIT.OK
}
