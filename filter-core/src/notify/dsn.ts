// Delivery status notifications (RFC 3464 multipart/report) and administrator notifications,
// in the spirit of amavis's $notify_sender_templ and $notify_virus_admin_templ. Pure functions:
// they build the message bytes; sending is the pipeline's job.
import { createHash } from 'node:crypto'
import { crlf, encodeHeaderText, foldHeader, rfc5322Date, safeAddress } from './message.ts'
import { trimEndChars } from '../mime/text.ts'

export interface DsnRecipient {
  /** Final recipient address (envelope), without angle brackets. */
  readonly address: string
  /** DSN ORCPT when the client sent one (`rfc822;addr` or a bare address). */
  readonly orcpt?: string
  /** RFC 3464 action; amavis blocks with `failed`. */
  readonly action?: 'failed' | 'delayed' | 'delivered' | 'relayed' | 'expanded'
  /** Enhanced status code, e.g. `5.7.0`. */
  readonly status: string
  /** SMTP response given for this recipient, e.g. `554 5.7.0 Reject, id=04321-01 - INFECTED: Eicar-Test-Signature`. */
  readonly diagnostic?: string
}

export interface DsnOptions {
  /** $myhostname: Reporting-MTA and the domain of From/Message-ID. */
  readonly reportingMta: string
  /** Original envelope sender; the DSN goes to this address. Must not be the null sender. */
  readonly sender: string
  readonly recipients: readonly DsnRecipient[]
  /** Header block of the original message (the text/rfc822-headers part). */
  readonly originalHeaders: Buffer | string
  /** Short reason shown to the sender, e.g. `INFECTED (Eicar-Test-Signature)` or `BANNED (… | .exe,.exe-ms,a.exe)`. */
  readonly reason: string
  readonly mailId?: string
  readonly logId?: string
  /** Original Subject (decoded); quoted in the DSN subject. */
  readonly originalSubject?: string
  /** DSN ENVID from MAIL FROM. */
  readonly envid?: string
  readonly arrivalDate?: Date
  /** Time of the report (defaults to now). */
  readonly date?: Date
  /** Header From of the DSN; defaults to `Mail Delivery System <MAILER-DAEMON@reportingMta>`. */
  readonly from?: string
}

/** Message-ID and MIME boundary derived from the inputs, so the same report is byte-identical. */
function stableToken(...parts: (string | undefined)[]): string {
  return createHash('sha1')
    .update(parts.map((p) => p ?? '').join('\0'))
    .digest('hex')
    .slice(0, 20)
}

/**
 * Builds an RFC 3464 non-delivery report to the original sender: a human-readable text/plain
 * part, a message/delivery-status part (one block per recipient), and the original header
 * block as text/rfc822-headers. Returns CRLF-terminated bytes. Throws a TypeError for the null
 * sender (a DSN to `<>` must never be generated) or an empty recipient list.
 */
