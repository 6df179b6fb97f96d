// Event sinks: every accepted per-message JSON event is written to each sink in small batches.
// Siblings: ring.ts (memory, serves /api/events), ndjson-file.ts (the embedded store),
// dead-letter.ts (malformed input). Redis→ES/OpenSearch and SQLite stores plug in here.

/** One accepted event: the bytes as the filter sent them (amavis JSON) and the parsed object. */
export interface StoredEvent {
  readonly raw: string
  readonly event: Readonly<Record<string, unknown>>
  /** Unix seconds when the collector received it. */
  readonly receivedAt: number
  /** Acknowledged channel: answer the sender once the search store has it (receiver.stored()). */
  readonly token?: number
}

export interface EventSink {
  readonly name: string
  /** Persists a batch in order. Rejects on failure; the caller counts and logs it. */
  write(batch: readonly StoredEvent[]): Promise<void>
  /** Flushes and releases resources. */
  close(): Promise<void>
}
