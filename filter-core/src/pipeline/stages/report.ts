// The message's report, once its fate is known: the Total section, the JSON event, the main log
// line, the LogEntries* and TimeElapsed* counters (one per `elapsed` section of the stage list, in
// list order), the `am.snmp` message and the event's delivery. A stage after this one (amavis's
// mail_done hook point) sees the finished event and log line.
import { encodeAmavisJson } from '@vigil/protocol'
import { ms } from '../context.ts'
import { buildEvent } from '../event.ts'
import { countLogEntries, formatLogLine } from '../log-line.ts'
import { elapsedSections, type ElapsedSection, type Stage } from './stage.ts'

const sectionsOf = new WeakMap<readonly Stage[], ElapsedSection[]>()

function sections(stages: readonly Stage[]): ElapsedSection[] {
  let s = sectionsOf.get(stages)
  if (!s) sectionsOf.set(stages, (s = elapsedSections(stages)))
  return s
}

export const report: Stage = {
  name: 'report',
  run(ctx) {
    const { counters, elapsed, deps, tx } = ctx
    elapsed.Total = ms(tx.receivedAt - (elapsed.Receiving ?? 0) / 1000, ctx.now())
    const event = buildEvent(ctx)
    ctx.event = event
    ctx.logLine = formatLogLine(ctx, event)
    ctx.log.info(ctx.logLine)
    countLogEntries(counters, ctx.logCounter.drain())
    for (const k of sections(ctx.stages)) if (elapsed[k] !== undefined) counters.count(`TimeElapsed${k}`, elapsed[k])
    counters.count('TimeElapsedTotal', elapsed.Total)
    if (counters.size) deps.publisher.send(counters.frames())
    if (deps.events && !deps.dryRun) deps.events.deliver(encodeAmavisJson(event))
  },
}
