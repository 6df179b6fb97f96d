// 'S': the spam scan, under spam_check_timeout_secs; skipped for infected mail, as amavis does
// (it is blocked anyway). A failing scanner tempfails, or (spam_check_on_failure: pass) is ignored.
import { CheckFailure } from '../context.ts'
import { withTimeout } from '../with-timeout.ts'
import type { Stage } from './stage.ts'

export const spam: Stage = {
  name: 'spam',
  state: 'S',
  elapsed: 'SpamCheck',
  check: 'S',
  applies: (ctx) => !ctx.failure && ctx.need.spam && !!ctx.raw && !ctx.virus?.infected,
  async run(ctx) {
    const raw = ctx.raw!
    const scanner = ctx.deps.analyzers.spamScanner!
    try {
      ctx.spam = await withTimeout('spam_scan', ctx.msgSettings.spamCheckTimeoutSecs, (signal) =>
        scanner.check(raw, { signal }),
      )
      ctx.counters.count('OpsSpamCheck')
      return true
    } catch (e) {
      ctx.log.warn(`(${ctx.taskId}) Spam scan failed.`, { err: e as Error })
      if (ctx.msgSettings.spamOnFailure === 'tempfail') ctx.failure = new CheckFailure('spam_scan', e)
      return false
    }
  },
}
