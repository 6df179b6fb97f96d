// Messages between the filter master and its workers (Node IPC, 'advanced' serialisation).
import type { CommonConfig, LogLevel } from '@vigil/protocol'
import type { FilterConfig, Listener } from '../config.ts'

export type MasterToWorker =
  | { type: 'init'; common: CommonConfig; cfg: FilterConfig; logLevel: LogLevel }
  | { type: 'conn'; listener: Listener }
  | { type: 'shutdown' }

export type WorkerToMaster =
  | { type: 'ready' }
  /** One connection finished (the worker may already be serving a queued one). */
  | { type: 'done' }
  | { type: 'retiring' }
  | { type: 'log'; level: LogLevel; msg: string; fields?: Record<string, unknown> }
