// AM.PDP `request=release` and `request=requeue` (amavis preprocess_policy_query +
// dispatch_from_quarantine) on top of `vigil release` (tools/release.ts): the request is checked
// as amavis checks it, then the quarantined message is re-sent with releaseMessage, to
// release_method (default notify_method) or requeue_method. Never throws: every failure becomes
// amavis's reply lines (replies.ts).
import { createHash } from 'node:crypto'
import { basename, join } from 'node:path'
import { ErrorCode, VigilError, type CommonConfig } from '@vigil/protocol'
import type { FilterConfig } from '../config.ts'
import type { QuarantineStore } from '../pipeline/analyzers.ts'
import { releaseMessage } from '../tools/release.ts'
import { rfc5322Date } from '../notify/message.ts'
import { first, type AmpdpRequest } from './codec.ts'
import { dispatchResponse, failureResponse, noRecipientsResponse } from './replies.ts'

export interface QuarantineRequestDeps {
  common: CommonConfig
  cfg: FilterConfig
  /** The worker's store; absent: releaseMessage opens the configured one. */
  quarantine?: QuarantineStore
  /** $QUARANTINEDIR as resolved (resolveHome). */
  quarantineDir: string
  /** Clock for Resent-Date (tests). */
  now?: () => Date
}

export interface QuarantineRequestResult {
  lines: string[]
  /** 'released': every recipient got 2xx; 'failed': sent, some not accepted; 'refused': nothing sent. */
  outcome: 'released' | 'failed' | 'refused'
  mailId?: string
}

/** A checked release/requeue request: what to re-send, from where, to whom. */
export interface CheckedRequest {
  type: 'release' | 'requeue'
  /** The Vigil mail_id to read (from mail_file when given, else mail_id). */
  mailId: string
  /** The file amavis would open, for its "File … does not exist" message. */
  fname: string
  sender?: string
  recipients: string[]
  requestedBy?: string
}

/** amavis unquote_rfc2821_local on `<addr>` or `addr`: drops the brackets and local-part quoting. */
export function unquoteAddress(a: string): string {
  const s = /^<(.*)>$/s.exec(a)?.[1] ?? a
  const m = /^"((?:[^"\\]|\\.)*)"(@.*)?$/s.exec(s)
  return m ? m[1].replace(/\\(.)/g, '$1') + (m[2] ?? '') : s
}

