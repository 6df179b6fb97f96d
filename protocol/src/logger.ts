// The one small logger every component receives in its deps (vector's rule: a capitalised
// sentence ending in a period, plus structured fields). Lines look like
//   2026-11-25T01:00:00.000Z info collector[1234]: Bus bound. endpoint=tcp://127.0.0.1:23232
// This is the only module of @vigil/protocol that writes anywhere, and only through the
// `write` function it is given.

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'
const RANK: Record<LogLevel, number> = { fatal: 60, error: 50, warn: 40, info: 30, debug: 20, trace: 10 }

export interface Logger {
  fatal(msg: string, fields?: Record<string, unknown>): void
  error(msg: string, fields?: Record<string, unknown>): void
  warn(msg: string, fields?: Record<string, unknown>): void
  info(msg: string, fields?: Record<string, unknown>): void
  debug(msg: string, fields?: Record<string, unknown>): void
  trace(msg: string, fields?: Record<string, unknown>): void
  /** A logger with the same sink and a different name, e.g. `filter/worker`. */
  child(name: string): Logger
  isEnabled(level: LogLevel): boolean
}

function fmtValue(v: unknown): string {
  if (v instanceof Error)
    return JSON.stringify(v.message + ((v as { code?: string }).code ? ` (${(v as { code?: string }).code})` : ''))
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v)
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v)
  try {
    return JSON.stringify(v)
  } catch {
    return '"[unserialisable]"'
  }
}

export function createLogger(opts: {
  name: string
  level?: LogLevel
  write?: (line: string) => void
  now?: () => Date
  pid?: number
  /** Receives each enabled entry instead of a formatted line (e.g. to forward it to another process). */
  sink?: (entry: { level: LogLevel; name: string; msg: string; fields?: Record<string, unknown> }) => void
}): Logger {
  const level = opts.level ?? 'info'
  const write = opts.write ?? ((line: string) => process.stdout.write(line + '\n'))
  const now = opts.now ?? (() => new Date())
  const pid = opts.pid ?? process.pid
  const min = RANK[level]
  const make = (name: string): Logger => {
    const emit = (lv: LogLevel) => (msg: string, fields?: Record<string, unknown>) => {
      if (RANK[lv] < min) return
      if (opts.sink) return opts.sink({ level: lv, name, msg, fields })
      let line = `${now().toISOString()} ${lv} ${name}[${pid}]: ${msg}`
      if (fields) for (const [k, v] of Object.entries(fields)) if (v !== undefined) line += ` ${k}=${fmtValue(v)}`
      write(line)
    }
    return {
      fatal: emit('fatal'),
      error: emit('error'),
      warn: emit('warn'),
      info: emit('info'),
      debug: emit('debug'),
      trace: emit('trace'),
      child: (n: string) => make(`${name}/${n}`),
      isEnabled: (lv: LogLevel) => RANK[lv] >= min,
    }
  }
  return make(opts.name)
}
