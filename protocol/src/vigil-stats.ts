// `vigil.stats`: Vigil-only counters a filter worker publishes on the inner bus (next to amavis's
// am.st/am.snmp, under a topic amavis tools never subscribe to). One JSON object per record,
// values are increments since the worker's previous record:
//   vigil.stats {"pid":4321,"smtp_protocol_errors":{"line_too_long":1,"bad_sequence":2},"events_dead_lettered":3,"events_trimmed":0}
// Consumers sum the increments (e.g. into vigil_smtp_protocol_errors_total{kind}).

export const VIGIL_STATS_TOPIC = 'vigil.stats'

/** Kinds of SMTP protocol errors the filter counts (filter-core/src/smtp/session.ts). */
export const SMTP_PROTOCOL_ERROR_KINDS = [
  'line_too_long',
  'nul_byte',
  'bad_utf8',
  'bad_syntax',
  'bad_sequence',
  'unknown_command',
  'pipelining',
  'oversize',
  'too_many_errors',
  'timeout',
  'bare_lf',
  'non_ascii_address',
] as const
export type SmtpProtocolErrorKind = (typeof SMTP_PROTOCOL_ERROR_KINDS)[number]

export interface VigilStats {
  pid: number
  smtp_protocol_errors?: Partial<Record<SmtpProtocolErrorKind, number>>
  /** Events written to the dead-letter file (collector away / Redis down). */
  events_dead_lettered?: number
  /** Events the Redis LTRIM pushed out of the list. */
  events_trimmed?: number
  /** Events the worker wrote (one per message, DSN and notification), whatever became of them. */
  events_produced?: number
  /** Events sent to the collector again (no acknowledgement in time, connection lost; ADR 0015). */
  events_resent?: number
  /** Events written to the filter's spool (in-memory window full, or the worker stopped). */
  events_spooled?: number
}

export function formatVigilStats(s: VigilStats): string {
  return `${VIGIL_STATS_TOPIC} ${JSON.stringify(s)}`
}

/** Parses one `vigil.stats` record; never throws (returns an error string for malformed input). */
export function parseVigilStats(frame: string | Uint8Array): VigilStats | { error: string } {
  const text = typeof frame === 'string' ? frame : Buffer.from(frame).toString('utf8')
  if (!text.startsWith(VIGIL_STATS_TOPIC + ' ')) return { error: 'not a vigil.stats record' }
  let v: unknown
  try {
    v = JSON.parse(text.slice(VIGIL_STATS_TOPIC.length + 1))
  } catch {
    return { error: 'vigil.stats payload is not JSON' }
  }
  const o = v as Record<string, unknown>
  if (!o || typeof o !== 'object' || !Number.isInteger(o.pid)) return { error: 'vigil.stats needs an integer pid' }
  const out: VigilStats = { pid: o.pid as number }
  const nonNeg = (x: unknown) => typeof x === 'number' && Number.isFinite(x) && x >= 0
  if (o.smtp_protocol_errors !== undefined) {
    if (typeof o.smtp_protocol_errors !== 'object' || o.smtp_protocol_errors === null)
      return { error: 'smtp_protocol_errors must be an object' }
    const errs: Record<string, number> = {}
    for (const [k, n] of Object.entries(o.smtp_protocol_errors)) {
      if (!(SMTP_PROTOCOL_ERROR_KINDS as readonly string[]).includes(k) || !nonNeg(n))
        return { error: `bad smtp_protocol_errors entry ${k}` }
      errs[k] = n as number
    }
    out.smtp_protocol_errors = errs
  }
  for (const k of [
    'events_dead_lettered',
    'events_trimmed',
    'events_produced',
    'events_resent',
    'events_spooled',
  ] as const) {
    if (o[k] === undefined) continue
    if (!nonNeg(o[k])) return { error: `${k} must be a non-negative number` }
    out[k] = o[k] as number
  }
  return out
}
