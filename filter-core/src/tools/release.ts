// `vigil release MAIL_ID` (amavisd-release): reads a quarantined message, recovers its envelope
// from the X-Envelope-From / X-Envelope-To headers the filter put on top when quarantining, removes
// those headers and re-injects the message to forward_method. Throws a VigilError naming the
// problem (RELEASE_NOT_FOUND when there is no such quarantined message).
import { ErrorCode, VigilError, type CommonConfig } from '@vigil/protocol'
import type { FilterConfig } from '../config.ts'
import { SmtpClient, type Reply } from '../forward/client.ts'
import { resolveHome } from '../cluster/worker.ts'
import { buildAnalyzers } from '../pipeline/real-analyzers.ts'
import type { QuarantineStore } from '../pipeline/analyzers.ts'
import { envelopeOf } from './test-message.ts'

export interface ReleaseResult {
  mailId: string
  sender: string
  recipients: string[]
  replies: Reply[]
  /** True when every recipient got 2xx from the next hop. */
  released: boolean
}

const ENVELOPE_HEADER = /^(X-Envelope-From|X-Envelope-To|X-Quarantine-ID):[^\n]*\n([ \t][^\n]*\n)*/i

/** Removes the quarantine envelope headers from the top of the message. */
export function stripQuarantineHeaders(raw: Buffer): Buffer {
  let s = raw.toString('latin1')
  for (;;) {
    const m = ENVELOPE_HEADER.exec(s)
    if (!m) break
    s = s.slice(m[0].length)
  }
  return Buffer.from(s, 'latin1')
}

export async function releaseMessage(
  common: CommonConfig,
  filterCfg: FilterConfig,
  mailId: string,
  opts: {
    quarantine?: QuarantineStore
    recipients?: string[]
    /** Replaces the stored envelope sender (AM.PDP `sender=`). */
    sender?: string
    /** Delivery method instead of forward_method (AM.PDP: release_method, requeue_method). */
    method?: string
    /** Header lines (no line end) for the final recipients, put on top (AM.PDP's Resent-* fields). */
    headers?: (recipients: string[]) => string[]
  } = {},
): Promise<ReleaseResult> {
  if (!/^[A-Za-z0-9_-]{12}$/.test(mailId))
    throw new VigilError(ErrorCode.RELEASE_NOT_FOUND, `"${mailId}" is not a mail_id (12 characters [A-Za-z0-9_-]).`)
  const paths = resolveHome(common, filterCfg)
  const store =
    opts.quarantine ??
    buildAnalyzers(filterCfg, { quarantineDir: paths.quarantine, myhostname: common.myhostname }).quarantine
  if (!store) throw new VigilError(ErrorCode.RELEASE_NOT_FOUND, 'No quarantine store is available.')
  let raw: Buffer
  try {
    raw = await store.read(mailId)
  } catch (e) {
    throw new VigilError(
      ErrorCode.RELEASE_NOT_FOUND,
      `No quarantined message with mail_id ${mailId} in ${paths.quarantine}.`,
      { cause: e },
    )
  }
  const env = envelopeOf(raw)
  const recipients = opts.recipients?.length ? opts.recipients : env.to
  const sender = opts.sender ?? env.from
  const msg = stripQuarantineHeaders(raw)
  const client = new SmtpClient(opts.method ?? filterCfg.forward_method, { heloName: common.myhostname })
  try {
    const replies = await client.send({
      mailFrom: sender,
      size: msg.length,
      rcpts: recipients.map((address) => ({ address })),
      content: () => [
        Buffer.from(
          [...(opts.headers?.(recipients) ?? []), `X-Quarantine-ID: <${mailId}>`].map((h) => `${h}\r\n`).join(''),
        ),
        msg,
      ],
    })
    return { mailId, sender, recipients, replies, released: replies.every((r) => r.code < 300) }
  } finally {
    await client.close()
  }
}
