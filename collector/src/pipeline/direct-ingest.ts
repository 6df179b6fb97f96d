// The search store's intake when events come over ZMQ (no Redis: the `npm start` topology). The
// collector's PULL receiver hands every accepted event here; they are prepared, written in bulk,
// and retried while the backend is down or busy. With no broker to hold them, the queue lives in
// memory up to `maxQueued`; beyond that, at shutdown after `drainMs`, and for permanent rejects,
// events go to the dead-letter file with their reason: counted, never dropped silently.
// Events that carry a token (the acknowledged channel, ADR 0015) are reported to onDone once
// indexed or dead-lettered for good; not those dead-lettered at shutdown (the filter resends them).
import type { Logger } from '@vigil/protocol'
import { BackendUnavailableError, type Backend, type IndexDoc } from '../backends/backend.ts'

export interface DirectIngestStats {
  received: number
  indexed: number
  /** Item attempts answered 'retry' (429/5xx/store full). */
  retried: number
  deadLettered: number
  deadLetteredByReason: Record<string, number>
  batches: number
  backendUp: boolean
  lastError?: string
}

export interface DirectIngest {
  push(raws: readonly string[], tokens?: readonly number[]): void
  readonly queued: number
  stats(): DirectIngestStats
  /** Sends what is queued (at most drainMs), then dead-letters the rest with reason 'shutting down'. */
  stop(drainMs: number): Promise<void>
}

type Prepared = IndexDoc | { error: string }

export function createDirectIngest(o: {
  backend: Backend
  prepare(raw: string): Prepared
  deadLetter(raw: string, reason: string, code?: number): void
  onIndexed?(raws: string[]): void
  /** Tokens of events indexed or dead-lettered for good. */
  onDone?(tokens: number[]): void
  batchMaxEvents: number
  batchMaxBytes: number
  retryMinMs: number
  retryMaxMs: number
  maxItemAttempts: number
  maxQueued: number
  log: Logger
}): DirectIngest {
  const st: DirectIngestStats = {
    received: 0,
    indexed: 0,
    retried: 0,
    deadLettered: 0,
    deadLetteredByReason: {},
    batches: 0,
    backendUp: true,
  }
  interface Item {
    raw: string
    doc: IndexDoc
    attempts: number
    token?: number
  }
  let queue: Item[] = []
  let running: Promise<void> | undefined
  let stopping = false
  let wake: (() => void) | undefined
  let backoffMs = 0

  let doneTokens: number[] = []
  const reportDone = () => {
    if (!doneTokens.length) return
    const t = doneTokens
    doneTokens = []
    o.onDone?.(t)
  }
  const dead = (raw: string, reason: string, code?: number, token?: number) => {
    if (token !== undefined && !reason.startsWith('shutting down')) doneTokens.push(token)
    st.deadLettered++
    const cls = reason.split(':')[0]
    st.deadLetteredByReason[cls] = (st.deadLetteredByReason[cls] ?? 0) + 1
    o.deadLetter(raw, reason, code)
  }

  const sleep = (ms: number) =>
    new Promise<void>((r) => {
      const t = setTimeout(r, ms)
      wake = () => {
        clearTimeout(t)
        r()
      }
    }).finally(() => (wake = undefined))

  function takeBatch(): Item[] {
    let bytes = 0
    let n = 0
    while (n < queue.length && n < o.batchMaxEvents) {
      bytes += queue[n].doc.json.length + 64
      if (n > 0 && bytes > o.batchMaxBytes) break
      n++
    }
    const batch = queue.slice(0, n)
    queue = queue.slice(n)
    return batch
  }

  async function sendOnce(batch: Item[]): Promise<Item[]> {
    const results = await o.backend.bulk(batch.map((i) => i.doc))
    st.batches++
    const again: Item[] = []
    const ok: string[] = []
    results.forEach((r, i) => {
      const it = batch[i]
      if (r.status === 'ok') {
        st.indexed++
        ok.push(it.raw)
        if (it.token !== undefined) doneTokens.push(it.token)
      } else if (r.status === 'reject') dead(it.raw, `rejected: ${r.reason}`, r.code, it.token)
      else {
        st.retried++
        it.attempts++
        if (r.code !== 429 && r.code !== 507 && it.attempts >= o.maxItemAttempts)
          dead(it.raw, `retries exhausted: ${r.code} ${r.reason}`, r.code, it.token)
        else again.push(it)
      }
    })
    if (ok.length) o.onIndexed?.(ok)
    reportDone()
    return again
  }

  async function run(): Promise<void> {
    while (queue.length > 0) {
      let batch = takeBatch()
      while (batch.length > 0) {
        try {
          batch = await sendOnce(batch)
          st.backendUp = true
          if (batch.length === 0) {
            backoffMs = 0
            break
          }
        } catch (err) {
          if (!(err instanceof BackendUnavailableError))
            o.log.error('Bulk write failed unexpectedly; retrying.', { err })
          if (st.backendUp) o.log.warn('Search backend unavailable; events stay queued.', { err })
          st.backendUp = false
          st.lastError = (err as Error).message
        }
        if (stopping) {
          queue = batch.concat(queue)
          return
        }
        backoffMs = Math.min(o.retryMaxMs, Math.max(o.retryMinMs, backoffMs * 2))
        await sleep(backoffMs)
      }
      if (stopping) return
    }
  }

  const kick = () => {
    running ??= run().finally(() => {
      running = undefined
      if (queue.length > 0 && !stopping) kick()
    })
  }

  return {
    push(raws, tokens) {
      raws.forEach((raw, i) => {
        const token = tokens?.[i] !== undefined && tokens[i] >= 0 ? tokens[i] : undefined
        st.received++
        if (stopping) return dead(raw, 'shutting down', undefined, token)
        if (queue.length >= o.maxQueued)
          return dead(raw, `queue full: ${o.maxQueued} events wait for the search backend`, undefined, token)
        const p = o.prepare(raw)
        if ('error' in p) dead(raw, p.error, undefined, token)
        else queue.push({ raw, doc: p, attempts: 0, token })
      })
      reportDone()
      kick()
    },
    get queued() {
      return queue.length
    },
    stats: () => ({ ...st, deadLetteredByReason: { ...st.deadLetteredByReason } }),
    async stop(drainMs) {
      const deadline = Date.now() + drainMs
      while (queue.length > 0 && Date.now() < deadline && st.backendUp) {
        kick()
        await Promise.race([running, new Promise((r) => setTimeout(r, 50))])
      }
      stopping = true
      wake?.()
      await running
      for (const it of queue.splice(0))
        dead(it.raw, 'shutting down: search backend did not take it in time', undefined, it.token)
    },
  }
}
