// Counts log entries as amavis does for LogLines/LogEntries* (spec §4, "counted per message"):
// every entry actually written (at or above the configured level), at its amavis level, whatever
// part of the worker wrote it. The per-message am.snmp takes what was counted since the previous
// message, so entries written between messages (session start, protocol errors) are not lost.
import type { Logger, LogLevel } from '@vigil/protocol'

/** Vigil logger level → amavis log level (-3 crit, -2 err, -1 warning, 0 notice, 1 info, 2+ debug). */
export const AMAVIS_LOG_LEVEL: Record<LogLevel, number> = {
  fatal: -3,
  error: -2,
  warn: -1,
  info: 0,
  debug: 2,
  trace: 5,
}

export interface LogCounter {
  /** The logger to write through; its children count into the same counter. */
  log: Logger
  /** Amavis levels of the entries written since the last call. */
  drain(): number[]
}

export function createLogCounter(inner: Logger): LogCounter {
  let levels: number[] = []
  const wrap = (l: Logger): Logger => {
    const at =
      (lv: LogLevel) =>
      (msg: string, fields?: Record<string, unknown>): void => {
        if (l.isEnabled(lv)) levels.push(AMAVIS_LOG_LEVEL[lv])
        l[lv](msg, fields)
      }
    return {
      fatal: at('fatal'),
      error: at('error'),
      warn: at('warn'),
      info: at('info'),
      debug: at('debug'),
      trace: at('trace'),
      child: (name) => wrap(l.child(name)),
      isEnabled: (lv) => l.isEnabled(lv),
    }
  }
  return {
    log: wrap(inner),
    drain() {
      const out = levels
      levels = []
      return out
    },
  }
}
