// amavis's main log line for a processed message ("Passed CLEAN {RelayedInbound}, …"), and the
// LogLines/LogEntries* counters of what was logged for it.
import { CC, ccatLogText, type AmavisEvent } from '@vigil/protocol'
import type { SnmpCounters } from '../telemetry/counters.ts'
import type { MessageContext } from './context.ts'

function trimScore(n: number): string {
  return String(Number(n.toFixed(3)))
}

export function formatLogLine(x: MessageContext, event: AmavisEvent): string {
  const blocked = x.outcomes.some((o) => o.ccatBlocking)
  const detail =
    x.msgCcat.major === CC.VIRUS ? x.virusNames.join(',') : x.msgCcat.major === CC.BANNED ? (x.bannedReason ?? '') : ''
  let s = `(${x.taskId}) ${blocked ? 'Blocked' : 'Passed'} ${ccatLogText(x.msgCcat, detail)} {${x.actionsPerformed.join(',')}},`
  if (x.bankNames.length) s += ` ${x.bankNames.join('/')}`
  if (event.originating) s += ' LOCAL'
  if (x.clientIp) s += ` [${x.clientIp}]${x.clientPort ? ':' + x.clientPort : ''}`
  if (event.ip_trace?.length) s += ` [${event.ip_trace[event.ip_trace.length - 1]}]`
  s += ` <${x.tx.mailFrom}> -> ${x.tx.rcpts.map((r) => `<${r.address}>`).join(',')}`
  if (event.quarantine) s += `, quarantine: ${event.quarantine}`
  if (event.queue_id) s += `, Queue-ID: ${event.queue_id}`
  if (event.message_id) s += `, Message-ID: ${event.message_id}`
  s += `, mail_id: ${x.mailId}`
  const scores = x.outcomes.filter((o) => o.spamLevel !== undefined).map((o) => o.spamLevel!)
  if (!scores.length) s += ', Hits: -'
  else {
    const lo = Math.min(...scores)
    const hi = Math.max(...scores)
    s += `, Hits: ${hi - lo >= 0.1 ? `${trimScore(lo)}..${trimScore(hi)}` : trimScore(hi)}`
  }
  s += `, size: ${x.tx.body.size}`
  if (event.queued_as?.length) s += `, queued_as: ${event.queued_as.join('/')}`
  s += `, ${x.elapsed.Total} ms`
  return s
}

/** LogLines and the cumulative LogEntries* counters for log entries at these levels. */
export function countLogEntries(c: SnmpCounters, levels: number[]): void {
  const n = levels.length
  c.count('LogLines', n, 'C64')
  const cum = (max: number) => levels.filter((l) => l <= max).length
  const pairs: [string, number][] = [
    ['LogEntriesCrit', cum(-3)],
    ['LogEntriesErr', cum(-2)],
    ['LogEntriesWarning', cum(-1)],
    ['LogEntriesNotice', cum(0)],
    ['LogEntriesInfo', cum(1)],
    ['LogEntriesDebug', n],
  ]
  for (const [k, v] of pairs) if (v > 0) c.count(k, v, 'C64')
  for (let lv = 0; lv <= 5; lv++) {
    const v = levels.filter((l) => Math.min(5, Math.max(0, l)) === lv).length
    if (v > 0) c.count(`LogEntriesLevel${lv}`, v, 'C64')
  }
  c.count('LogEntries', n, 'C64')
}