/** amavis's secret_id check: mail_id = base64url(md5(secret))[0..12] (2.7+), or the pre-2.7 form. */
export function secretMatches(secret: string, mailId: string): boolean {
  if (!secret.includes('+')) {
    const bin = Buffer.from(secret.replace(/-/g, '+').replace(/_/g, '/'), 'base64')
    const id = createHash('md5').update(bin).digest('base64').slice(0, 12).replace(/\+/g, '-').replace(/\//g, '_')
    if (id === mailId) return true
  }
  if (!secret.includes('_')) {
    const id = createHash('md5').update(secret, 'latin1').digest('base64').slice(0, 12).replace(/\//g, '-')
    if (id === mailId) return true
  }
  return false
}

// amavis requires an alphanumeric first character; Vigil's base64url ids may start with - or _.
const MAIL_ID = /^[A-Za-z0-9_-][A-Za-z0-9_+-]*={0,2}$/
const SAFE_FILE = /^[A-Za-z0-9][A-Za-z0-9/_.+-]*$/
// A Vigil quarantine file: [<subdir>/]<ccat>-<mail_id>.gz (quarantine.ts).
const VIGIL_FILE = /^(?:[a-z]+-)?([A-Za-z0-9_-]{12})(?:\.gz)?$/

/** Checks a release/requeue request in amavis's order; returns its reason for refusing, or the request. */
export function checkQuarantineRequest(
  req: AmpdpRequest,
  cfg: FilterConfig,
  quarantineDir: string,
): CheckedRequest | { refused: string } {
  const request = first(req, 'request')
  if (request === undefined) return { refused: "Missing 'request' field" }
  const type = request.toLowerCase()
  if (type !== 'release' && type !== 'requeue') return { refused: `Unsupported request '${request}'` }
  const mailId = first(req, 'mail_id')
  if (mailId === undefined) return { refused: "Missing 'mail_id' field" }
  if (!MAIL_ID.test(mailId)) return { refused: `Invalid mail_id '${mailId}'` }
  const secret = first(req, 'secret_id') ?? ''
  if (secret === '') {
    if (cfg.auth_required_release) return { refused: 'Secret_id is required, but missing' }
  } else if (!secretMatches(secret, mailId)) return { refused: `Secret_id ${secret} does not match mail_id ${mailId}` }
  const quarType = first(req, 'quar_type') || 'F'
  if (quarType === 'Q') return { refused: 'SQL quarantine code not enabled (3)' }
  const mailFile = first(req, 'mail_file') ?? ''
  let fileId = mailId
  let fname: string
  if (mailFile !== '') {
    if (!SAFE_FILE.test(mailFile) || /\.\.(?:\/|$)/.test(mailFile)) return { refused: `Unsafe filename '${mailFile}'` }
    fname = join(quarantineDir, mailFile)
    fileId = VIGIL_FILE.exec(basename(mailFile))?.[1] ?? mailId
    // amavisd-release takes an id that starts or ends with - or _ as part of the file name
    // prefix ("banned--abc…"): the id from the file name wins when the requested one ends with it.
    if (fileId !== mailId && !mailId.endsWith(fileId))
      return { refused: `Stored quarantine ID '${fileId}' does not match requested ID '${mailId}'` }
  } else fname = join(quarantineDir, mailId[0], `${mailId}${quarType === 'Z' ? '.gz' : ''}`)
  const sender = first(req, 'sender')
  const requestedBy = first(req, 'requested_by')
  return {
    type,
    mailId: fileId,
    fname,
    sender: sender === undefined ? undefined : unquoteAddress(sender),
    recipients: (req.get('recipient') ?? []).map(unquoteAddress),
    requestedBy: requestedBy === undefined ? undefined : unquoteAddress(requestedBy),
  }
}

/** amavis's Resent-* fields for release_format 'resend' (msg_from_quarantine). */
export function resentHeaders(
  c: CheckedRequest,
  recipients: readonly string[],
  o: { myhostname: string; hdrfrom: string; newId: string; now: Date },
): string[] {
  const hdrfrom = o.hdrfrom || `"Content-filter at ${o.myhostname}" <postmaster@${o.myhostname}>`
  const h = c.requestedBy
    ? [`Resent-From: <${c.requestedBy}>`, `Resent-Sender: ${hdrfrom}`]
    : [`Resent-From: ${hdrfrom}`]
  h.push(`Resent-To: ${recipients.length === 1 ? `<${recipients[0]}>` : 'undisclosed-recipients:;'}`)
  h.push(`Resent-Date: ${rfc5322Date(o.now)}`)
  h.push(`Resent-Message-ID: <${c.mailId}-${o.newId}@${o.myhostname}>`)
  return h.map((l) => l.replace(/[\r\n]/g, ''))
}

/** Answers one release/requeue request with amavis's reply lines; never throws. */
export async function handleQuarantineRequest(
  req: AmpdpRequest,
  deps: QuarantineRequestDeps,
): Promise<QuarantineRequestResult> {
  const c = checkQuarantineRequest(req, deps.cfg, deps.quarantineDir)
  if ('refused' in c) return { lines: failureResponse(c.refused), outcome: 'refused' }
  const { cfg, common } = deps
  const method =
    c.type === 'requeue' ? cfg.requeue_method : cfg.release_method !== '' ? cfg.release_method : cfg.notify_method
  const newId = createHash('md5').update(`${c.mailId}${Date.now()}${Math.random()}`).digest('base64url').slice(0, 12)
  try {
    const res = await releaseMessage(common, cfg, c.mailId, {
      quarantine: deps.quarantine,
      recipients: c.recipients,
      sender: c.sender,
      method,
      headers: (recipients) =>
        resentHeaders(c, recipients, {
          myhostname: common.myhostname,
          hdrfrom: cfg.hdrfrom_notify_sender,
          newId,
          now: (deps.now ?? (() => new Date()))(),
        }),
    })
    if (!res.recipients.length) return { lines: noRecipientsResponse(), outcome: 'released', mailId: c.mailId }
    return {
      lines: dispatchResponse(res.replies, method),
      outcome: res.released ? 'released' : 'failed',
      mailId: c.mailId,
    }
  } catch (e) {
    if (e instanceof VigilError && e.code === ErrorCode.RELEASE_NOT_FOUND)
      return { lines: failureResponse(`File ${c.fname} does not exist`), outcome: 'refused', mailId: c.mailId }
    // Nothing was sent (releaseMessage throws only before the transaction): amavis's Failure reply.
    return { lines: failureResponse((e as Error).message ?? String(e)), outcome: 'refused', mailId: c.mailId }
  }
}
