// The per-message JSON event (spec §5.3–5.4), as amavis writes it to Redis, plus the helpers
// for its derived fields. Build an AmavisEvent, then serialise with encodeAmavisJson.
import type { RawNumber } from './json.ts'

export interface RecipientEvent {
  rcpt_to: string
  rcpt_to_orig?: string
  rcpt_is_local: boolean
  action: 'TEMPFAIL' | 'BOUNCE' | 'REJECT' | 'DISCARD' | 'PASS' | 'DSN' | 'NOTIF' | '?'
  smtp_response?: string
  smtp_code?: string
  queued_as?: string
  spam_score?: RawNumber
  blacklisted?: true
  whitelisted?: true
  bypass_virus_checks?: true
  bypass_banned_checks?: true
  bypass_spam_checks?: true
  ccat_blocking?: string
  ccat_main?: string
  banning_reason?: string
  mail_id_related?: string
  penpals_age?: number
}

export interface AmavisEvent {
  '@timestamp': string
  type: 'amavis'
  host: string
  log_id: string
  mail_id: string | null
  mail_id_parent?: string
  mail_id_related?: string[]
  src_ip?: string
  dst_ip?: string
  dst_port?: number
  client_ip?: string
  client_port?: number
  partition?: string
  queue_id?: string
  protocol?: string
  attached_file_names?: (string | string[])[]
  mail_from: string
  rcpt_to: string[]
  rcpt_num: number
  recipients: RecipientEvent[]
  sender?: string
  author?: string[]
  to_addr?: string[]
  cc_addr?: string[]
  subject?: string
  subject_rot13?: string
  message_id?: string
  references?: string[]
  user_agent?: string
  policy_banks?: string[]
  ip_trace?: string[]
  ip_proto_trace?: string[]
  size?: number
  digest_body?: string
  content_type: string
  quarantine?: string
  quar_type?: string
  spam_score?: RawNumber
  dsn_sent?: boolean
  originating: boolean
  actions_performed?: string
  checks_performed?: string
  virusnames?: string[]
  av_scan?: Record<string, string[]>
  tests?: string[]
  tests_spam?: string[]
  tests_ham?: string[]
  is_auto_resp?: true
  is_mlist?: true
  is_bulk?: true
  dkim_valid_sig?: string[]
  dkim_new_sig?: string[]
  dkim_author_sig?: string
  smtp_code?: string[]
  queued_as?: string[]
  action: string[]
  message: string
  time_unix: RawNumber
  time_iso_week_date: string
  elapsed?: Record<string, RawNumber>
  notification_type?: 'DSN' | 'NOTIF'
}

/** `@timestamp` as amavis writes it: UTC, ms rounded with `int(frac*1000+0.5)` (may print `.1000`). */
export function formatEventTimestamp(unixSecs: number): string {
  const whole = Math.floor(unixSecs)
  const d = new Date(whole * 1000)
  const ms = Math.floor((unixSecs - whole) * 1000 + 0.5)
  const p = (n: number, w = 2) => String(n).padStart(w, '0')
  return (
    `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}T` +
    `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${p(ms, 3)}Z`
  )
}

/** ISO week date `YYYY-Www-D` in local time, Monday = 1. */
export function isoWeekDate(unixSecs: number): string {
  const d = new Date(unixSecs * 1000)
  const local = new Date(d.getFullYear(), d.getMonth(), d.getDate())
  const dow = local.getDay() === 0 ? 7 : local.getDay()
  const thursday = new Date(local)
  thursday.setDate(local.getDate() + 4 - dow)
  const year = thursday.getFullYear()
  const jan1 = new Date(year, 0, 1)
  const week = Math.floor((thursday.getTime() - jan1.getTime()) / 86400000 / 7) + 1
  return `${year}-W${String(week).padStart(2, '0')}-${dow}`
}

export function rot13(s: string): string {
  return s.replace(/[A-Za-z]/g, (c) => {
    const b = c <= 'Z' ? 65 : 97
    return String.fromCharCode(((c.charCodeAt(0) - b + 13) % 26) + b)
  })
}

/** The `message` field: `<log_id> <actions joined ','> <content_type> <mail_from> -> <rcpt_to joined ','>`. */
export function eventMessage(
  logId: string,
  actions: string[],
  contentType: string,
  mailFrom: string,
  rcptTo: string[],
): string {
  return `${logId} ${actions.join(',')} ${contentType} ${mailFrom} -> ${rcptTo.join(',')}`
}
