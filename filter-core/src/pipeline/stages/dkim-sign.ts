// DKIM signing of originating mail ($enable_dkim_signing, per policy bank: the MLIST-NOCHECKS
// bank of the talk signs and checks nothing). This stage chooses the key and options
// (dkim/sign.ts, amavis dkim_make_signatures); the forward stage signs each copy as it is sent,
// with Vigil's header edits in place, as amavis signs at delivery. Infected, spam and
// suspected-spam mail is never signed (a signed spam could be replayed from anywhere).
import { CC } from '@vigil/protocol'
import { addressList, headerValue } from '../../mime/index.ts'
import { dkimSettings } from '../../dkim/settings.ts'
import { planSignature, signMessage, signingKeys } from '../../dkim/sign.ts'
import type { MessageContext } from '../context.ts'
import type { Stage } from './stage.ts'

const NOT_SIGNED: Record<number, string> = {
  [CC.VIRUS]: 'infected mail',
  [CC.SPAM]: 'spam',
  [CC.SPAMMY]: 'suspected spam',
}

export const dkimSign: Stage = {
  name: 'dkim-sign',
  applies: (ctx) => !ctx.failure && ctx.originating && !!ctx.parsed && dkimSettings(ctx.deps.cfg, ctx.bankNames).sign,
  run(ctx) {
    const h = ctx.parsed!.headers
    const from = addressList(headerValue(h, 'from'))
    const bad = ctx.outcomes
      .flatMap((o) => [o.ccatMain, o.ccatBlocking])
      .find((c) => c && NOT_SIGNED[c.major] !== undefined)
    if (bad) {
      ctx.log.info(`(${ctx.taskId}) dkim: not signing ${NOT_SIGNED[bad.major]} (from inside), From: ${from.join(', ')}`)
      return
    }
    try {
      const { plan, why } = planSignature(
        {
          from,
          senderHdr: addressList(headerValue(h, 'sender'))[0],
          envSender: ctx.sender,
          validDomains: ctx.dkim.valid.map((s) => s.domain),
        },
        signingKeys(ctx.deps.cfg),
        dkimSettings(ctx.deps.cfg, ctx.bankNames).signatureOptions,
      )
      ctx.dkim.signPlan = plan
      if (!plan) ctx.log.debug(`(${ctx.taskId}) dkim: not signing, ${why}, From: ${from.join(', ')}`)
    } catch (e) {
      ctx.log.error(`(${ctx.taskId}) dkim: signing error: ${(e as Error).message}`)
    }
  },
}

/** The header block to send with a DKIM-Signature prepended (signing `header` + the body); unsigned on error. */
export async function signedHeader(ctx: MessageContext, header: Buffer, bodyStart: number): Promise<Buffer> {
  const plan = ctx.dkim.signPlan
  if (!plan) return header
  try {
    const all = ctx.raw && ctx.raw.length === ctx.size ? ctx.raw : await ctx.tx.body.readAll()
    const names = [...header.toString('latin1').matchAll(/^([!-9;-~]+)[ \t]*:/gm)].map((m) => m[1])
    const sig = await signMessage(
      Buffer.concat([header, all.subarray(bodyStart)]),
      plan,
      ctx.deps.cfg,
      names,
      ctx.tx.receivedAt,
    )
    if (!ctx.dkim.newSigs.some((s) => s.domain === plan.d && s.selector === plan.s))
      ctx.dkim.newSigs.push({ domain: plan.d, selector: plan.s })
    ctx.log.debug(
      `(${ctx.taskId}) dkim: signing (${plan.source}:${plan.address}), d=${plan.d}, s=${plan.s}, a=${plan.a}, c=${plan.c}`,
    )
    return Buffer.concat([Buffer.from(sig, 'utf8'), header])
  } catch (e) {
    ctx.log.error(`(${ctx.taskId}) dkim: signing error: ${(e as Error).message}`)
    return header
  }
}
