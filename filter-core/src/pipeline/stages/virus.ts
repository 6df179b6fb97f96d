// 'V': the virus scan, under virus_check_timeout_secs. A failing scanner tempfails the message,
// or (virus_check_on_failure: pass) leaves it Unchecked.
import { CheckFailure } from '../context.ts'
import { withTimeout } from '../with-timeout.ts'
import type { Stage } from './stage.ts'

export const virus: Stage = {
  name: 'virus',
  state: 'V',
  elapsed: 'VirusCheck',
  check: 'V',
  applies: (ctx) => !ctx.failure && ctx.need.virus && !!ctx.parsed,
  async run(ctx) {
    const parsed = ctx.parsed!
    const scanner = ctx.deps.analyzers.virusScanner!
    try {
      const v = await withTimeout('virus_scan', ctx.msgSettings.virusCheckTimeoutSecs, (signal) =>
        scanner.scan(parsed, signal),
      )
      ctx.virus = v
      if (v.infected) ctx.virusNames = [...new Set(v.virusNames)]
      ctx.counters.count('OpsVirusCheck')
      return true
    } catch (e) {
      ctx.log.warn(`(${ctx.taskId}) Virus scan failed.`, { err: e as Error })
      if (ctx.msgSettings.virusOnFailure === 'tempfail') ctx.failure = new CheckFailure('virus_scan', e)
      else ctx.virusUnchecked = true
      return false
    }
  },
}
