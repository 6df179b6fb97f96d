// A failure anywhere before delivery (a check, the quarantine) tempfails every recipient, so the
// MTA keeps the message and retries: nothing passes unchecked and nothing blocked is lost.
import { CC, DESTINY } from '@vigil/protocol'
import type { Stage } from './stage.ts'

export const tempfail: Stage = {
  name: 'tempfail',
  applies: (ctx) => !!ctx.failure,
  run(ctx) {
    for (const o of ctx.outcomes) {
      o.ccatBlocking = o.ccatBlocking ?? { major: CC.UNCHECKED, minor: 0 }
      o.destiny = DESTINY.D_TEMPFAIL
    }
  },
}
