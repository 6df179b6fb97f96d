// The embedded event store: one NDJSON file per UTC day, <dir>/YYYY-MM-DD.ndjson, each line the
// event exactly as received. The day comes from the event's @timestamp, else the receive time.
import { appendFile, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { EventSink, StoredEvent } from './sink.ts'

export function eventDay(e: StoredEvent): string {
  const ts = e.event['@timestamp']
  if (typeof ts === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(ts)) return ts.slice(0, 10)
  return new Date(e.receivedAt * 1000).toISOString().slice(0, 10)
}

export function createNdjsonFileSink(dir: string): EventSink {
  let ready: Promise<unknown> | undefined
  return {
    name: `ndjson:${dir}`,
    async write(batch) {
      ready ??= mkdir(dir, { recursive: true })
      await ready
      const byDay = new Map<string, string[]>()
      for (const e of batch) {
        const day = eventDay(e)
        let lines = byDay.get(day)
        if (!lines) byDay.set(day, (lines = []))
        lines.push(e.raw.replace(/\n/g, '\\n'))
      }
      for (const [day, lines] of byDay) await appendFile(join(dir, `${day}.ndjson`), lines.join('\n') + '\n')
    },
    async close() {},
  }
}
