// One cached data source of the agent (the `am.snmp?` reply, the `am.nanny?` reply, one Postfix
// queue directory), refreshed on demand the way amavisd-snmp-subagent-zmq does (spec §4.2):
// a request touching a source older than its TTL refreshes it first; two queries less than
// `fastPollGapMs` apart extend the TTL by `fastPollExtendMs` until a gap longer than that.
//
// Unlike amavis, a request never waits on the data source for longer than `waitMs`: the master
// agent has a per-request timeout (agentXTimeout) and a slow responder must not make snmpd drop
// our session. If the refresh is still in flight the request is answered from the cached values,
// and the refresh completes in the background for the next request.
import type { Logger } from '@vigil/protocol'

export interface CachedSourceOptions {
  name: string
  /** Base TTL; a function for the adaptive Postfix TTL. */
  ttlMs: number | (() => number)
  fastPollGapMs?: number
  fastPollExtendMs?: number
  /** Longest time a request waits for a refresh before answering from cache. */
  waitMs: number
  /** While the source is failing, how often a request may try it again (others answer from cache at once). */
  retryMs?: number
  /** Fetches fresh values and stores them; rejects on failure (the old values are kept). */
  refresh: () => Promise<void>
  log: Logger
  now?: () => number
}

export interface SourceStats {
  refreshes: number
  failures: number
  staleAnswers: number
  lastOkAt: number | undefined
}

export interface CachedSource {
  readonly name: string
  /**
   * Notes a query and makes the source fresh if it is stale. Returns undefined when the cached
   * values may be used at once (the common, synchronous path), else a promise that resolves when
   * they are fresh or after `waitMs`. Never rejects.
   */
  touch(): Promise<void> | undefined
  /** Resolves when no refresh is in flight (for stop()). */
  idle(): Promise<void>
  stats(): SourceStats
}

export function createCachedSource(o: CachedSourceOptions): CachedSource {
  const now = o.now ?? Date.now
  const gapMs = o.fastPollGapMs ?? 0
  const extendMs = o.fastPollExtendMs ?? 0
  const retryMs = o.retryMs ?? 1000
  let lastOkAt: number | undefined
  let lastQueryAt: number | undefined
  let fastPoll = false
  let inFlight: Promise<void> | undefined
  let failing = false
  let lastFailAt = 0
  let staleLogged = false
  const st: SourceStats = { refreshes: 0, failures: 0, staleAnswers: 0, lastOkAt: undefined }

  const ttl = () => (typeof o.ttlMs === 'function' ? o.ttlMs() : o.ttlMs)

  const start = (): Promise<void> => {
    if (inFlight) return inFlight
    const began = now()
    inFlight = o
      .refresh()
      .then(
        () => {
          lastOkAt = began
          st.lastOkAt = began
          st.refreshes++
          if (failing) o.log.info('Data source answering again; cache refreshed.', { source: o.name })
          failing = false
          staleLogged = false
        },
        (err: unknown) => {
          st.failures++
          lastFailAt = now()
          if (!failing)
            o.log.warn('Data source refresh failed; serving the last cached values.', {
              source: o.name,
              err,
              cacheAgeSecs: lastOkAt === undefined ? 'never' : ((now() - lastOkAt) / 1000).toFixed(1),
            })
          failing = true
        },
      )
      .finally(() => {
        inFlight = undefined
      })
    return inFlight
  }

  const refreshAndWait = async (): Promise<void> => {
    const p = start()
    let timer: NodeJS.Timeout | undefined
    const waited = await Promise.race([
      p.then(() => 'done' as const),
      new Promise<'timeout'>((r) => {
        timer = setTimeout(() => r('timeout'), o.waitMs)
      }),
    ])
    clearTimeout(timer)
    if (waited === 'timeout' || failing) {
      st.staleAnswers++
      if (!staleLogged) {
        staleLogged = true
        o.log.warn('Answering from stale cache while the data source refresh is pending or failing.', {
          source: o.name,
          cacheAgeSecs: lastOkAt === undefined ? 'never' : ((now() - lastOkAt) / 1000).toFixed(1),
        })
      }
    }
  }

  return {
    name: o.name,
    touch() {
      const t = now()
      if (lastQueryAt !== undefined) {
        const gap = t - lastQueryAt
        if (gap < gapMs) fastPoll = true
        else if (gap > extendMs) fastPoll = false
      }
      lastQueryAt = t
      const threshold = ttl() + (fastPoll ? extendMs : 0)
      if (lastOkAt !== undefined && t - lastOkAt <= threshold) return undefined
      if (failing && (inFlight || t - lastFailAt < retryMs)) {
        // The source is down: answer at once from cache instead of stalling every request of a walk.
        st.staleAnswers++
        return undefined
      }
      return refreshAndWait()
    },
    async idle() {
      if (inFlight) await inFlight
    },
    stats: () => ({ ...st }),
  }
}
