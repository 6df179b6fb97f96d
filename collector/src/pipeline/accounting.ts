// Accounting you can reconcile (issue #10, Deliver 6): where every event the filters produced is
// now. Produced and trimmed come from the filters' own counters (vigil.stats, summed by the
// collector since it started); queued, in flight, indexed, retried and dead-lettered from the
// pipeline worker (shipper or direct intake). `balanced` says whether they add up.
import type { BusStats } from '../bus/stats.ts'

type Obj = Record<string, unknown>
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0)

export interface PipelineAccount {
  topology: 'redis' | 'direct'
  backend: { kind: string; up: boolean; detail?: string; docs?: number; size_bytes?: number }
  /** Events the filters wrote (vigil.stats events_produced) since the collector started. */
  produced: number
  /** Events the producers' LTRIM pushed out of the Redis list: the filters' own count, so an estimate for other producers. */
  trimmed: { value: number; estimated: boolean; note: string }
  /** Events the filters could not hand over and wrote to their own dead-letter file. */
  filter_dead_lettered: number
  /** ZMQ events received by the collector (direct topology). */
  received: number
  queued: number
  in_flight: number
  indexed: number
  retried: number
  dead_lettered: number
  dead_lettered_by_reason: Record<string, number>
  /** Events already in the list or in flight when the shipper started (not produced during this run). */
  backlog_at_start: number
  oldest_queued_age_secs: number | null
  /** indexed + dead-lettered + queued + in flight + trimmed + filter dead letters − backlog = produced */
  balanced: boolean
  /** Human summary, also printed by `vigil pipeline`. */
  verdict: string
  retention: unknown
}

export function pipelineAccount(w: Obj, bus: BusStats, ships: boolean): PipelineAccount {
  const backend = (w.backend ?? {}) as Obj
  const direct = (w.direct ?? {}) as Obj
  const sh = (w.shipper ?? {}) as Obj
  const q = (sh.queue ?? {}) as Obj
  const viaRedis = ships && w.shipper !== undefined
  const indexed = num(direct.indexed) + num(sh.indexed)
  const dead = num(direct.deadLettered) + num(sh.deadLettered)
  const byReason: Record<string, number> = {}
  for (const src of [direct.deadLetteredByReason, sh.deadLetteredByReason])
    for (const [k, v] of Object.entries((src ?? {}) as Obj)) byReason[k] = (byReason[k] ?? 0) + num(v)
  const queued = num(direct.queued) + num(q.queued)
  const inFlight = num(q.inFlight)
  const backlog = num(sh.backlogAtStart)
  const produced = bus.filterEventsProduced
  const trimmed = bus.filterEventsTrimmed
  const accounted = indexed + dead + queued + inFlight + trimmed + bus.filterEventsDeadLettered - backlog
  const balanced = accounted === produced
  const verdict = balanced
    ? `balanced: indexed ${indexed} = produced ${produced} − dead-lettered ${dead} − queued ${queued} − in flight ${inFlight} − trimmed ${trimmed}${backlog ? ` (+ ${backlog} queued before start)` : ''}`
    : `NOT balanced: produced ${produced}, accounted ${accounted} (indexed ${indexed}, dead-lettered ${dead}, queued ${queued}, in flight ${inFlight}, trimmed ${trimmed}, backlog ${backlog}); ` +
      (produced === 0 && indexed > 0
        ? 'the producers report no counts (e.g. a real amavisd writing to Redis): produced is unknown here'
        : 'events may still be on their way (filters report every few seconds)')
  return {
    topology: viaRedis ? 'redis' : 'direct',
    backend: {
      kind: String(backend.kind ?? ''),
      up: backend.up === true,
      detail: backend.detail as string | undefined,
      docs: backend.docs as number | undefined,
      size_bytes: backend.sizeBytes as number | undefined,
    },
    produced,
    trimmed: {
      value: trimmed,
      estimated: true,
      note: "counted by Vigil's filters from the list length after each RPUSH; other producers (amavisd) trim unseen",
    },
    filter_dead_lettered: bus.filterEventsDeadLettered,
    received: bus.eventsReceived,
    queued,
    in_flight: inFlight,
    indexed,
    retried: num(direct.retried) + num(sh.retried),
    dead_lettered: dead,
    dead_lettered_by_reason: byReason,
    backlog_at_start: backlog,
    oldest_queued_age_secs: typeof q.oldestQueuedAgeSecs === 'number' ? q.oldestQueuedAgeSecs : null,
    balanced,
    verdict,
    retention: w.retention,
  }
}
