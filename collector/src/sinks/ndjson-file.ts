// The embedded event store: one NDJSON file per UTC day, <dir>/YYYY-MM-DD.ndjson, each line the
// event exactly as received. The day comes from the event's @timestamp, else the receive time.
// Files are kept open for appending (opening and closing per batch cost three thread-pool round
// trips per write) and reopened after REOPEN_MS, so a file an admin moved or removed is replaced
// within a minute; at most MAX_OPEN days are open at once.
import { mkdir, open, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import type { EventSink, StoredEvent } from './sink.ts'

const REOPEN_MS = 60_000
const MAX_OPEN = 3

export function eventDay(e: StoredEvent): string {
  const ts = e.event['@timestamp']
  if (typeof ts === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(ts)) return ts.slice(0, 10)
  return new Date(e.receivedAt * 1000).toISOString().slice(0, 10)
}

export function createNdjsonFileSink(dir: string, opts: { now?: () => number } = {}): EventSink {
  const now = opts.now ?? Date.now
  let ready: Promise<unknown> | undefined
  const files = new Map<string, { fh: FileHandle; openedAt: number }>()
  const handle = async (day: string): Promise<FileHandle> => {
    const f = files.get(day)
    if (f && now() - f.openedAt < REOPEN_MS) return f.fh
    if (f) {
      files.delete(day)
      await f.fh.close().catch(() => {})
    }
    while (files.size >= MAX_OPEN) {
      const [oldest, o] = files.entries().next().value!
      files.delete(oldest)
      await o.fh.close().catch(() => {})
    }
    const fh = await open(join(dir, `${day}.ndjson`), 'a')
    files.set(day, { fh, openedAt: now() })
    return fh
  }
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
      for (const [day, lines] of byDay) {
        const fh = await handle(day)
        try {
          await fh.write(lines.join('\n') + '\n')
        } catch (e) {
          // A broken handle is not reused: the next batch opens the file again.
          files.delete(day)
          await fh.close().catch(() => {})
          throw e
        }
      }
    },
    async close() {
      const open = [...files.values()]
      files.clear()
      await Promise.all(open.map((f) => f.fh.close().catch(() => {})))
    },
  }
}
