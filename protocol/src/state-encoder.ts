// Sender side of `am.st` (spec §2.2): one encoder per process keeps the base time and decides
// between absolute and relative timestamps exactly as an amavisd child does.
import { formatStateFrame } from './frames.ts'
import { formatAbsTime, formatRelTime } from './time.ts'

export interface StateEncoder {
  /** Returns the `am.st` record for a state change at `nowSecs`. */
  encode(state: string, taskId: string | undefined, nowSecs: number): string
}

/**
 * The first record after the socket is created, and every `A`, `m` and `FLUSH`, carry an absolute
 * time and reset the base; all others carry integer ms since the base. `.` never carries a task id.
 */
export function createStateEncoder(pid: number): StateEncoder {
  let base: number | undefined
  return {
    encode(state, taskId, nowSecs) {
      let time: string
      if (base === undefined || state === 'A' || state === 'm' || state === 'FLUSH') {
        base = nowSecs
        time = formatAbsTime(nowSecs)
      } else {
        time = formatRelTime(nowSecs, base)
      }
      return formatStateFrame(pid, time, state, state === '.' ? undefined : taskId)
    },
  }
}
