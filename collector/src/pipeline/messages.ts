// Messages between the collector's main thread and its pipeline worker (pipeline.ts ↔ worker-main.ts).
// Everything crosses as structured clones: plain objects, no functions or class instances.
import type { CommonConfig, LogLevel } from '@vigil/protocol'
import type { CollectorConfig } from '../config.ts'

export interface WorkerInit {
  readonly common: CommonConfig
  readonly cfg: CollectorConfig
  /** Drain Redis (the shipper) in this worker. */
  readonly ship: boolean
}

export type CallMethod = 'search' | 'aggregate' | 'status' | 'refresh' | 'retention'

export type ToWorker =
  /** tokens[i] ≥ 0: answer 'stored' with it once raws[i] is indexed or dead-lettered for good (ADR 0015). */
  | { readonly t: 'ingest'; readonly raws: string[]; readonly tokens?: number[] }
  | { readonly t: 'call'; readonly id: number; readonly method: CallMethod; readonly arg?: unknown }
  | { readonly t: 'stop'; readonly drainMs: number }

export interface IndexedEvent {
  readonly raw: string
  /** The fields the ring, the stage histograms and /api/stream use. */
  readonly summary: Readonly<Record<string, unknown>>
}

/** Fields of an event the main thread needs (see app.ts observe()). */
export const SUMMARY_FIELDS = ['log_id', 'action', 'content_type', 'message', 'elapsed'] as const

export interface WireError {
  readonly name: string
  readonly message: string
  readonly position?: { start: number; end: number }
}

export type FromWorker =
  | { readonly t: 'ready'; readonly describe: string[]; readonly attribution: string[] }
  | { readonly t: 'fatal'; readonly error: WireError }
  | { readonly t: 'reply'; readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly t: 'reply'; readonly id: number; readonly ok: false; readonly error: WireError }
  /**
   * Events the shipper stored (they never crossed the ZMQ events channel), for the collector's ring
   * and live stream: the raw amavis JSON plus the few fields the main thread reads, already parsed
   * here, so the bus's event loop never parses a thousand events at once.
   */
  | { readonly t: 'indexed'; readonly events: IndexedEvent[] }
  /** Tokens of ZMQ events the store took (or dead-lettered for good): the receiver acknowledges them. */
  | { readonly t: 'stored'; readonly tokens: number[] }
  | {
      readonly t: 'log'
      readonly level: LogLevel
      readonly name: string
      readonly msg: string
      readonly fields?: Record<string, unknown>
    }
  | { readonly t: 'stopped' }

export function toWireError(err: unknown): WireError {
  const e = err as { name?: string; message?: string; position?: { start: number; end: number } }
  return { name: e?.name ?? 'Error', message: e?.message ?? String(err), position: e?.position }
}
