// 'Q': quarantines a message blocked for a recipient with a *_quarantine_to, and notifies the
// virus_admin of recipients blocked for a virus. A quarantine that fails tempfails the message:
// a blocked message is never dropped without its copy.
import { CC, ccatMajorName } from '@vigil/protocol'
import { CheckFailure, type MessageContext, type RecipientOutcome } from '../context.ts'
import { submit } from '../submit.ts'
import type { Stage } from './stage.ts'

function quarantineTo(o: RecipientOutcome): string {
  const c = o.ccatBlocking
  if (!c) return ''
  if (c.major === CC.VIRUS) return o.settings.virusQuarantineTo
  if (c.major === CC.BANNED) return o.settings.bannedQuarantineTo
  if (c.major === CC.SPAM) return o.settings.spamQuarantineTo
  if (c.major === CC.BADH) return o.settings.badHeaderQuarantineTo
  return ''
}

const wantsQuarantine = (ctx: MessageContext) => ctx.outcomes.some((o) => quarantineTo(o) !== '')
const virusAdminOf = (o: RecipientOutcome) => (o.ccatBlocking?.major === CC.VIRUS ? o.settings.virusAdmin : '')
const wantsNotification = (ctx: MessageContext) => ctx.virusNames.length > 0 && ctx.outcomes.some(virusAdminOf)

export const quarantineNotify: Stage = {
  name: 'quarantine-notify',
  state: 'Q',
  elapsed: 'Sending',
  external: true,
  applies: (ctx) => !ctx.failure && !ctx.deps.dryRun && (wantsQuarantine(ctx) || wantsNotification(ctx)),
  async run(ctx) {
    if (wantsQuarantine(ctx) && ctx.deps.analyzers.quarantine) await quarantine(ctx)
    if (!ctx.failure && wantsNotification(ctx) && ctx.deps.analyzers.buildAdminNotification) await notify(ctx)
  },
}

async function quarantine(ctx: MessageContext): Promise<void> {
  const { counters, size, tx, raw } = ctx
  counters.count('QuarMsgs')
  counters.count('QuarMsgsSize', size, 'C64')
  try {
    const full = raw && raw.length === size ? raw : await tx.body.readAll()
    const first = ctx.outcomes.find((o) => quarantineTo(o) !== '')!
    ctx.quarantine = await ctx.deps.analyzers.quarantine!.store(ctx.mailId, full, {
      ccat: first.ccatBlocking ?? ctx.msgCcat,
      sender: tx.mailFrom,
      recipients: tx.rcpts.map((r) => r.address),
    })
    ctx.quarantined = true
    counters.count('OutMsgs')
    counters.count('OutMsgsSubmit')
    counters.count('OutMsgsProtoLocal')
    counters.count('OutMsgsProtoLocalSubmit')
    counters.count('OutMsgsSubmitQuar')
    counters.count('OutMsgsDelivers')
    for (const n of [
      'OutMsgsSize',
      'OutMsgsSizeSubmit',
      'OutMsgsSizeProtoLocal',
      'OutMsgsSizeProtoLocalSubmit',
      'OutMsgsSizeSubmitQuar',
    ])
      counters.count(n, size, 'C64')
    const majorName = ccatMajorName(ctx.msgCcat)
    counters.count(`QuarMsgs${majorName}`)
    counters.count(`QuarMsgsSize${majorName}`, size, 'C64')
  } catch (e) {
    ctx.log.error(`(${ctx.taskId}) Quarantine failed; message tempfailed.`, { err: e as Error })
    counters.count('QuarAttemptTempFails')
    ctx.failure = new CheckFailure('quarantine', e)
  }
}

async function notify(ctx: MessageContext): Promise<void> {
  const { deps, tx } = ctx
  const { cfg, common } = deps
  const admins = [...new Set(ctx.outcomes.map(virusAdminOf).filter((a) => a !== ''))]
  for (const admin of admins) {
    const msg = deps.analyzers.buildAdminNotification!({
      admin,
      logId: ctx.taskId,
      mailId: ctx.mailId,
      sender: tx.mailFrom,
      recipients: tx.rcpts.map((r) => r.address),
      virusNames: ctx.virusNames,
      clientIp: ctx.clientIp,
      subject: ctx.parsed?.subject,
      messageId: ctx.parsed?.messageId,
      scanners: ctx.virus ? [ctx.virus.scanner] : undefined,
      quarantine: ctx.quarantine?.location,
      originalHeader: tx.body.header(),
      myhostname: common.myhostname,
      hdrfrom: cfg.hdrfrom_notify_sender,
      now: new Date(ctx.now() * 1000),
    })
    await submit(ctx, 'Notif', cfg.mailfrom_notify_admin || `postmaster@${common.myhostname}`, [admin], msg, 'NOTIF')
  }
}
