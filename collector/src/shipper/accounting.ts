// What the shipper counts, per process (ShipperStats) and for the whole pipeline (QueueStatus,
// read from Redis: the all-time totals every shipper keeps in <key>:stats in the same scripts that
// move the items). The lead renders these in /metrics, /api/status and `vigil pipeline`.
//
// Reconciliation (exact, from Redis alone): taken = indexed + dead_lettered + Σ in-flight.
// Against the producers: produced = trimmed + taken + queued, where trimmed (the oldest events a
// producer's `LTRIM key -limit -1` dropped) cannot be observed by the shipper: it is estimated as
// produced − (taken + queued) and labelled as an estimate.
import type { DeadReasonClass } from './prepare.ts'
import { eventTimeMs } from './prepare.ts'
import type { QueueSnapshot } from './redis-queue.ts'

export interface ShipperStats {
  readonly id: string
  readonly key: string
  /** Items this process moved from the amavis list to its in-flight list. */
  readonly taken: number
  /** Items acknowledged as stored by this process (backend 'ok', counted once at the ack). */
  readonly indexed: number
  /** Item attempts answered 'retry' (429, 5xx, a busy store), each counted. */
  readonly retried: number
  /** Items acknowledged as dead letters by this process. */
  readonly deadLettered: number
  readonly deadLetteredByReason: Readonly<Partial<Record<DeadReasonClass, number>>>
  /** Items sent again from the in-flight list (after a crash, a takeover, a stop with a batch unresolved). */
  readonly redelivered: number
  /** Items moved here from dead peers' in-flight lists. */
  readonly takenOver: number
  readonly batches: number
  readonly bulkRequests: number
  /** Batches whose in-flight list a peer took over before the ack (this shipper was presumed dead). */
  readonly acksLostToTakeover: number
  readonly enrichErrors: number
  readonly deadLetterFileErrors: number
  /** Items in the amavis list and in every in-flight list when this shipper started (null until known). */
  readonly backlogAtStart: number | null
  readonly backendUp: boolean
  readonly redisUp: boolean
  readonly lastError: { readonly at: string; readonly where: 'backend' | 'redis'; readonly message: string } | null
  /** Items of the batch being resolved (0 between batches). */
  readonly inFlight: number
  /** How long the current batch has been in flight (null between batches). */
  readonly oldestInFlightAgeMs: number | null
  readonly startedAt: string
}

export interface QueueStatus {
  readonly at: string
  readonly key: string
  /** LLEN of the amavis list. */
  readonly queued: number
  /** @timestamp of the oldest queued event (the list head), if it has one. */
  readonly oldestQueuedAt: string | null
  readonly oldestQueuedAgeSecs: number | null
  /** Σ LLEN of the in-flight lists of every registered shipper. */
  readonly inFlight: number
  /** Registered shippers: in-flight items and whether their heartbeat is alive. */
  readonly shippers: readonly { readonly id: string; readonly inFlight: number; readonly alive: boolean }[]
  /** LLEN of the dead-letter list. */
  readonly deadLetterList: number
  /** All-time totals of every shipper of this list (Redis <key>:stats). */
  readonly totals: {
    readonly taken: number
    readonly indexed: number
    readonly deadLettered: number
    readonly redelivered: number
    readonly takenOver: number
  }
  /** totals: taken − indexed − deadLettered − inFlight; 0 when nothing taken was lost. */
  readonly unaccounted: number
}

export function createStatsCounters(id: string, key: string, now: () => number) {
  const c = {
    taken: 0,
    indexed: 0,
    retried: 0,
    deadLettered: 0,
    redelivered: 0,
    takenOver: 0,
    batches: 0,
    bulkRequests: 0,
    acksLostToTakeover: 0,
    enrichErrors: 0,
    deadLetterFileErrors: 0,
  }
  const byReason: Partial<Record<DeadReasonClass, number>> = {}
  const state = {
    backendUp: true,
    redisUp: true,
    lastError: null as ShipperStats['lastError'],
    inFlight: 0,
    inFlightSince: null as number | null,
    backlogAtStart: null as number | null,
  }
  const startedAt = new Date(now()).toISOString()
  return {
    c,
    state,
    deadLettered(cls: DeadReasonClass, n = 1) {
      c.deadLettered += n
      byReason[cls] = (byReason[cls] ?? 0) + n
    },
    error(where: 'backend' | 'redis', err: unknown) {
      state.lastError = { at: new Date(now()).toISOString(), where, message: (err as Error)?.message ?? String(err) }
    },
    snapshot(): ShipperStats {
      return {
        id,
        key,
        ...c,
        deadLetteredByReason: { ...byReason },
        backlogAtStart: state.backlogAtStart,
        backendUp: state.backendUp,
        redisUp: state.redisUp,
        lastError: state.lastError,
        inFlight: state.inFlight,
        oldestInFlightAgeMs: state.inFlightSince === null ? null : now() - state.inFlightSince,
        startedAt,
      }
    },
  }
}

/** QueueStatus from a Redis snapshot. */
export function toQueueStatus(key: string, snap: QueueSnapshot, nowMs: number): QueueStatus {
  let oldestMs: number | undefined
  if (snap.head) {
    try {
      const ev = JSON.parse(snap.head.toString('utf8')) as Record<string, unknown>
      if (ev && typeof ev === 'object') oldestMs = eventTimeMs(ev)
    } catch {
      // A poison item at the head: its age is unknown until it is dead-lettered.
    }
  }
  const t = snap.totals
  const totals = {
    taken: t.taken ?? 0,
    indexed: t.indexed ?? 0,
    deadLettered: t.dead_lettered ?? 0,
    redelivered: t.redelivered ?? 0,
    takenOver: t.taken_over ?? 0,
  }
  const inFlight = snap.shippers.reduce((a, s) => a + s.inflight, 0)
  return {
    at: new Date(nowMs).toISOString(),
    key,
    queued: snap.queued,
    oldestQueuedAt: oldestMs === undefined ? null : new Date(oldestMs).toISOString(),
    oldestQueuedAgeSecs: oldestMs === undefined ? null : Math.max(0, nowMs - oldestMs) / 1000,
    inFlight,
    // PTTL: -2 no key (dead or unregistered), -1 no expiry (should not happen), else ms left.
    shippers: snap.shippers.map((s) => ({ id: s.id, inFlight: s.inflight, alive: s.heartbeatTtlMs !== -2 })),
    deadLetterList: snap.deadLetters,
    totals,
    unaccounted: totals.taken - totals.indexed - totals.deadLettered - inFlight,
  }
}

export interface TrimmedEstimate {
  /** Events the producers report written (e.g. the filters' counters), as given. */
  readonly produced: number
  /** produced − (taken + queued), never below 0: an ESTIMATE. */
  readonly trimmed: number
  readonly estimated: true
  readonly note: string
}

/**
 * The producers' LTRIM drops the oldest items unseen; what was produced but never taken nor is
 * still queued was trimmed, as far as the counters tell (a reset of the producers' counters or of
 * Redis makes this wrong, hence "estimate").
 */
export function estimateTrimmed(produced: number, q: QueueStatus): TrimmedEstimate {
  return {
    produced,
    trimmed: Math.max(0, produced - (q.totals.taken + q.queued)),
    estimated: true,
    note: 'estimated as produced − (taken + queued): the producers\u2019 LTRIM cannot be observed',
  }
}