export function buildDsn(opts: DsnOptions): Buffer {
  if (!opts.sender) throw new TypeError('No DSN may be sent to the null sender.')
  if (opts.recipients.length === 0) throw new TypeError('A DSN needs at least one recipient.')
  const date = opts.date ?? new Date()
  const host = safeAddress(opts.reportingMta)
  const token = stableToken(opts.mailId, opts.logId, opts.sender, date.toISOString())
  const boundary = `----------=_${token}`
  const from = opts.from ?? `Mail Delivery System <MAILER-DAEMON@${host}>`
  const subject = `Undeliverable mail${opts.originalSubject ? `: ${opts.originalSubject}` : ''}`
  const headers =
    typeof opts.originalHeaders === 'string' ? opts.originalHeaders : opts.originalHeaders.toString('latin1')

  const human = [
    `This is the mail system at host ${host}.`,
    '',
    'Your message could not be delivered to one or more recipients.',
    `The message was blocked by the content filter: ${opts.reason.replace(/[\r\n]+/g, ' ')}`,
    '',
    ...(opts.logId || opts.mailId
      ? [`Our internal reference code for your message is ${[opts.logId, opts.mailId].filter(Boolean).join('/')}`, '']
      : []),
    ...opts.recipients.map(
      (r) =>
        `<${safeAddress(r.address)}>: ${(r.diagnostic ?? `${r.status} ${r.action ?? 'failed'}`).replace(/[\r\n]+/g, ' ')}`,
    ),
  ]
  const perMessage = [
    `Reporting-MTA: dns; ${host}`,
    ...(opts.envid ? [`Original-Envelope-Id: ${opts.envid.replace(/[\r\n]+/g, '')}`] : []),
    ...(opts.mailId ? [`X-Amavis-Mail-Id: ${opts.mailId}`] : []),
    ...(opts.arrivalDate ? [`Arrival-Date: ${rfc5322Date(opts.arrivalDate)}`] : []),
  ]
  const perRecipient = opts.recipients.map((r) => {
    const orcpt = r.orcpt ? (/^[A-Za-z0-9-]+;/.test(r.orcpt) ? r.orcpt : `rfc822; ${r.orcpt}`) : undefined
    return [
      '',
      ...(orcpt ? [`Original-Recipient: ${orcpt.replace(/[\r\n]+/g, '')}`] : []),
      `Final-Recipient: rfc822; ${safeAddress(r.address)}`,
      `Action: ${r.action ?? 'failed'}`,
      `Status: ${r.status}`,
      ...(r.diagnostic ? [foldHeader(`Diagnostic-Code: smtp; ${r.diagnostic.replace(/[\r\n]+/g, ' ')}`)] : []),
      `Last-Attempt-Date: ${rfc5322Date(date)}`,
    ]
  })
  const lines = [
    `From: ${from}`,
    `Date: ${rfc5322Date(date)}`,
    foldHeader(`Subject: ${encodeHeaderText(subject)}`),
    `Message-ID: <DSN${token}@${host}>`,
    `To: <${safeAddress(opts.sender)}>`,
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status;`,
    ` boundary="${boundary}"`,
    '',
    'This is a MIME-encapsulated message.',
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=us-ascii',
    'Content-Description: Notification',
    'Content-Transfer-Encoding: 7bit',
    '',
    ...human.map((l) => l.replace(/[^\x20-\x7e]/g, '?')),
    '',
    `--${boundary}`,
    'Content-Type: message/delivery-status',
    'Content-Description: Delivery report',
    '',
    ...perMessage,
    ...perRecipient.flat(),
    '',
    `--${boundary}`,
    'Content-Type: text/rfc822-headers',
    'Content-Description: Undelivered-message headers',
    `Content-Transfer-Encoding: ${/[\x80-\xff]/.test(headers) ? '8bit' : '7bit'}`,
    '',
    trimEndChars(headers, '\r\n'),
    '',
    `--${boundary}--`,
    '',
  ]
  return Buffer.from(crlf(lines), 'latin1')
}

export interface AdminNotificationOptions {
  /** Recipient: $virus_admin (or banned/spam admin). */
  readonly to: string
  readonly reportingMta: string
  /** Envelope sender of the blocked message ('' for the null sender). */
  readonly sender: string
  readonly recipients: readonly { readonly address: string; readonly response?: string }[]
  /** What was found: virus names, or the banned reason. */
  readonly findings: readonly string[]
  /** Category label as amavis logs it: `INFECTED` (default), `BANNED`, `SPAM`, `BAD-HEADER`. */
  readonly category?: string
  /** Scanner(s) that detected it, e.g. `ClamAV-clamd`. */
  readonly scanners?: readonly string[]
  readonly contentType?: string
  readonly mailId?: string
  readonly logId?: string
  readonly clientIp?: string
  /** Quarantine location, as in the JSON `quarantine` field. */
  readonly quarantine?: string
  readonly originalHeaders?: Buffer | string
  readonly originalSubject?: string
  readonly originalMessageId?: string
  readonly originalFrom?: string
  readonly date?: Date
  /** Header From; defaults to `"Content-filter at <host>" <postmaster@<host>>`. */
  readonly from?: string
}

/**
 * Builds the plain-text notification amavis sends to $virus_admin when it blocks a message:
 * subject `INFECTED (<names>) in mail FROM [<client ip>] <sender>`, a body that lists the
 * findings, the message's identity and what happened to each recipient, then the original
 * header section. Returns CRLF-terminated bytes.
 */
export function buildAdminNotification(opts: AdminNotificationOptions): Buffer {
  const date = opts.date ?? new Date()
  const host = safeAddress(opts.reportingMta)
  const category = opts.category ?? 'INFECTED'
  const token = stableToken('admin', opts.mailId, opts.logId, opts.to, date.toISOString())
  const clean = (s: string) => s.replace(/[\r\n]+/g, ' ')
  const subject = `${category} (${opts.findings.map(clean).join(', ')}) in mail FROM${opts.clientIp ? ` [${clean(opts.clientIp)}]` : ''} <${safeAddress(opts.sender)}>`
  const headers =
    opts.originalHeaders === undefined
      ? ''
      : typeof opts.originalHeaders === 'string'
        ? opts.originalHeaders
        : opts.originalHeaders.toString('latin1')
  const body = [
    ...(category === 'INFECTED'
      ? [`A virus was found: ${opts.findings.map(clean).join(', ')}`]
      : [`${category} contents found: ${opts.findings.map(clean).join(', ')}`]),
    ...(opts.scanners?.length ? [`Scanner detecting a virus: ${opts.scanners.map(clean).join(', ')}`] : []),
    '',
    ...(opts.contentType ? [`Content type: ${clean(opts.contentType)}`] : []),
    ...(opts.logId || opts.mailId
      ? [`Internal reference code for the message is ${[opts.logId, opts.mailId].filter(Boolean).join('/')}`]
      : []),
    '',
    ...(opts.clientIp ? [`First upstream SMTP client IP address: [${clean(opts.clientIp)}]`, ''] : []),
    `Return-Path: <${safeAddress(opts.sender)}>`,
    ...(opts.originalFrom ? [`From: ${clean(opts.originalFrom)}`] : []),
    ...(opts.originalMessageId ? [`Message-ID: ${clean(opts.originalMessageId)}`] : []),
    ...(opts.originalSubject !== undefined ? [`Subject: ${clean(opts.originalSubject)}`] : []),
    '',
    'Delivery of the email was stopped!',
    '',
    ...(opts.quarantine ? [`The message has been quarantined as: ${clean(opts.quarantine)}`, ''] : []),
    'The message WAS NOT relayed to:',
    ...opts.recipients.map((r) => `<${safeAddress(r.address)}>${r.response ? `:\n   ${clean(r.response)}` : ''}`),
    ...(headers
      ? [
          '',
          '------------------------- BEGIN HEADERS -----------------------------',
          trimEndChars(headers, '\r\n'),
          '-------------------------- END HEADERS ------------------------------',
        ]
      : []),
    '',
  ]
  const eightBit = body.some((l) => /[^\x00-\x7f]/.test(l))
  const lines = [
    `From: ${opts.from ?? `"Content-filter at ${host}" <postmaster@${host}>`}`,
    `Date: ${rfc5322Date(date)}`,
    foldHeader(`Subject: ${encodeHeaderText(subject)}`),
    `Message-ID: <VA${token}@${host}>`,
    `To: <${safeAddress(opts.to)}>`,
    'Auto-Submitted: auto-generated',
    'MIME-Version: 1.0',
    `Content-Type: text/plain; charset=${eightBit ? 'utf-8' : 'us-ascii'}`,
    `Content-Transfer-Encoding: ${eightBit ? '8bit' : '7bit'}`,
    '',
    ...body,
  ]
  return Buffer.from(crlf(lines), eightBit ? 'utf8' : 'latin1')
}

/** The virus-admin notification: `buildAdminNotification` with category `INFECTED`. */
export function buildVirusAdminNotification(opts: Omit<AdminNotificationOptions, 'category'>): Buffer {
  return buildAdminNotification({ ...opts, category: 'INFECTED' })
}
