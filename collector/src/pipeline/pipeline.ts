// The collector's side of the log pipeline: starts the pipeline worker (worker-main.ts), hands it
// the events that arrive over ZMQ (as an EventSink of the events receiver), and relays search,
// aggregation and status calls to it. See docs/adr/0005-log-pipeline.md.
import { Worker } from 'node:worker_threads'
import type { CommonConfig, Logger } from '@vigil/protocol'
import type { CollectorConfig } from '../config.ts'
import type { AggsRequest, AggsResponse, SearchRequest, SearchResponse } from '../search/api.ts'
import type { EventSink, StoredEvent } from '../sinks/sink.ts'
import type { CallMethod, FromWorker, IndexedEvent, ToWorker, WireError, WorkerInit } from './messages.ts'

/** A failure the worker reported for a call, with its original error name (QueryError, BackendUnavailableError…). */
export class PipelineCallError extends Error {
  readonly position?: { start: number; end: number }
  constructor(e: WireError) {
    super(e.message)
    this.name = e.name
    this.position = e.position
  }
}

export interface Pipeline {
  start(): Promise<void>
  stop(): Promise<void>
  /** The events receiver writes ZMQ events here (direct topology). */
  readonly sink: EventSink
  search(req: SearchRequest): Promise<SearchResponse>
  aggregate(req: AggsRequest): Promise<AggsResponse>
  /** The worker's view: backend health, intake/shipper counters, queue. */
  status(): Promise<Record<string, unknown>>
  refresh(): Promise<void>
  runRetention(): Promise<string[]>
  describe(): string[]
  /** Credits of the enrichment databases in use (shown wherever country/ASN data is shown). */
  attribution(): string[]
  /** True when this collector drains Redis itself. */
  readonly ships: boolean
}

/** Whether the collector runs the shipper: `auto` ships when the filters write to Redis. */
export function shipsFromRedis(common: CommonConfig, cfg: CollectorConfig): boolean {
  if (cfg.shipper.enabled === 'off') return false
  if (cfg.shipper.enabled === 'on') return true
  return common.storage_redis_dsn.length > 0
}

export function createPipeline(o: {
  common: CommonConfig
  cfg: CollectorConfig
  log: Logger
  /** Events the shipper stored (Redis topology): the collector's ring and live stream see them here. */
  onIndexed?(events: IndexedEvent[]): void
  /** Tokens of acknowledged-channel events the store took (events/receiver.ts stored()). */
  onStored?(tokens: number[]): void
  /** How long stop() lets queued events reach the backend. */
  drainMs?: number
}): Pipeline {
  const ships = shipsFromRedis(o.common, o.cfg)
  let worker: Worker | undefined
  let nextId = 1
  const calls = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>()
  let describeLines: string[] = []
  let attributionLines: string[] = []
  let stopped: Promise<void> | undefined
  let onStopped: (() => void) | undefined

  const call = <T>(method: CallMethod, arg?: unknown): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (!worker) return reject(new PipelineCallError({ name: 'Error', message: 'pipeline not running' }))
      const id = nextId++
      calls.set(id, { resolve: resolve as (v: unknown) => void, reject })
      worker.postMessage({ t: 'call', id, method, arg } satisfies ToWorker)
    })

  const sink: EventSink = {
    name: 'search',
    async write(batch: readonly StoredEvent[]) {
      const tokens = batch.some((e) => e.token !== undefined) ? batch.map((e) => e.token ?? -1) : undefined
      worker?.postMessage({ t: 'ingest', raws: batch.map((e) => e.raw), tokens } satisfies ToWorker)
    },
    async close() {},
  }

  return {
    ships,
    sink,
    start() {
      return new Promise<void>((resolve, reject) => {
        const init: WorkerInit = { common: o.common, cfg: o.cfg, ship: ships }
        const w = new Worker(new URL('./worker-boot.mjs', import.meta.url), { workerData: init })
        worker = w
        let ready = false
        w.on('message', (m: FromWorker) => {
          switch (m.t) {
            case 'ready':
              ready = true
              describeLines = m.describe
              attributionLines = m.attribution
              resolve()
              break
            case 'fatal':
              if (!ready) reject(new PipelineCallError(m.error))
              else o.log.error('Pipeline worker failed.', { error: m.error.message })
              break
            case 'reply': {
              const c = calls.get(m.id)
              calls.delete(m.id)
              if (!c) break
              if (m.ok) c.resolve(m.value)
              else c.reject(new PipelineCallError(m.error))
              break
            }
            case 'indexed':
              o.onIndexed?.(m.events)
              break
            case 'stored':
              o.onStored?.(m.tokens)
              break
            case 'log':
              {
                // the worker names itself collector/pipeline[/…]; o.log is already collector/pipeline
                const sub = m.name.replace(/^collector\/pipeline\/?/, '')
                ;(sub ? o.log.child(sub) : o.log)[m.level](m.msg, m.fields)
              }
              break
            case 'stopped':
              onStopped?.()
              break
          }
        })
        w.on('error', (err) => {
          o.log.error('Pipeline worker crashed.', { err })
          if (!ready) reject(err)
        })
        w.on('exit', (code) => {
          worker = undefined
          for (const c of calls.values()) c.reject(new Error(`pipeline worker exited (${code})`))
          calls.clear()
          onStopped?.()
          if (!ready) reject(new Error(`pipeline worker exited (${code}) before it was ready`))
        })
      })
    },
    stop() {
      stopped ??= (async () => {
        const w = worker
        if (!w) return
        const drainMs = o.drainMs ?? 5000
        // The worker finishes the shipper's batch (bounded by the shipper) and drains the direct
        // queue for drainMs; an engine or a Redis that does not answer must not hold the collector.
        await new Promise<void>((r) => {
          onStopped = r
          setTimeout(r, drainMs + 15_000).unref()
          w.postMessage({ t: 'stop', drainMs } satisfies ToWorker)
        })
        await w.terminate()
      })()
      return stopped
    },
    search: (req) => call<SearchResponse>('search', req),
    aggregate: (req) => call<AggsResponse>('aggregate', req),
    status: () => call<Record<string, unknown>>('status'),
    refresh: () => call<void>('refresh'),
    runRetention: () => call<string[]>('retention'),
    describe: () => describeLines,
    attribution: () => attributionLines,
  }
}
