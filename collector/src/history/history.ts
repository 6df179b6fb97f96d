// The collector's counter history: every finest step (10 s by default, aligned to the clock) the
// main thread copies the numeric variables of the totals (the values /api/counters and the SNMP
// agent serve: counters and gauges, amavis's and the minder's Proc* gauges) and posts them to the
// history worker, which records them in SQLite (store.ts). Taking a sample costs one pass over the
// aggregate map (cached by the totals) and one postMessage; no SQLite work runs on this thread.
//
// Samples beside the timer: one at start, right after the totals were restored and before the bus
// runs (it records the restart, and whether the totals survived it), and one at stop.
//
// The Postfix queue gauges (MtaQueueEntries*) join each sample from queue-gauges.ts, which counts
// in its own loop: taking a sample never waits for a count, so samples keep their times and order.
import { randomUUID } from 'node:crypto'
import { Worker } from 'node:worker_threads'
import { DELTA_TYPES, type Logger, type WireType } from '@vigil/protocol'
import type { Totals } from '../counters/totals.ts'
import { perlNumber } from '../counters/totals.ts'
import type { HistoryPlan, HistoryResponse, Kind, Sample, TierSpec } from './plan.ts'
import { createQueueGauges, type QueueGauges } from './queue-gauges.ts'

export interface HistoryWorkerInit {
  path: string
  tiers: TierSpec[]
}
export type ToHistoryWorker =
  { t: 'record'; sample: Sample } | { t: 'query'; id: number; plan: HistoryPlan } | { t: 'close' }
export type FromHistoryWorker =
  | { t: 'ready'; counts: number[] }
  | { t: 'failed'; error: string }
  | { t: 'log'; level: 'warn' | 'error'; msg: string; error: string }
  | { t: 'answer'; id: number; ok: true; value: HistoryResponse }
  | { t: 'answer'; id: number; ok: false; error: string }
  | { t: 'closed' }

export class HistoryUnavailableError extends Error {
  override name = 'HistoryUnavailableError'
}

export interface History {
  readonly tiers: readonly TierSpec[]
  start(): Promise<void>
  stop(): Promise<void>
  query(plan: HistoryPlan): Promise<HistoryResponse>
  /** Takes a sample now (tests). */
  sample(): void
  /** Resolves after the next Postfix queue count (tests); at once when the queue is not sampled. */
  queueCounted(): Promise<void>
  describe(): string
}

const GAUGE_TYPES = new Set(['G32', 'INT', 'U32', 'I64', 'U64'])

/** The numeric variables of the totals, as sampled: sys* (identity, uptime) left out. */
export function sampleValues(totals: Totals): [string, Kind, number][] {
  const out: [string, Kind, number][] = []
  for (const [name, v] of totals.aggregate()) {
    if (name.startsWith('sys') || v.value === undefined) continue
    const kind: Kind | undefined = DELTA_TYPES.has(v.type as WireType)
      ? 'counter'
      : GAUGE_TYPES.has(v.type)
        ? 'gauge'
        : undefined
    if (!kind) continue
    const n = perlNumber(v.value)
    if (Number.isFinite(n)) out.push([name, kind, n])
  }
  return out
}

