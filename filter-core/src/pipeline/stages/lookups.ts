// SQL and LDAP lookups (@lookup_sql_dsn, $enable_ldap): every recipient's answers fetched once,
// before decoding, and cached for the message; from here on settingsFor(recipient) asks them
// before the static tables. A server that fails or does not answer within lookup_timeout_ms
// tempfails the message (lookup_failure: tempfail, the default) — never silently the defaults;
// with lookup_failure: defaults the static tables answer, and the failure is logged and counted.
import { dynamicLookupsEnabled, fetchDynamicAnswers, LookupTimeout } from '../../lookup/prefetch.ts'
import { applyDynamicLookups, CheckFailure } from '../context.ts'
import type { Stage } from './stage.ts'

export const lookups: Stage = {
  name: 'lookups',
  applies: (ctx) => !ctx.failure && dynamicLookupsEnabled(ctx.deps.cfg),
  async run(ctx) {
    const cfg = ctx.deps.cfg
    const counts = { sql: 0, ldap: 0 }
    try {
      const answers = await fetchDynamicAnswers({
        cfg,
        recipients: ctx.rcptAddrs,
        sender: ctx.sender,
        isLocal: (a) => ctx.settings.isLocal(a),
        counts,
      })
      applyDynamicLookups(ctx, answers)
    } catch (err) {
      const timedOut = err instanceof LookupTimeout
      ctx.counters.count(timedOut ? 'LookupTimeouts' : 'LookupFailures')
      const why = (err as Error)?.message ?? String(err)
      if (cfg.lookup_failure === 'tempfail') ctx.failure = new CheckFailure('lookup', err)
      else ctx.log.warn(`(${ctx.taskId}) lookup FAILED, static lookup tables used (lookup_failure: defaults): ${why}`)
    } finally {
      if (counts.sql) ctx.counters.count('OpsSqlSelect', counts.sql)
      if (counts.ldap) ctx.counters.count('OpsLDAPSearch', counts.ldap)
    }
  },
}
