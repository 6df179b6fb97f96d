// The last N events in memory, newest last; serves GET /api/events.
import type { EventSink, StoredEvent } from './sink.ts'

export interface RingSink extends EventSink {
  /** Adds one event synchronously (the collector calls this on receipt, so /api/events never lags). */
  push(e: StoredEvent): void
  /** Up to `limit` most recent events, newest first. */
  recent(limit: number): StoredEvent[]
  readonly size: number
}

export function createRingSink(capacity: number): RingSink {
  const buf: (StoredEvent | undefined)[] = new Array(capacity)
  let next = 0
  let count = 0
  const push = (e: StoredEvent) => {
    buf[next] = e
    next = (next + 1) % capacity
    if (count < capacity) count++
  }
  return {
    name: 'ring',
    push,
    async write(batch) {
      for (const e of batch) push(e)
    },
    recent(limit) {
      const n = Math.max(0, Math.min(limit, count))
      const out: StoredEvent[] = []
      for (let i = 1; i <= n; i++) out.push(buf[(next - i + capacity) % capacity]!)
      return out
    },
    get size() {
      return count
    },
    async close() {},
  }
}
