// Header edits applied to forwarded mail, per recipient as amavis does: its Received line,
// X-Virus-Scanned, X-Spam-* at tag level (X-Spam-Flag YES at tag2), the spam subject tag at tag2,
// and X-Amavis-Alert for passed-but-bad content. Recipients with identical edits are forwarded
// together.
import type { CommonConfig } from '@vigil/protocol'
import type { SpamResult } from '../checks/check.ts'
import type { FilterConfig } from '../config.ts'
import type { Transaction } from '../smtp/session.ts'
import type { Settings } from './settings.ts'
import type { ConnInfo } from './context.ts'
import { foldHeader, rfc5322Date } from '../notify/message.ts'

export interface HeaderEdits {
  /** Fields prepended to the header, in order (`Name: value`, already folded, no CRLF). */
  prepend: string[]
  /** Text inserted at the start of the Subject (created if missing). */
  subjectTag?: string
  key: string
}

/** Folds a long field at spaces (the content modules' folding, with CRLF line ends). */
function fold(field: string): string {
  return foldHeader(field).replace(/\n/g, '\r\n')
}

export function spamStatusHeader(spam: SpamResult, s: Settings): string {
  const yes = spam.score >= s.tag2Level
  const tests = [...spam.tests]
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .map((t) => `${t.name}=${Number(t.score.toFixed(3))}`)
    .join(', ')
  let v = `${yes ? 'Yes' : 'No'}, score=${Number(spam.score.toFixed(3))} tagged_above=${s.tagLevel} required=${s.tag2Level} tests=[${tests}]`
  if (spam.autolearn) v += ` autolearn=${spam.autolearn}`
  return v
}

export function buildHeaderEdits(x: {
  cfg: FilterConfig
  common: CommonConfig
  settings: Settings
  taskId: string
  tx: Transaction
  conn: ConnInfo
  virusChecked: boolean
  virusNames: string[]
  spam?: SpamResult
  bannedReason?: string
  badHeader?: { minor: number; reason?: string }
  recipient: string
  singleRecipient: boolean
  now: number
}): HeaderEdits {
  const { cfg, common, settings: s } = x
  const prepend: string[] = []
  const clientIp = x.tx.xforward.ADDR?.replace(/^IPv6:/i, '') ?? x.conn.srcIp
  const helo = x.tx.xforward.HELO ?? x.tx.heloName
  const via = x.conn.dstPort ? `port ${x.conn.dstPort}` : 'unix socket'
  let rcvd = `Received: from ${helo || 'unknown'} ([${clientIp ?? '127.0.0.1'}])\r\n\tby ${common.myhostname} (amavis, ${via}) with ${x.tx.clientProtocol} id ${x.taskId}`
  if (x.singleRecipient) rcvd += `\r\n\tfor <${x.recipient}>`
  rcvd += `; ${rfc5322Date(new Date(x.now * 1000))}`
  prepend.push(rcvd)
  if (x.virusChecked && cfg.x_header_tag)
    prepend.push(`${cfg.x_header_tag}: ${cfg.x_header_line || `amavis at ${common.myhostname}`}`)
  if (x.virusNames.length) prepend.push(`X-Amavis-Alert: INFECTED, message contains virus: ${x.virusNames.join(', ')}`)
  if (x.bannedReason) prepend.push(fold(`X-Amavis-Alert: BANNED, message contains ${x.bannedReason}`))
  if (x.badHeader) prepend.push(fold(`X-Amavis-Alert: BAD HEADER SECTION, ${x.badHeader.reason ?? ''}`.trimEnd()))
  let subjectTag: string | undefined
  if (x.spam && x.spam.score >= s.tagLevel) {
    const sc = x.spam.score
    prepend.push(`X-Spam-Flag: ${sc >= s.tag2Level ? 'YES' : 'NO'}`)
    prepend.push(`X-Spam-Score: ${sc.toFixed(3)}`)
    prepend.push(`X-Spam-Level: ${'*'.repeat(Math.max(0, Math.min(64, Math.floor(sc))))}`)
    prepend.push(fold(`X-Spam-Status: ${spamStatusHeader(x.spam, s)}`))
    if (sc >= s.tag2Level && s.spamSubjectTag) subjectTag = s.spamSubjectTag
  }
  // The Received line differs per recipient only when it names one; the key ignores its date.
  const key = JSON.stringify([prepend.slice(1), subjectTag, x.singleRecipient ? x.recipient : ''])
  return { prepend, subjectTag, key }
}

/** Applies the edits to a header block (which ends with its empty line, if it had one). */
export function rewriteHeader(header: Buffer, edits: HeaderEdits): Buffer {
  const pre = Buffer.from(edits.prepend.map((l) => l + '\r\n').join(''), 'utf8')
  let h = header
  if (edits.subjectTag) {
    const text = h.toString('latin1')
    const m = /(^|\n)(Subject:[ \t]*)/i.exec(text)
    const tag = Buffer.from(edits.subjectTag, 'utf8')
    if (m) {
      const at = m.index + m[1].length + m[2].length
      h = Buffer.concat([h.subarray(0, at), tag, h.subarray(at)])
    } else {
      // No Subject: add one just before the empty line that ends the header.
      const endsBlank = text.endsWith('\r\n\r\n') ? 2 : text.endsWith('\n\n') ? 1 : 0
      const cut = h.length - endsBlank
      h = Buffer.concat([
        h.subarray(0, cut),
        Buffer.from(`Subject: ${edits.subjectTag.trimEnd()}\r\n`, 'utf8'),
        h.subarray(cut),
      ])
    }
  }
  return Buffer.concat([pre, h])
}
