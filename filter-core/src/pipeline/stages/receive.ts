// '=': content checking starts. Counts the incoming message (InMsgs*, by direction) as amavis
// does, first thing. Its `elapsed` section, Receiving, is the SMTP session's DATA phase.
import type { Stage } from './stage.ts'

export const receive: Stage = {
  name: 'receive',
  state: '=',
  elapsed: 'Receiving',
  timing: 'smtp',
  run(ctx) {
    const { counters, size, originating } = ctx
    const n = ctx.rcptAddrs.length
    const cntLocal = ctx.rcptLocal.filter(Boolean).length
    const cntRemote = n - cntLocal
    const dirLocal = originating ? 'Internal' : 'Inbound'
    const dirRemote = originating ? 'Outbound' : 'OpenRelay'
    counters.count('InMsgs')
    if (ctx.sender === '') counters.count('InMsgsBounceNullRPath')
    counters.count('InMsgsRecips', n)
    counters.count('InMsgsSize', size, 'C64')
    if (originating) {
      counters.count('InMsgsOriginating')
      counters.count('InMsgsRecipsOriginating', n)
      counters.count('InMsgsSizeOriginating', size, 'C64')
    }
    if (cntLocal) {
      counters.count(`InMsgs${dirLocal}`)
      counters.count(`InMsgsRecips${dirLocal}`, cntLocal)
      counters.count('InMsgsRecipsLocal', cntLocal)
      counters.count(`InMsgsSize${dirLocal}`, size, 'C64')
    }
    if (cntRemote) {
      counters.count(`InMsgs${dirRemote}`)
      counters.count(`InMsgsRecips${dirRemote}`, cntRemote)
      counters.count(`InMsgsSize${dirRemote}`, size, 'C64')
    }
  },
}
