// Replies for the blocked recipients (discard, bounce with a DSN, reject, tempfail), and in SMTP
// the DSN for recipients rejected next to accepted ones. A DSN that cannot be sent tempfails
// the recipients it was for: a failure report is never lost.
import { CC, DESTINY } from '@vigil/protocol'
import type { MessageContext, RecipientOutcome } from '../context.ts'
import { submit } from '../submit.ts'
import { blockReason } from './results.ts'
import type { Stage } from './stage.ts'

export const bounce: Stage = {
  name: 'bounce',
  elapsed: 'Sending',
  external: true,
  // Synchronous unless a DSN is to be sent: no promise per message for the common cases.
  run(ctx) {
    const bounceList: RecipientOutcome[] = []
    const { taskId } = ctx
    for (const o of ctx.outcomes) {
      if (o.destiny === DESTINY.D_PASS) continue
      const why = blockReason(ctx, o)
      if (o.destiny === DESTINY.D_TEMPFAIL) {
        o.reply = `451 4.5.0 Error in processing, id=${taskId}, ${ctx.failure?.message ?? why}`
        o.status = 'TempFailed'
      } else if (o.destiny === DESTINY.D_REJECT) {
        o.reply = `554 5.7.0 Reject, id=${taskId} - ${why}`
        o.status = 'Rejected'
      } else if (o.destiny === DESTINY.D_DISCARD) {
        o.reply = `250 2.7.0 Ok, discarded, id=${taskId} - ${why}`
        o.status = 'Discarded'
      } else if (o.destiny === DESTINY.D_BOUNCE) {
        bounceList.push(o)
      }
    }
    if (bounceList.length) return bounceBlocked(ctx, bounceList).then(() => reportRejected(ctx))
    return reportRejected(ctx)
  },
}

/** What every DSN about this message says of it (bounces by policy and next-hop rejections alike). */
function dsnMessageFields(ctx: MessageContext) {
  const { tx, deps } = ctx
  return {
    originalHeader: tx.body.header(),
    subject: ctx.parsed?.subject,
    arrivalDate: new Date(tx.receivedAt * 1000),
    envid: typeof tx.mailParams.ENVID === 'string' ? tx.mailParams.ENVID : undefined,
    logId: ctx.taskId,
    mailId: ctx.mailId,
    myhostname: deps.common.myhostname,
    hdrfrom: deps.cfg.hdrfrom_notify_sender,
    now: new Date(ctx.now() * 1000),
  }
}

