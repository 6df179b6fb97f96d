// Banned file names and types (B). amavis runs it as part of decoding: no state, no section.
import { CheckFailure } from '../context.ts'
import type { Stage } from './stage.ts'

export const banned: Stage = {
  name: 'banned',
  check: 'B',
  applies: (ctx) => !ctx.failure && ctx.need.banned && !!ctx.parsed,
  run(ctx) {
    try {
      const b = ctx.deps.analyzers.checkBanned(ctx.parsed!, { rules: ctx.msgSettings.bannedRules })
      if (b.banned) ctx.bannedReason = b.reason ?? 'banned'
      return true
    } catch (e) {
      ctx.failure = new CheckFailure('banned_check', e)
      return false
    }
  },
}
