// DKIM verification of every incoming message (amavis: get_body_digest feeds Mail::DKIM, then
// collect_some_dkim_info), run after decoding so the From:/Sender: addresses are at hand. Records
// D in checks_performed when the message carries a signature, as amavis does. Key look-ups go
// through the worker's resolver (config `dns`): a DNS failure is a `temperror` signature, never a
// failed message. docs/adr/0013-dkim.md.
import { addressList, headerValue } from '../../mime/index.ts'
import { dkimSettings } from '../../dkim/settings.ts'
import { verifyMessage } from '../../dkim/verify.ts'
import { resolverFor } from '../../dns/resolver.ts'
import type { MessageContext } from '../context.ts'
import type { Stage } from './stage.ts'

export const dkimVerify: Stage = {
  name: 'dkim-verify',
  elapsed: 'Decoding',
  check: 'D',
  // Mail without a signature costs nothing (amavis: "don't bother feeding body to DKIM").
  applies: (ctx) =>
    !ctx.failure &&
    !!ctx.parsed?.headers.some((f) => f.name.toLowerCase() === 'dkim-signature') &&
    dkimSettings(ctx.deps.cfg, ctx.bankNames).verify,
  async run(ctx) {
    const h = ctx.parsed!.headers
    const raw = ctx.need.fullParse && ctx.raw ? ctx.raw : await ctx.tx.body.readAll()
    const from = addressList(headerValue(h, 'from'))
    try {
      ctx.dkim.signatures = await verifyMessage(raw, {
        resolver: resolverFor(ctx.deps.cfg.dns),
        envSender: ctx.sender,
        from,
        senderHdr: addressList(headerValue(h, 'sender'))[0],
        now: ctx.tx.receivedAt,
      })
    } catch (e) {
      ctx.log.warn(`(${ctx.taskId}) dkim: verification failed: ${(e as Error).message}`)
      return false
    }
    collect(ctx)
    return ctx.dkim.signatures.length > 0
  },
}

/** amavis collect_some_dkim_info: valid signatures, the author domain signature, the log lines. */
function collect(ctx: MessageContext): void {
  const { dkim } = ctx
  for (const sig of dkim.signatures) {
    const valid = sig.result === 'pass'
    if (valid) {
      dkim.valid.push(sig)
      if (sig.author) dkim.authorSig = sig.domain
    }
    const who = [sig.author ? 'Author' : '', sig.sender ? 'Sender' : '', sig.envSender ? 'MailFrom' : '']
      .filter(Boolean)
      .join('+')
    // amavis logs these at log level 2.
    ctx.log.debug(
      `(${ctx.taskId}) dkim: ${valid ? 'VALID' : 'FAILED'} ${who || 'third-party'} signature by d=${sig.domain}, ` +
        `a=${sig.algorithm}, c=${sig.canonicalization}, s=${sig.selector}${valid ? '' : `, ${sig.result}${sig.detail ? ` (${sig.detail})` : ''}`}`,
    )
  }
}
