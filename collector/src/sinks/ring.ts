// The last N events in memory, newest last; serves GET /api/events.
import type { EventSink, StoredEvent } from './sink.ts'

export interface RingSink extends EventSink {
  /** Up to `limit` most recent events, newest first. */
  recent(limit: number): StoredEvent[]
  readonly size: number
}

export function createRingSink(capacity: number): RingSink {
  const buf: (StoredEvent | undefined)[] = new Array(capacity)
  let next = 0
  let count = 0
  return {
    name: 'ring',
    async write(batch) {
      for (const e of batch) {
        buf[next] = e
        next = (next + 1) % capacity
        if (count < capacity) count++
      }
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
