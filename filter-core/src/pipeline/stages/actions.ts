// Each recipient's action (spec §5.4) from its reply and destiny, the InMsgsStatus* counters,
// the log line's actions, and the replies to the client: LMTP one per recipient, SMTP one for all.
import { DESTINY } from '@vigil/protocol'
import type { RecipientOutcome } from '../context.ts'
import type { Stage } from './stage.ts'

export const actions: Stage = {
  name: 'actions',
  run(ctx) {
    const { outcomes, originating } = ctx
    for (const o of outcomes) o.action = actionOf(o)
    // InMsgsStatus keys: distinct, sorted.
    const statusKeys = new Set<string>()
    for (const o of outcomes) {
      const which = o.status
      const dir = o.isLocal ? (originating ? 'Internal' : 'Inbound') : originating ? 'Outbound' : 'OpenRelay'
      statusKeys.add(which)
      statusKeys.add(`${which}${dir}`)
      if (originating) statusKeys.add(`${which}Originating`)
      if (which === 'RelayedTagged' || which === 'RelayedUntagged') statusKeys.add('Relayed')
    }
    const sortedKeys = [...statusKeys].sort()
    for (const k of sortedKeys) ctx.counters.count(`InMsgsStatus${k}`)
    ctx.actionsPerformed = sortedKeys
      .filter((k) => /(Inbound|Internal|Outbound|OpenRelay)$/.test(k))
      .map((k) => k.replace(/^RelayedUntagged/, 'Relayed'))
    if (ctx.quarantined) ctx.actionsPerformed.push('Quarantined')
    ctx.replies =
      ctx.tx.clientProtocol === 'LMTP' ? outcomes.map((o) => o.reply) : [combineReplies(outcomes, ctx.taskId)]
  },
}

function actionOf(o: RecipientOutcome): RecipientOutcome['action'] {
  const code = Number(o.reply.slice(0, 3))
  if (code >= 400 && code < 500) return 'TEMPFAIL'
  if (o.destiny === DESTINY.D_BOUNCE && code >= 500) return 'BOUNCE'
  if (o.destiny !== DESTINY.D_BOUNCE && code >= 500) return 'REJECT'
  if (o.destiny === DESTINY.D_DISCARD) return 'DISCARD'
  if (o.destiny === DESTINY.D_PASS && code < 300) return 'PASS'
  if (o.destiny === DESTINY.D_BOUNCE && code < 300) return 'BOUNCE'
  return '?'
}

/** One SMTP reply for a multi-recipient message: any tempfail wins, then pass, then reject. */
function combineReplies(outcomes: RecipientOutcome[], taskId: string): string {
  const tf = outcomes.find((o) => o.reply.startsWith('4'))
  if (tf) return tf.reply
  const ok = outcomes.find((o) => o.reply.startsWith('2'))
  if (ok && outcomes.every((o) => o.reply.startsWith('2'))) return ok.reply
  if (ok) {
    // Mixed: some delivered, some rejected (reported to the sender in a DSN, see above).
    return `250 2.0.0 Ok, id=${taskId}, ${outcomes.filter((o) => !o.reply.startsWith('2')).length} of ${outcomes.length} recipient(s) rejected`
  }
  return outcomes[0]?.reply ?? `451 4.5.0 Error in processing, id=${taskId}`
}
