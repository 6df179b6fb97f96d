// 'F': forwards the message to the recipients whose destiny is pass, one transaction per group of
// recipients with identical header edits, and takes each recipient's reply from the next hop.
import { DESTINY } from '@vigil/protocol'
import type { Reply } from '../../forward/client.ts'
import type { MessageContext, RecipientOutcome } from '../context.ts'
import { authenticationResults } from '../../dkim/auth-results.ts'
import { buildHeaderEdits, rewriteHeader, type HeaderEdits } from '../headers.ts'
import { signedHeader } from './dkim-sign.ts'
import type { Stage } from './stage.ts'

const passes = (o: RecipientOutcome) => o.destiny === DESTINY.D_PASS
const authservId = (ctx: MessageContext) => ctx.deps.cfg.myauthservid || ctx.deps.common.myhostname

export const forward: Stage = {
  name: 'forward',
  state: 'F',
  elapsed: 'Sending',
  external: true,
  applies: (ctx) => ctx.outcomes.some(passes),
  async run(ctx) {
    for (const g of groupByEdits(ctx).values()) await send(ctx, g.edits, g.idx)
  },
}

function groupByEdits(ctx: MessageContext): Map<string, { edits: HeaderEdits; idx: number[] }> {
  const { deps, outcomes } = ctx
  const toPass = outcomes.filter(passes)
  const groups = new Map<string, { edits: HeaderEdits; idx: number[] }>()
  for (const o of toPass) {
    const s = o.settings
    const edits = buildHeaderEdits({
      cfg: deps.cfg,
      common: deps.common,
      settings: s,
      taskId: ctx.taskId,
      tx: ctx.tx,
      conn: ctx.conn,
      virusChecked: ctx.checks.has('V') && !s.bypassVirusChecks,
      virusNames: s.bypassVirusChecks ? [] : ctx.virusNames,
      spam: s.bypassSpamChecks ? undefined : ctx.spam,
      bannedReason: s.bypassBannedChecks ? undefined : ctx.bannedReason,
      badHeader: s.bypassHeaderChecks ? undefined : ctx.badHeader,
      recipient: o.address,
      singleRecipient: toPass.length === 1,
      now: ctx.now(),
    })
    // amavis: the DKIM results in Authentication-Results, for local recipients only.
    const ar = o.isLocal ? authenticationResults(authservId(ctx), ctx.dkim.signatures) : undefined
    if (ar) {
      edits.prepend.push(`Authentication-Results: ${ar}`)
      edits.key += '\0ar'
    }
    const g = groups.get(edits.key) ?? { edits, idx: [] }
    g.idx.push(outcomes.indexOf(o))
    groups.set(edits.key, g)
  }
  return groups
}

async function send(ctx: MessageContext, edits: HeaderEdits, idx: number[]): Promise<void> {
  const { deps, tx, counters } = ctx
  const header = await signedHeader(ctx, rewriteHeader(tx.body.header(), edits), tx.body.headerEnd)
  const bodyStart = tx.body.headerEnd
  const outSize = header.length + (ctx.size - bodyStart)
  let replies: Reply[]
  if (deps.dryRun) {
    replies = idx.map(() => ({ code: 250, text: '250 2.0.0 Ok (not forwarded: test mode)' }))
  } else {
    const client = deps.forwarder()
    client.onEvent = (e) => counters.count(e)
    counters.count('OutMsgs')
    counters.count('OutMsgsRelay')
    const proto = client.method.protocol === 'lmtp' ? 'LMTP' : 'SMTP'
    counters.count(`OutMsgsProto${proto}`)
    counters.count(`OutMsgsProto${proto}Relay`)
    replies = await client.send({
      mailFrom: tx.mailFrom,
      size: outSize,
      body8bit: /^8BITMIME$/i.test(String(tx.mailParams.BODY ?? '')),
      smtputf8: !!tx.mailParams.SMTPUTF8,
      ret: tx.mailParams.RET ? String(tx.mailParams.RET).toUpperCase() : undefined,
      envid: typeof tx.mailParams.ENVID === 'string' ? tx.mailParams.ENVID : undefined,
      rcpts: idx.map((i) => tx.rcpts[i]),
      xforward: tx.xforward,
      content: () => [header, tx.body.stream(bodyStart)],
    })
    const codes = replies.map((r) => Math.floor(r.code / 100))
    if (codes.some((c) => c === 2)) {
      counters.count('OutMsgsDelivers')
      counters.count('OutMsgsSize', outSize, 'C64')
      counters.count('OutMsgsSizeRelay', outSize, 'C64')
      counters.count(`OutMsgsSizeProto${proto}`, outSize, 'C64')
      counters.count(`OutMsgsSizeProto${proto}Relay`, outSize, 'C64')
    } else if (codes.some((c) => c === 4)) counters.count('OutMsgsAttemptFails')
    else counters.count('OutMsgsRejects')
  }
  idx.forEach((i, k) => {
    const o = ctx.outcomes[i]
    const r = replies[k]
    const q = /queued as ([A-Za-z0-9]+)\s*$/.exec(r.text)
    if (q) o.queuedAs = q[1]
    o.reply =
      deps.cfg.mode === 'pre_queue' || deps.dryRun
        ? r.text
        : `${r.code} ${enhanced(r)} from MTA(${deps.forwarder().method.raw}): ${r.text}`
    if (r.code < 300) o.status = o.tagged ? 'RelayedTagged' : 'RelayedUntagged'
    else if (r.code < 500) o.status = 'TempFailed'
    else o.status = 'Rejected'
  })
}

function enhanced(r: Reply): string {
  const m = /^\d{3}[ -](\d\.\d{1,3}\.\d{1,3})\b/.exec(r.text)
  if (m) return m[1]
  return r.code < 300 ? '2.0.0' : r.code < 500 ? '4.0.0' : '5.0.0'
}