async function bounceBlocked(ctx: MessageContext, bounceList: RecipientOutcome[]): Promise<void> {
  const { tx, deps, taskId, size, raw } = ctx
  const { analyzers } = deps
  // amavis never bounces to a null sender, nor for viruses (senders are faked), nor above the cutoff.
  const suppress = (o: RecipientOutcome) =>
    tx.mailFrom === '' ||
    o.ccatBlocking?.major === CC.VIRUS ||
    (o.spamLevel !== undefined && o.ccatBlocking?.major === CC.SPAM && o.spamLevel >= o.settings.dsnCutoffLevel)
  const toBounce = bounceList.filter((o) => !suppress(o))
  if (toBounce.length && !deps.dryRun && analyzers.buildDsn) {
    const ret = String(tx.mailParams.RET ?? '').toUpperCase()
    const dsn = analyzers.buildDsn({
      sender: tx.mailFrom,
      recipients: toBounce.map((o) => ({
        address: o.address,
        orcpt: tx.rcpts[ctx.outcomes.indexOf(o)].orcpt,
        status: '5.7.0',
        diagnostic: `554 5.7.0 Reject, id=${taskId} - ${blockReason(ctx, o)}`,
      })),
      ...dsnMessageFields(ctx),
      originalMessage:
        ret === 'FULL' && size < 256 * 1024 ? (raw && raw.length === size ? raw : await tx.body.readAll()) : undefined,
      ret: ret || undefined,
      reason: blockReason(ctx, toBounce[0]),
    })
    const r = await submit(ctx, 'Dsn', '', [tx.mailFrom], dsn, 'DSN')
    ctx.dsnSent = r.code < 300
    if (!ctx.dsnSent) {
      // Could not bounce: do not lose the failure report; have the MTA retry.
      for (const o of toBounce) {
        o.destiny = DESTINY.D_TEMPFAIL
        o.reply = `451 4.5.0 Error in processing, id=${taskId}, DSN could not be sent: ${r.text}`
        o.status = 'TempFailed'
      }
    }
  }
  for (const o of bounceList) {
    if (o.status === 'TempFailed') continue
    if (!suppress(o) && deps.dryRun) {
      o.reply = `250 2.5.0 Ok, id=${taskId}, BOUNCE (test mode: DSN not sent)`
      o.status = 'Bounced'
    } else if (!suppress(o) && ctx.dsnSent) {
      o.reply = `250 2.5.0 Ok, id=${taskId}, BOUNCE`
      o.status = 'Bounced'
    } else if (!suppress(o) && !analyzers.buildDsn && !deps.dryRun) {
      // No DSN builder available: reject instead, so that the sending MTA bounces.
      o.reply = `554 5.7.0 Reject, id=${taskId} - ${blockReason(ctx, o)}`
      o.status = 'Rejected'
    } else {
      o.reply = `250 2.7.1 Ok, id=${taskId}, BOUNCE (DSN suppressed)`
      o.status = 'NoBounce'
    }
  }
}

// SMTP (unlike LMTP) has one reply for all recipients. When some were accepted and others
// rejected (by policy or by the next hop), the message is accepted and the rejected ones are
// reported to the sender in a DSN, as amavis does; if that DSN cannot be sent, the whole
// message is tempfailed rather than dropped for those recipients.
function reportRejected(ctx: MessageContext): void | Promise<void> {
  const { tx, outcomes } = ctx
  if (tx.clientProtocol === 'LMTP' || ctx.deps.dryRun) return
  const rejected = outcomes.filter((o) => o.reply.startsWith('5'))
  const accepted = outcomes.some((o) => o.reply.startsWith('2'))
  if (!accepted || !rejected.length || outcomes.some((o) => o.reply.startsWith('4'))) return
  if (tx.mailFrom === '' || !ctx.deps.analyzers.buildDsn) {
    // Null sender (or no DSN builder): no DSN is possible; the rejection is only logged (NoBounce).
    for (const o of rejected) o.status = o.status === 'Rejected' ? 'NoBounce' : o.status
    return
  }
  return sendRejectedDsn(ctx, rejected)
}

async function sendRejectedDsn(ctx: MessageContext, rejected: RecipientOutcome[]): Promise<void> {
  const { tx, outcomes, taskId } = ctx
  const dsn = ctx.deps.analyzers.buildDsn!({
    sender: tx.mailFrom,
    recipients: rejected.map((o) => ({
      address: o.address,
      orcpt: tx.rcpts[outcomes.indexOf(o)].orcpt,
      status: /^\d{3} (\d\.\d{1,3}\.\d{1,3})/.exec(o.reply)?.[1] ?? '5.0.0',
      diagnostic: o.reply,
    })),
    ...dsnMessageFields(ctx),
    reason: rejected[0].reply,
  })
  const r = await submit(ctx, 'Dsn', '', [tx.mailFrom], dsn, 'DSN')
  if (r.code < 300) {
    ctx.dsnSent = true
    for (const o of rejected) {
      o.destiny = DESTINY.D_BOUNCE
      o.status = 'Bounced'
    }
  } else {
    for (const o of outcomes) {
      o.reply = `451 4.5.0 Error in processing, id=${taskId}, DSN for rejected recipients could not be sent: ${r.text}`
      o.status = 'TempFailed'
    }
  }
}