export function createHistory(o: {
  path: string
  tiers: TierSpec[]
  totals: Totals
  log: Logger
  /** `history.postfix_queue_directory`: '' (what Postfix uses), an absolute path, or 'off' (the default here). */
  postfixQueueDirectory?: string
  /** Deadline of one queue directory count (tests; default amavis's 5 s). */
  queueCountDeadlineMs?: number
  /** Epoch ms (tests). */
  nowMs?: () => number
}): History {
  const nowMs = o.nowMs ?? Date.now
  const boot = randomUUID()
  const bootStartedMs = nowMs()
  const step = o.tiers[0].stepMs
  let worker: Worker | undefined
  let failed: string | undefined
  let timer: NodeJS.Timeout | undefined
  let nextId = 1
  const pending = new Map<number, { resolve: (v: HistoryResponse) => void; reject: (e: Error) => void }>()
  let closed: (() => void) | undefined
  let lastTs = 0
  let ready: Promise<void> = Promise.resolve()
  const queueDir = o.postfixQueueDirectory ?? 'off'
  const queue: QueueGauges | undefined =
    queueDir === 'off'
      ? undefined
      : createQueueGauges({
          configured: queueDir,
          baseTtlMs: step,
          deadlineMs: o.queueCountDeadlineMs,
          log: o.log,
        })

  const post = (m: ToHistoryWorker) => worker?.postMessage(m)
  const take = (ts: number) => {
    if (!worker || failed) return
    // a sample at or before the previous one (clock stepped back) would replace a row: skip it
    if (ts <= lastTs) return
    lastTs = ts
    const values = sampleValues(o.totals)
    if (queue) values.push(...queue.values())
    post({ t: 'record', sample: { ts, boot, bootStartedMs, pid: process.pid, values } })
  }
  const schedule = () => {
    const now = nowMs()
    const next = (Math.floor(now / step) + 1) * step
    timer = setTimeout(() => {
      take(next)
      schedule()
    }, next - now)
    timer.unref()
  }

  return {
    tiers: o.tiers,
    async start() {
      // Not awaited: messages posted before the worker runs are queued, so the start sample is
      // taken now (after the totals were restored, before the bus) while SQLite opens over there.
      const w = new Worker(new URL('./worker-boot.mjs', import.meta.url), {
        workerData: { path: o.path, tiers: o.tiers } satisfies HistoryWorkerInit,
      })
      worker = w
      ready = new Promise<void>((resolve) => {
        w.on('message', (m: FromHistoryWorker) => {
          switch (m.t) {
            case 'ready':
              o.log.info('Counter history open.', { path: o.path, rows: m.counts })
              resolve()
              break
            case 'failed':
              failed = m.error
              o.log.error('Counter history unavailable; graphs will be empty.', { path: o.path, error: m.error })
              resolve()
              break
            case 'log':
              o.log[m.level](m.msg, { error: m.error })
              break
            case 'answer': {
              const p = pending.get(m.id)
              pending.delete(m.id)
              if (m.ok) p?.resolve(m.value)
              else p?.reject(new Error(m.error))
              break
            }
            case 'closed':
              closed?.()
              break
          }
        })
        w.on('error', (err) => {
          failed = err.message
          o.log.error('The counter history worker failed.', { err })
          for (const p of pending.values()) p.reject(new HistoryUnavailableError(err.message))
          pending.clear()
          closed?.()
          resolve()
        })
        w.on('exit', () => {
          failed ??= 'the history worker exited'
          closed?.()
          resolve()
        })
      })
      w.unref()
      take(nowMs())
      schedule()
      queue?.start()
    },
    async stop() {
      if (timer) clearTimeout(timer)
      timer = undefined
      await queue?.stop()
      const w = worker
      if (!w) return
      take(nowMs())
      await ready
      if (!failed) {
        const done = new Promise<void>((r) => (closed = r))
        post({ t: 'close' })
        await Promise.race([done, new Promise((r) => setTimeout(r, 5000).unref())])
      }
      await w.terminate().catch(() => {})
      worker = undefined
      for (const p of pending.values()) p.reject(new HistoryUnavailableError('history stopped'))
      pending.clear()
    },
    async query(plan) {
      await ready
      if (!worker || failed) throw new HistoryUnavailableError(failed ?? 'history not started')
      const id = nextId++
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject })
        post({ t: 'query', id, plan })
      })
    },
    sample() {
      take(nowMs())
    },
    queueCounted: () => queue?.nextRound() ?? Promise.resolve(),
    describe() {
      const fmt = (ms: number) =>
        ms % 86_400_000 === 0 ? `${ms / 86_400_000}d` : ms % 60_000 === 0 ? `${ms / 60_000}min` : `${ms / 1000}s`
      const q = queue ? `; Postfix queue ${queue.directory ?? (queueDir || '(postconf queue_directory)')}` : ''
      return `counter history: ${o.path} (${o.tiers.map((t) => `${fmt(t.stepMs)} for ${fmt(t.retentionMs)}`).join(', ')})${q}`
    },
  }
}
