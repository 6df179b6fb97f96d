// The search store contract. Siblings: embedded/ (SQLite, the default), engine/ (Elasticsearch
// 8/9 and OpenSearch 2/3 through their official clients). The shipper writes through bulk(),
// the search API reads through search()/aggregate(); the same requests give the same answers on
// every backend (collector/test/integration/search-conformance.test.ts).
import type { AggsRequest, AggsResponse, SearchRequest, SearchResponse } from '../search/api.ts'

/** One event ready to store: prepared by shipper/prepare.ts (parsed, @timestamp normalised, id, enrichment). */
export interface IndexDoc {
  /** Document id (event_id): re-sending the same event overwrites it; distinct events never share one. */
  readonly id: string
  /** Epoch ms of the normalised `@timestamp`. */
  readonly tsMs: number
  /** Daily index / partition name, `<index_prefix>YYYY.MM.DD` (UTC day of tsMs). */
  readonly index: string
  /** The document as stored (amavis event + event_id + client_geo). */
  readonly doc: Readonly<Record<string, unknown>>
  /** JSON text of doc (what bulk sends; its length sizes the bulk request). */
  readonly json: string
  /**
   * json is the producer's own text with event_id/client_geo appended (collector/src/shipper/prepare.ts),
   * not JSON.stringify(doc): equal but for a key the producer wrote twice.
   */
  readonly verbatim?: true
}

/**
 * Per-item outcome of a bulk write, in request order.
 * - ok: stored (created or overwritten).
 * - retry: transient (429, 5xx, a full or busy store): send again later, the event stays in flight.
 * - reject: permanent (mapping conflict, invalid value, oversize): dead-letter with `reason`.
 */
export type ItemResult =
  | { readonly status: 'ok' }
  | { readonly status: 'retry'; readonly code: number; readonly reason: string }
  | { readonly status: 'reject'; readonly code: number; readonly reason: string }

/** The whole backend is unreachable or failing (connection refused, timeout, cluster red, disk unwritable). */
export class BackendUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'BackendUnavailableError'
  }
}

export interface BackendHealth {
  readonly up: boolean
  readonly detail?: string
  /** Stored documents (all days), when cheap to know. */
  readonly docs?: number
  /** Bytes on disk, when known. */
  readonly sizeBytes?: number
}

export interface Backend {
  readonly kind: 'embedded' | 'elasticsearch' | 'opensearch'
  /** Creates the schema / index template; idempotent. Throws BackendUnavailableError while unreachable. */
  init(): Promise<void>
  /** Stores a batch; one result per doc, in order. Throws BackendUnavailableError if nothing could be sent. */
  bulk(docs: readonly IndexDoc[]): Promise<ItemResult[]>
  /** Makes everything bulk() confirmed visible to search (tests, `vigil pipeline --wait`). */
  refresh(): Promise<void>
  search(req: SearchRequest): Promise<SearchResponse>
  aggregate(req: AggsRequest): Promise<AggsResponse>
  /** Deletes whole days older than retentionDays before nowMs; returns the deleted index names. */
  applyRetention(nowMs: number, retentionDays: number): Promise<string[]>
  health(): Promise<BackendHealth>
  close(): Promise<void>
}
