// 'D': reads and parses the message (only the header when every recipient bypasses every
// check), counts the decoders used, finds parts the virus scanner cannot see, and runs the
// header checks (H) while the parsed message is at hand.
import { CheckFailure, type MessageContext } from '../context.ts'
import type { Stage } from './stage.ts'

export const decode: Stage = {
  name: 'decode',
  state: 'D',
  elapsed: 'Decoding',
  check: 'H',
  // Synchronous when only the header is needed (every check bypassed): no promise per message.
  run(ctx) {
    if (ctx.need.fullParse)
      return ctx.tx.body.readAll().then(
        (raw) => decodeRaw(ctx, raw),
        (e) => failed(ctx, e),
      )
    try {
      return decodeRaw(ctx, ctx.tx.body.header())
    } catch (e) {
      return failed(ctx, e)
    }
  },
}

function failed(ctx: MessageContext, e: unknown): false {
  ctx.failure = new CheckFailure('decoding', e)
  return false
}

/** Returns whether the header checks ran. */
function decodeRaw(ctx: MessageContext, raw: Buffer): boolean {
  const { analyzers } = ctx.deps
  const { need, counters, tx } = ctx
  try {
    ctx.raw = raw
    const parsed = analyzers.parse(raw)
    ctx.parsed = parsed
    if (need.fullParse) {
      counters.count('OpsDecByMimeParser')
      counters.count('OpsDec')
      const types = new Set<string>()
      for (const leaf of parsed.leaves) if (leaf.detectedType) types.add(leaf.detectedType)
      for (const t of types) counters.count(`OpsDecType-${t}`)
      // Encrypted or over-limit parts the virus scanner cannot see make the mail Unchecked (7,minor).
      const u = need.virus ? analyzers.checkUnchecked?.(parsed) : undefined
      if (u?.unchecked) ctx.unchecked = { minor: u.minor, reason: u.reason }
    }
    if (!need.header) return false
    const h = analyzers.checkHeaders(parsed, raw, { smtputf8: !!tx.mailParams.SMTPUTF8 })
    if (h.bad) ctx.badHeader = { minor: h.minor, reason: h.reason }
    return true
  } catch (e) {
    return failed(ctx, e)
  }
}
