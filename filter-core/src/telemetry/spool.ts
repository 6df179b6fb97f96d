// The filter's event spool (ADR 0015): events the collector has not acknowledged yet, on disk when
// they must outlive memory (the in-memory window is full) or the worker (it retires or stops).
// Segments <pid>-<time>-<seq>.ndjson under <home>/events-spool/, one JSON [id, json] a line; a
// segment is claimed whole by an atomic rename, by its writer or by any worker once the writer is
// gone, so two workers never resend the same segment.
import { appendFileSync, mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'

export type SpooledEvent = [id: string, json: string]

export interface EventSpool {
  /** Appends events; false when the spool is full (maxSegments) or not writable. */
  write(events: readonly SpooledEvent[]): boolean
  /** Takes the oldest segment this process may resend (its own, or a gone process's); undefined if none. */
  claim(): SpooledEvent[] | undefined
  readonly dir: string
}

const SEGMENT = /^(\d+)-(\d+)-(\d+)\.ndjson$/

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH'
  }
}

export function createEventSpool(o: {
  dir: string
  pid: number
  /** Events per segment (the filter's events_queue_limit: a claimed segment fits the window). */
  segmentEvents: number
  /** Segments in the directory beyond which write() refuses (disk stays bounded). */
  maxSegments: number
  onError?: (e: unknown) => void
}): EventSpool {
  let current: string | undefined
  let inCurrent = 0
  let seq = 0
  const list = (): string[] => {
    try {
      return readdirSync(o.dir).filter((f) => SEGMENT.test(f))
    } catch {
      return []
    }
  }
  return {
    dir: o.dir,
    write(events) {
      if (!events.length) return true
      try {
        mkdirSync(o.dir, { recursive: true })
        let i = 0
        while (i < events.length) {
          if (!current || inCurrent >= o.segmentEvents) {
            if (list().length >= o.maxSegments) return false
            current = join(o.dir, `${o.pid}-${Date.now()}-${seq++}.ndjson`)
            inCurrent = 0
          }
          const n = Math.min(events.length - i, o.segmentEvents - inCurrent)
          appendFileSync(
            current,
            events
              .slice(i, i + n)
              .map((e) => JSON.stringify(e) + '\n')
              .join(''),
          )
          inCurrent += n
          i += n
        }
        return true
      } catch (e) {
        o.onError?.(e)
        return false
      }
    },
    claim() {
      const files = list()
        .map((f) => ({ f, m: SEGMENT.exec(f)! }))
        .filter(({ m }) => Number(m[1]) === o.pid || !alive(Number(m[1])))
        .sort((a, b) => Number(a.m[2]) - Number(b.m[2]) || Number(a.m[3]) - Number(b.m[3]))
      for (const { f } of files) {
        const from = join(o.dir, f)
        const to = join(o.dir, `.claimed-${o.pid}-${f}`)
        try {
          renameSync(from, to)
        } catch {
          continue // another worker took it
        }
        if (from === current) current = undefined
        try {
          const out: SpooledEvent[] = []
          for (const line of readFileSync(to, 'utf8').split('\n')) {
            if (!line) continue
            try {
              const v = JSON.parse(line) as unknown
              if (Array.isArray(v) && typeof v[0] === 'string' && typeof v[1] === 'string') out.push([v[0], v[1]])
            } catch {
              // a line cut short by a crash mid-append: its event was never acknowledged elsewhere either
            }
          }
          unlinkSync(to)
          return out
        } catch (e) {
          o.onError?.(e)
        }
      }
      return undefined
    },
  }
}

/** The worker's spool as the event sinks configure it (<home>/events-spool unless given). */
export function openEventSpool(o: {
  home: string
  spoolDir?: string
  queueLimit: number
  spoolMaxSegments?: number
  log: { warn(msg: string, f?: { err: Error }): void }
}): EventSpool {
  return createEventSpool({
    dir: o.spoolDir ?? join(o.home, 'events-spool'),
    pid: process.pid,
    segmentEvents: Math.max(1, o.queueLimit),
    maxSegments: o.spoolMaxSegments ?? 1000,
    onError: (e) => o.log.warn('Event spool not usable.', { err: e as Error }),
  })
}
