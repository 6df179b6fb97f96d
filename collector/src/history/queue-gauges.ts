// The Postfix queue gauges of the counter history (MtaQueueEntries*, the SNMP agent's amavisMta
// values): counted off the sampling path. Counting runs in its own loop, one round at a time (the
// four directories in parallel, each under a deadline) and re-counts after amavis's adaptive TTL
// (the finest step at least, 8× a slow count's cost); a sample only reads the newest round's
// numbers. So a slow or huge queue never delays, drops or reorders a sample: a sample posted after
// an awaited count could overtake or be overtaken by the next one, and a counter going "down"
// between two reordered samples would be recorded as a counter reset.
//
// A directory that cannot be counted (unreadable, missing, over the deadline) is absent from the
// samples, not 0: the graph shows a gap, never an empty queue that was not seen.
import type { Logger } from '@vigil/protocol'
import {
  countQueueEntries,
  DEFAULT_COUNT_DEADLINE_MS,
  nextQueueTtlMs,
  QUEUE_DIRS,
  queueGaugeName,
  resolveQueueDirectory,
  type QueueDir,
} from '@vigil/protocol/postfix-queue.ts'
import type { Kind } from './plan.ts'

export interface QueueGauges {
  /** Starts counting (the directory is resolved first, `postconf` included); returns at once. */
  start(): void
  /** Ends the loop and aborts a count in flight; resolves once it has settled. */
  stop(): Promise<void>
  /** The newest round's gauges; a directory that failed is left out. */
  values(): [string, Kind, number][]
  /** Resolves after the next round completes (tests). */
  nextRound(): Promise<void>
  readonly directory: string | undefined
}

export function createQueueGauges(o: {
  /** '' (what Postfix uses) or an absolute path. */
  configured: string
  baseTtlMs: number
  deadlineMs?: number
  log: Logger
}): QueueGauges {
  const deadlineMs = o.deadlineMs ?? DEFAULT_COUNT_DEADLINE_MS
  const current = new Map<QueueDir, number>()
  const failing = new Set<QueueDir>()
  const ac = new AbortController()
  let directory: string | undefined
  let loop: Promise<void> = Promise.resolve()
  let timer: NodeJS.Timeout | undefined
  let wake: (() => void) | undefined
  let waiters: (() => void)[] = []

  const round = async (dir: string) => {
    await Promise.all(
      QUEUE_DIRS.map(async (q) => {
        const path = `${dir}/${q}`
        try {
          current.set(q, await countQueueEntries(path, deadlineMs, ac.signal))
          if (failing.delete(q)) o.log.info('Postfix queue directory counted again.', { dir: path })
        } catch (err) {
          if (ac.signal.aborted) return
          current.delete(q)
          if (!failing.has(q)) {
            failing.add(q)
            o.log.warn('Postfix queue directory not counted; its gauge is absent from the history.', {
              dir: path,
              error: (err as Error).message,
            })
          }
        }
      }),
    )
  }

  const run = async () => {
    // `postconf` may take up to 3 s; stop() does not wait for it
    const aborted = new Promise<undefined>((r) => ac.signal.addEventListener('abort', () => r(undefined)))
    const dir = await Promise.race([resolveQueueDirectory(o.configured), aborted])
    if (dir === undefined) return
    directory = dir
    let lastAt = Date.now()
    while (!ac.signal.aborted) {
      const began = Date.now()
      await round(directory)
      for (const w of waiters.splice(0)) w()
      const ttl = nextQueueTtlMs(o.baseTtlMs, Date.now() - began, began - lastAt)
      lastAt = began
      if (ac.signal.aborted) break
      await new Promise<void>((resolve) => {
        wake = resolve
        timer = setTimeout(resolve, Math.max(0, ttl - (Date.now() - began)))
        timer.unref()
      })
    }
  }

  return {
    get directory() {
      return directory
    },
    start() {
      loop = run().catch((err) => o.log.warn('Postfix queue counting stopped.', { err }))
    },
    async stop() {
      ac.abort()
      if (timer) clearTimeout(timer)
      wake?.()
      await loop
      for (const w of waiters.splice(0)) w()
    },
    values() {
      const out: [string, Kind, number][] = []
      for (const q of QUEUE_DIRS) {
        const n = current.get(q)
        if (n !== undefined) out.push([queueGaugeName(q), 'gauge', n])
      }
      return out
    },
    nextRound() {
      return new Promise((r) => waiters.push(r))
    },
  }
}
