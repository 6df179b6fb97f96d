// What the collector does with each inner message before forwarding it: feeds `am.st` to the
// process table (minder) and `am.snmp`/`am.nanny` to the totals (responder), validates the rest,
// and decides whether the message goes out. Never throws on input; bad frames are counted.
// Forwarding policy: a message is republished unchanged unless one of its frames is malformed
// (bad syntax, invalid UTF-8, over MAX_FRAME_BYTES, unknown topic); such messages are dropped and
// counted, so subscribers such as amavisd-status never see garbage. Known pass-through topics
// (`am.log.*`, `vigil.*`) are forwarded without being interpreted.
import { isUtf8 } from 'node:buffer'
import {
  MAX_FRAME_BYTES,
  VIGIL_STATS_TOPIC,
  isAbsoluteTime,
  isParseError,
  parseFrame,
  parseVigilStats,
  type Frame,
  type WireType,
} from '@vigil/protocol'
import type { BusStats } from './bus/stats.ts'
import type { Totals } from './counters/totals.ts'
import type { ProcessTable, TableChange } from './procs/process-table.ts'

export interface IngestOptions {
  table: ProcessTable
  totals: Totals
  stats: BusStats
  now(): number
  onChange?(change: TableChange): void
  onMalformed?(host: string, error: string, frame: string): void
}

const PASS_THROUGH = [Buffer.from('am.log.'), Buffer.from('vigil.')]
const VIGIL_STATS = Buffer.from(VIGIL_STATS_TOPIC + ' ')

function startsWith(b: Uint8Array, prefix: Uint8Array): boolean {
  if (b.length < prefix.length) return false
  for (let i = 0; i < prefix.length; i++) if (b[i] !== prefix[i]) return false
  return true
}

// Fast paths for the two hot records, used only when the frame is in the canonical form amavis
// writes (single spaces, printable ASCII in the structural fields); anything else falls back to
// parseFrame, so results are identical to it (see test/ingest.test.ts, "fast path").
const ST_RE = /^am\.st (\d+) (\d+(?:\.\d*)?) ([\x21-\x7e]+)(?: ([\x21-\x7e]+))?$/
const SNMP_RE = /^(am\.snmp|am\.nanny) ([\x21-\x7e]+) (C32|C64|G32|INT|I64|U32|U64|STR|OID|TIM|\?) ((?:\S[\s\S]*)?)$/

/** parseFrame for valid UTF-8 input, with the fast paths. Exported for the equivalence test. */
export function parseFrameFast(part: Uint8Array): ReturnType<typeof parseFrame> {
  const text = Buffer.from(part.buffer, part.byteOffset, part.byteLength).toString('utf8')
  if (text.startsWith('am.st ')) {
    const m = ST_RE.exec(text)
    if (m) {
      const v = Number(m[2])
      const state = m[3] === '-' ? ' ' : m[3]
      const frame: Frame = {
        topic: 'am.st',
        pid: Number(m[1]),
        time: isAbsoluteTime(v) ? { kind: 'abs', secs: v, raw: m[2] } : { kind: 'rel', ms: v, raw: m[2] },
        state,
      }
      if (m[4] !== undefined) frame.taskId = m[4]
      return frame
    }
  } else if (text.startsWith('am.snmp ') || text.startsWith('am.nanny ')) {
    const m = SNMP_RE.exec(text)
    if (m && m[2] !== 'FLUSH')
      return { topic: m[1] as 'am.snmp' | 'am.nanny', name: m[2], type: m[3] as WireType | '?', value: m[4] }
  }
  return parseFrame(text)
}

export function createIngest(o: IngestOptions) {
  const malformed = (host: string, error: string, frame: string) => {
    o.stats.malformed++
    o.onMalformed?.(host, error, frame)
  }
  /**
   * Applies one message from `host`; returns whether it should be forwarded. `dropsBad` false:
   * the message is forwarded whatever happens here (native proxy), so no drop is counted.
   */
  function handle(host: string, parts: readonly Uint8Array[], dropsBad = true): boolean {
    o.stats.messagesIn++
    o.stats.framesIn += parts.length
    let ok = true
    const now = o.now()
    for (const part of parts) {
      if (part.length > MAX_FRAME_BYTES) {
        malformed(host, `frame of ${part.length} bytes exceeds ${MAX_FRAME_BYTES}`, '')
        ok = false
        continue
      }
      if (startsWith(part, VIGIL_STATS)) {
        const v = parseVigilStats(part)
        if ('error' in v) {
          malformed(host, v.error, Buffer.from(part.subarray(0, 60)).toString('utf8'))
          ok = false
        } else {
          for (const [kind, n] of Object.entries(v.smtp_protocol_errors ?? {}))
            o.stats.smtpProtocolErrors[kind] = (o.stats.smtpProtocolErrors[kind] ?? 0) + n
          o.stats.filterEventsDeadLettered += v.events_dead_lettered ?? 0
          o.stats.filterEventsTrimmed += v.events_trimmed ?? 0
          o.stats.filterEventsProduced += v.events_produced ?? 0
          o.stats.filterEventsResent += v.events_resent ?? 0
          o.stats.filterEventsSpooled += v.events_spooled ?? 0
        }
        continue
      }
      if (PASS_THROUGH.some((p) => startsWith(part, p))) continue
      if (!isUtf8(part)) {
        malformed(host, 'frame is not valid UTF-8', Buffer.from(part.subarray(0, 60)).toString('latin1'))
        ok = false
        continue
      }
      const f = parseFrameFast(part)
      if (isParseError(f)) {
        malformed(host, f.error, f.frame)
        ok = false
        continue
      }
      apply(host, f, now)
    }
    if (!ok && dropsBad) o.stats.droppedMalformed++
    return ok
  }

  function apply(host: string, f: Frame, now: number): void {
    switch (f.topic) {
      case 'am.st': {
        const change = o.table.applyState(host, f, now)
        o.onChange?.(change)
        return
      }
      case 'am.snmp':
      case 'am.nanny':
        o.totals.apply(host, f.name, f.type, f.value)
        return
      default:
        return
    }
  }

  return { handle }
}
export type Ingest = ReturnType<typeof createIngest>
