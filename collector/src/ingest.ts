// What the collector does with each inner message before forwarding it: feeds `am.st` to the
// process table (minder) and `am.snmp`/`am.nanny` to the totals (responder), validates the rest,
// and decides whether the message goes out. Never throws on input; bad frames are counted.
// Forwarding policy: a message is republished unchanged unless one of its frames is malformed
// (bad syntax, invalid UTF-8, over MAX_FRAME_BYTES, unknown topic); such messages are dropped and
// counted, so subscribers such as amavisd-status never see garbage. Known pass-through topics
// (`am.log.*`, `vigil.*`) are forwarded without being interpreted.
import { isUtf8 } from 'node:buffer'
import { MAX_FRAME_BYTES, isParseError, parseFrame, type Frame } from '@vigil/protocol'
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

function startsWith(b: Uint8Array, prefix: Uint8Array): boolean {
  if (b.length < prefix.length) return false
  for (let i = 0; i < prefix.length; i++) if (b[i] !== prefix[i]) return false
  return true
}

export function createIngest(o: IngestOptions) {
  const malformed = (host: string, error: string, frame: string) => {
    o.stats.malformed++
    o.onMalformed?.(host, error, frame)
  }
  /** Applies one message from `host`; returns whether it should be forwarded. */
  function handle(host: string, parts: readonly Uint8Array[]): boolean {
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
      if (PASS_THROUGH.some((p) => startsWith(part, p))) continue
      if (!isUtf8(part)) {
        malformed(host, 'frame is not valid UTF-8', Buffer.from(part.subarray(0, 60)).toString('latin1'))
        ok = false
        continue
      }
      const f = parseFrame(part)
      if (isParseError(f)) {
        malformed(host, f.error, f.frame)
        ok = false
        continue
      }
      apply(host, f, now)
    }
    if (!ok) o.stats.droppedMalformed++
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
