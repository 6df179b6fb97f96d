// The collector's HTTP API as a source for the full screen: /api/status carries the host of
// every process (the amavis ZMQ stream does not), /api/counters the running totals, and
// /api/stages, /api/pipeline and /api/events the live summary beside the table. The conversion
// to screen rows is pure; only fetchJson does I/O.
import { isIdle } from '@vigil/protocol'
import { advanceHistory, decayPeak, type ProcRow, type RedrawView } from './state.ts'
import type { CounterSnapshot } from './counters.ts'
import type { MessageRow, PipelineHealth, StageRow } from './summary.ts'

export interface ApiProcess {
  readonly host: string
  readonly pid: number
  readonly state: string
  readonly taskId: string | undefined
  /** Seconds since the base time, as the collector computed it at `time`. */
  readonly elapsedSecs: number
}

export interface ApiStatus {
  /** The collector's clock at the snapshot, Unix seconds. */
  readonly time: number
  readonly processes: readonly ApiProcess[]
}

/** Validates a /api/status body; throws an Error naming the first thing that is wrong. */
export function parseApiStatus(body: unknown): ApiStatus {
  const b = body as { time?: unknown; processes?: unknown }
  if (typeof b !== 'object' || b === null || !Array.isArray(b.processes))
    throw new Error('expected { processes: [...] }')
  const processes = b.processes.map((p: Record<string, unknown>, i: number): ApiProcess => {
    if (typeof p.pid !== 'number' || typeof p.state !== 'string' || typeof p.elapsed_secs !== 'number')
      throw new Error(`processes[${i}]: expected pid, state and elapsed_secs`)
    return {
      host: typeof p.host === 'string' ? p.host : '',
      pid: p.pid,
      state: p.state === '-' ? ' ' : p.state,
      taskId: typeof p.task_id === 'string' && p.task_id !== '' ? p.task_id : undefined,
      elapsedSecs: p.elapsed_secs,
    }
  })
  return { time: typeof b.time === 'number' ? b.time : 0, processes }
}

/** The running totals of a /api/counters body (`{ counters: { InMsgs: { value } } }`). */
export function parseApiCounters(body: unknown, atSecs: number): CounterSnapshot {
  const values = new Map<string, number>()
  const c = (body as { counters?: Record<string, { value?: unknown }> } | null)?.counters
  if (c && typeof c === 'object')
    for (const [name, v] of Object.entries(c)) {
      const n = typeof v?.value === 'number' ? v.value : Number(v?.value)
      if (v?.value !== null && Number.isFinite(n)) values.set(name, n)
    }
  return { atSecs, values }
}

export interface ApiViewState {
  /** State bars by `host pid`, kept while the base time stays the same. */
  readonly histories: ReadonlyMap<string, { readonly history: string; readonly baseAt: number }>
  readonly peak: number
  readonly peakAt: number | undefined
}

export const INITIAL_API_VIEW: ApiViewState = { histories: new Map(), peak: 0, peakAt: undefined }

/**
 * Screen rows from a snapshot fetched at `fetchedAt` (local seconds), drawn at `nowSecs`: ages
 * advance by the local time since the fetch, and state bars grow as in amavisd-status.
 */
export function apiView(
  prev: ApiViewState,
  snap: ApiStatus,
  fetchedAt: number,
  nowSecs: number,
): { state: ApiViewState; view: RedrawView } {
  const histories = new Map<string, { history: string; baseAt: number }>()
  const rows: ProcRow[] = []
  let active = 0
  const sorted = [...snap.processes].sort((a, b) => a.pid - b.pid || a.host.localeCompare(b.host))
  for (const p of sorted) {
    const key = `${p.host} ${p.pid}`
    const ageSecs = p.elapsedSecs + (nowSecs - fetchedAt)
    const baseAt = Math.round((nowSecs - ageSecs) * 10) / 10
    const idle = isIdle(p.state, p.taskId)
    const old = prev.histories.get(key)
    const history = idle
      ? ''
      : advanceHistory(old && Math.abs(old.baseAt - baseAt) < 0.5 ? old.history : '', ageSecs, p.state)
    histories.set(key, { history, baseAt })
    if (!idle) active++
    rows.push({ pid: p.pid, state: p.state, taskId: p.taskId, ageSecs, inStateSecs: 0, history, idle, host: p.host })
  }
  const peak = decayPeak(prev.peak, prev.peakAt, active, nowSecs)
  return {
    state: { histories, peak, peakAt: nowSecs },
    view: { nowSecs, rows, active, idle: rows.length - active, peak },
  }
}

/** GETs a JSON document with a timeout; rejects with a readable message. */
export async function fetchJson(url: string, timeoutMs: number): Promise<unknown> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) })
  if (!res.ok) {
    await res.body?.cancel()
    throw new Error(`${url}: HTTP ${res.status}`)
  }
  return res.json()
}

// --- the live summary (summary.ts) from /api/stages, /api/pipeline and /api/events ----------------

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined)
const str = (v: unknown): string => (typeof v === 'string' ? v : Array.isArray(v) ? v.map(String).join(',') : '')

/** Per-stage latency of a /api/stages body (collector/src/http/stage-latency.ts). */
export function parseApiStages(body: unknown): StageRow[] {
  const stages = (body as { stages?: unknown } | null)?.stages
  if (!Array.isArray(stages)) throw new Error('expected { stages: [...] }')
  return stages.map((s: Record<string, unknown>) => ({
    stage: String(s.stage ?? '?'),
    count: num(s.count),
    p50Secs: num(s.p50_secs),
    p95Secs: num(s.p95_secs),
    meanSecs: num(s.mean_secs),
  }))
}

/** Pipeline health from a /api/pipeline body (collector/src/pipeline/accounting.ts). */
export function parseApiPipeline(body: unknown): PipelineHealth {
  const b = body as Record<string, unknown> | null
  if (!b || typeof b !== 'object' || typeof b.indexed !== 'number') throw new Error('expected a pipeline account')
  const backend = (b.backend ?? {}) as Record<string, unknown>
  return {
    backend: str(backend.kind),
    up: backend.up === true,
    queued: num(b.queued) ?? 0,
    inFlight: num(b.in_flight) ?? 0,
    oldestQueuedSecs: num(b.oldest_queued_age_secs),
    indexed: num(b.indexed) ?? 0,
    produced: num(b.produced) ?? 0,
    deadLettered: num(b.dead_lettered) ?? 0,
    balanced: b.balanced === true,
  }
}

/** The last messages of a /api/events body, newest first. */
export function parseApiEvents(body: unknown): MessageRow[] {
  const events = (body as { events?: unknown } | null)?.events
  if (!Array.isArray(events)) throw new Error('expected { events: [...] }')
  return events.map((e: Record<string, unknown>) => ({
    timeUnix: e.time_unix === undefined ? undefined : Number(e.time_unix),
    logId: str(e.log_id),
    contentType: str(e.content_type),
    action: str(e.action),
    from: str(e.mail_from),
    to: str(e.rcpt_to),
  }))
}
