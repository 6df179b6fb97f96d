// 'r': per-recipient content categories and destinies from what the checks found, the
// message's category, and the Content* counters. A recipient's bypass_* settings hide the
// findings of the checks it bypasses.
import { CC, DESTINY, ccatDisplayName, ccatMajorName, compareCcat, type Ccat } from '@vigil/protocol'
import type { MessageContext, RecipientOutcome } from '../context.ts'
import type { Stage } from './stage.ts'

export const results: Stage = {
  name: 'results',
  state: 'r',
  run(ctx) {
    ctx.outcomes = ctx.rcptAddrs.map((address, i) => outcomeFor(ctx, address, i))
    ctx.msgCcat = messageCcat(ctx.outcomes)
    const { counters } = ctx
    // No-OID extras amavis sends (the responder stores them, agents ignore them).
    for (const v of ctx.virusNames) counters.count(`virus.byname.${v.replace(/[^0-9A-Za-z:./_+-]/g, '-')}`)
    const majorName = ccatMajorName(ctx.msgCcat)
    counters.count(`Content${majorName}Msgs`)
    for (const d of ctx.dirs) counters.count(`Content${majorName}Msgs${d}`)
  },
}

function outcomeFor(ctx: MessageContext, address: string, i: number): RecipientOutcome {
  const s = ctx.rcptSettings[i]
  const { failure, virusNames, bannedReason, virusUnchecked, unchecked, badHeader } = ctx
  const score = ctx.spam?.score
  const cats: { ccat: Ccat; destiny: number }[] = []
  if (failure) cats.push({ ccat: { major: CC.UNCHECKED, minor: 0 }, destiny: DESTINY.D_TEMPFAIL })
  if (virusNames.length && !s.bypassVirusChecks)
    cats.push({ ccat: { major: CC.VIRUS, minor: 0 }, destiny: s.virusDestiny })
  if (bannedReason && !s.bypassBannedChecks)
    cats.push({ ccat: { major: CC.BANNED, minor: 0 }, destiny: s.bannedDestiny })
  if (virusUnchecked && !s.bypassVirusChecks)
    cats.push({ ccat: { major: CC.UNCHECKED, minor: 0 }, destiny: s.uncheckedDestiny })
  if (unchecked && !s.bypassVirusChecks)
    cats.push({ ccat: { major: CC.UNCHECKED, minor: unchecked.minor }, destiny: s.uncheckedDestiny })
  if (score !== undefined && !s.bypassSpamChecks) {
    if (score >= s.killLevel) cats.push({ ccat: { major: CC.SPAM, minor: 0 }, destiny: s.spamDestiny })
    else if (score >= s.tag2Level) cats.push({ ccat: { major: CC.SPAMMY, minor: 0 }, destiny: DESTINY.D_PASS })
  }
  if (badHeader && !s.bypassHeaderChecks)
    cats.push({ ccat: { major: CC.BADH, minor: badHeader.minor }, destiny: s.badHeaderDestiny })
  const tagged = score !== undefined && !s.bypassSpamChecks && score >= s.tagLevel
  cats.push({ ccat: { major: CC.CLEAN, minor: tagged ? 1 : 0 }, destiny: DESTINY.D_PASS })
  cats.sort((a, b) => compareCcat(b.ccat, a.ccat))
  const blocking = cats.find((c) => c.destiny !== DESTINY.D_PASS)
  let destiny = blocking ? blocking.destiny : DESTINY.D_PASS
  if (ctx.deps.cfg.mode === 'pre_queue' && destiny === DESTINY.D_BOUNCE) destiny = DESTINY.D_REJECT
  return {
    address,
    isLocal: ctx.rcptLocal[i],
    settings: s,
    ccatMain: cats[0].ccat,
    ccatBlocking: blocking?.ccat,
    destiny,
    spamLevel: score,
    tagged,
    reply: '',
    status: 'Unknown',
    action: '?',
  }
}

/** The message's category: the most severe blocking one, else the most severe main one. */
function messageCcat(outcomes: RecipientOutcome[]): Ccat {
  const blocked = outcomes.filter((o) => o.ccatBlocking).map((o) => o.ccatBlocking!)
  const pool = blocked.length ? blocked : outcomes.map((o) => o.ccatMain)
  return pool.sort((a, b) => compareCcat(b, a))[0] ?? { major: CC.CLEAN, minor: 0 }
}

/** Why a recipient is blocked, as the SMTP replies and DSNs say it. */
export function blockReason(ctx: MessageContext, o: RecipientOutcome): string {
  const c = o.ccatBlocking ?? o.ccatMain
  if (c.major === CC.VIRUS) return `INFECTED: ${ctx.virusNames.join(', ')}`
  if (c.major === CC.BANNED) return `BANNED: ${ctx.bannedReason}`
  if (c.major === CC.SPAM) return 'SPAM'
  if (c.major === CC.BADH) return `BAD HEADER: ${ctx.badHeader?.reason ?? ''}`.trim()
  if (c.major === CC.UNCHECKED) return 'UNCHECKED'
  return ccatDisplayName(c).toUpperCase()
}
