// Message rate and per-stage times from two snmp-responder replies (`am.snmp?`, spec §2.7).
// The responder returns running totals, so rates are differences between two polls. Pure.
import { isParseError, parseFrame } from '@vigil/protocol'
import type { CounterView } from './render/format.ts'

export interface CounterSnapshot {
  readonly atSecs: number
  readonly values: ReadonlyMap<string, number>
}

/** Stage label and the TimeElapsed* counter (milliseconds, summed) it is computed from. */
export const STAGES: ReadonlyArray<readonly [label: string, counter: string]> = [
  ['recv', 'TimeElapsedReceiving'],
  ['decode', 'TimeElapsedDecoding'],
  ['virus', 'TimeElapsedVirusCheck'],
  ['spam', 'TimeElapsedSpamCheck'],
  ['penpals', 'TimeElapsedPenPals'],
  ['send', 'TimeElapsedSending'],
  ['total', 'TimeElapsedTotal'],
]

/** Reads the numeric variables of one `am.snmp?` reply; malformed frames and `? ?` values are skipped. */
export function parseResponderReply(parts: readonly (string | Uint8Array)[], atSecs: number): CounterSnapshot {
  const values = new Map<string, number>()
  for (const p of parts) {
    const f = parseFrame(p)
    if (isParseError(f) || (f.topic !== 'am.snmp' && f.topic !== 'am.nanny') || f.name === 'FLUSH') continue
    const v = Number(f.value)
    if (f.type !== '?' && f.value !== undefined && Number.isFinite(v)) values.set(f.name, v)
  }
  return { atSecs, values }
}

/**
 * Rates between two snapshots. A counter that went down (responder FLUSH/restart) yields no rate
 * for that interval rather than a negative one.
 */
export function computeCounterView(prev: CounterSnapshot | undefined, cur: CounterSnapshot): CounterView {
  // InMsgs is absent until the first message is counted: that is 0 messages, not "unknown"
  // (the full screen used to show `msgs/s: -` forever on a quiet system)
  const total = cur.values.get('InMsgs') ?? 0
  if (!prev) return { msgsPerSec: undefined, msPerMsg: [], totalMsgs: total }
  const dt = cur.atSecs - prev.atSecs
  const p = prev.values.get('InMsgs') ?? 0
  if (dt <= 0 || total < p) return { msgsPerSec: undefined, msPerMsg: [], totalMsgs: total }
  const dMsgs = total - p
  const msPerMsg: Array<readonly [string, number]> = []
  if (dMsgs > 0) {
    for (const [label, name] of STAGES) {
      const a = prev.values.get(name)
      const b = cur.values.get(name)
      if (a === undefined || b === undefined || b < a) continue
      msPerMsg.push([label, (b - a) / dMsgs])
    }
  }
  return { msgsPerSec: dMsgs / dt, msPerMsg, totalMsgs: total }
}
