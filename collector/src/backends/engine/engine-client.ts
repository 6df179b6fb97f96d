// The few engine calls the backend needs, over either official client (elasticsearch.ts,
// opensearch.ts adapt theirs). Bodies are plain JSON, identical on both engines; methods throw the
// client's own errors, which classifyError() reads the same way for both.

/** One `_bulk` response item (after filter_path): status, and error for a failed one. */
export interface BulkItem {
  readonly status: number
  readonly error?: {
    readonly type?: string
    readonly reason?: string
    readonly caused_by?: { type?: string; reason?: string }
  }
}

export interface EngineClient {
  putIndexTemplate(name: string, body: Record<string, unknown>): Promise<void>
  /** Adds the catalogue's fields to existing indices of the pattern (new fields only; a conflict throws). */
  putMapping(pattern: string, mappings: Record<string, unknown>): Promise<void>
  /** Sends action/document lines (a string line is sent as is); returns one item per action, in order. */
  bulk(lines: readonly (string | Record<string, unknown>)[]): Promise<BulkItem[]>
  /** `_search` over the pattern with ignore_unavailable and allow_no_indices; returns the response body. */
  search(pattern: string, body: Record<string, unknown>): Promise<any>
  refresh(pattern: string): Promise<void>
  /** Names of the indices (open or closed) matching the pattern. */
  listIndices(pattern: string): Promise<string[]>
  deleteIndices(names: readonly string[]): Promise<void>
  clusterHealth(): Promise<{ status: string; cluster_name?: string }>
  /** Primary documents and total store bytes of the pattern's indices. */
  stats(pattern: string): Promise<{ docs: number; sizeBytes: number }>
  close(): Promise<void>
}

export interface ClassifiedError {
  /** No engine answer: connection refused, timeout, or a client-side failure (wrong product, bad JSON). */
  readonly unreachable: boolean
  /** HTTP status of an engine answer, if there was one. */
  readonly status?: number
  /** `type: reason` of the engine's error (its root cause when it has one), or the client's message. */
  readonly reason: string
}

interface EngineErrorBody {
  type?: string
  reason?: string
  root_cause?: { type?: string; reason?: string }[]
  caused_by?: { type?: string; reason?: string }
}

/** Reads an error thrown by either client (@elastic/transport or @opensearch-project/opensearch). */
export function classifyError(err: unknown): ClassifiedError {
  const e = err as { name?: string; message?: string; meta?: { statusCode?: number; body?: unknown } }
  const status = typeof e?.meta?.statusCode === 'number' && e.meta.statusCode > 0 ? e.meta.statusCode : undefined
  const body = e?.meta?.body as { error?: EngineErrorBody | string } | string | undefined
  let reason = e?.message ?? String(err)
  const error = typeof body === 'object' ? body?.error : undefined
  if (typeof error === 'string') reason = error
  else if (error) {
    const root = error.root_cause?.[0]
    const main = root?.reason ? root : error
    reason = [main.type, main.reason].filter(Boolean).join(': ') || reason
  }
  return {
    unreachable: status === undefined,
    status,
    reason: status === undefined ? `${e?.name ?? 'Error'}: ${reason}` : reason,
  }
}
