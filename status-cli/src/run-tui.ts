// Live full-screen mode: rows from the amavis bus (the same reducer as plain mode) or from the
// collector's HTTP API (which adds host names), drawn by render/screen.ts, plus the message rate
// and stage times (snmp-responder `am.snmp?`, or /api/counters) and the live summary (rates per
// content category, stage latency, pipeline health, last messages; summary.ts): what the bus
// cannot tell is n/a there. Resolves on `q`/Ctrl-C or stop().
import {
  apiView,
  fetchJson,
  INITIAL_API_VIEW,
  parseApiCounters,
  parseApiEvents,
  parseApiPipeline,
  parseApiStages,
  parseApiStatus,
  type ApiStatus,
} from './api-source.ts'
import { computeCounterView, parseResponderReply, type CounterSnapshot } from './counters.ts'
import { formatScreen, hostsOf, type CounterView } from './render/format.ts'
import { createScreen } from './render/screen.ts'
import type { LiveRun } from './run-plain.ts'
import { createBusSource, createResponderClient } from './source.ts'
import { createStatusStore, type RedrawView } from './state.ts'
import { INITIAL_TUI, onKey, type TuiState } from './tui-state.ts'
import { categoryRates, NO_API, pushCounterSample, type NA, type SummaryView } from './summary.ts'

/** The parts of the summary only the collector's API has. */
type ApiExtras = Pick<SummaryView, 'pipeline' | 'messages'> & { stages: SummaryView['stages'] | undefined }

/** Rows of the last-messages list fetched from the API. */
const LAST_MESSAGES = 12

/** Where rows and counters come from. */
interface Provider {
  readonly label: string
  start(notice: (n: string | undefined) => void): void
  /** The rows as of `nowSecs` (advances state bars and the peak). */
  view(nowSecs: number): RedrawView
  counters(nowSecs: number): Promise<CounterSnapshot>
  /** Stage histograms, pipeline health and the last messages; undefined from the bus alone. */
  extras?(): Promise<ApiExtras>
  stop(): Promise<void>
}

function busProvider(o: {
  endpoint: string
  responder: string
  quietWarnSecs: number
  now: () => number
  onMessage?(parts: Buffer[], nowMs: number): void
}): Provider {
  const store = createStatusStore()
  let notice: (n: string | undefined) => void = () => {}
  const source = createBusSource({
    endpoint: o.endpoint,
    quietWarnSecs: o.quietWarnSecs,
    onMessage(parts) {
      const t = o.now()
      o.onMessage?.(parts, t)
      const r = store.apply(parts, t / 1000)
      notice(r.notices.length ? r.notices[r.notices.length - 1] : undefined)
    },
    onQuiet: (n) => notice(n),
    onError: (err) => notice(`receive failed: ${(err as Error).message}`),
  })
  const responder = createResponderClient(o.responder, 2000)
  return {
    label: o.endpoint,
    start(n) {
      notice = n
      source.start()
    },
    view(nowSecs) {
      return store.redraw(nowSecs)
    },
    async counters(nowSecs) {
      try {
        return parseResponderReply(await responder.query(), nowSecs)
      } catch {
        throw new Error(`no reply from ${o.responder}`)
      }
    },
    async stop() {
      responder.close()
      await source.stop()
    },
  }
}

function apiProvider(o: { api: string; pollSecs: number; now: () => number }): Provider {
  const base = o.api.replace(/\/+$/, '')
  let snap: ApiStatus | undefined
  let fetchedAt = 0
  let vstate = INITIAL_API_VIEW
  let timer: NodeJS.Timeout | undefined
  let stopped = false
  let notice: (n: string | undefined) => void = () => {}
  const poll = async (): Promise<void> => {
    timer = undefined
    try {
      const body = await fetchJson(`${base}/api/status`, 3000)
      snap = parseApiStatus(body)
      fetchedAt = o.now() / 1000
      notice(undefined)
    } catch (err) {
      notice(`amavis-status: no status from ${base}/api/status (${(err as Error).message}); is the collector running?`)
    }
    if (!stopped) timer = setTimeout(() => void poll(), Math.max(200, o.pollSecs * 1000))
  }
  return {
    label: base,
    start(n) {
      notice = n
      void poll()
    },
    view(nowSecs) {
      const r = apiView(vstate, snap ?? { time: 0, processes: [] }, snap ? fetchedAt : nowSecs, nowSecs)
      vstate = r.state
      return r.view
    },
    async counters(nowSecs) {
      return parseApiCounters(await fetchJson(`${base}/api/counters`, 3000), nowSecs)
    },
    async extras() {
      const na = (what: string, err: unknown): NA => ({
        na: /HTTP 404/.test((err as Error).message)
          ? `n/a (the collector has no ${what})`
          : `n/a (${(err as Error).message})`,
      })
      const [stages, pipeline, messages] = await Promise.all([
        fetchJson(`${base}/api/stages`, 3000).then(
          (b) => ({ source: 'histograms' as const, rows: parseApiStages(b) }),
          (err) => na('stage histograms', err),
        ),
        fetchJson(`${base}/api/pipeline`, 3000).then(parseApiPipeline, (err) => na('search pipeline', err)),
        fetchJson(`${base}/api/events?limit=${LAST_MESSAGES}`, 3000).then(parseApiEvents, (err) => na('events', err)),
      ])
      return { stages, pipeline, messages }
    },
    async stop() {
      stopped = true
      if (timer) clearTimeout(timer)
    },
  }
}

export function runTui(opts: {
  endpoint: string
  responder: string
  /** Collector HTTP base URL; when set, rows and counters come from its API instead of the bus. */
  api?: string
  count?: number
  waitSecs: number
  countersIntervalSecs: number
  quietWarnSecs: number
  now?: () => number
  onMessage?(parts: Buffer[], nowMs: number): void
}): LiveRun {
  const now = opts.now ?? Date.now
  const provider = opts.api
    ? apiProvider({ api: opts.api, pollSecs: opts.waitSecs, now })
    : busProvider({
        endpoint: opts.endpoint,
        responder: opts.responder,
        quietWarnSecs: opts.quietWarnSecs,
        now,
        onMessage: opts.onMessage,
      })
  let tui: TuiState = INITIAL_TUI
  let view: RedrawView | undefined
  let counters: CounterView | undefined
  let prevSnap: CounterSnapshot | undefined
  let samples: CounterSnapshot[] = []
  let countersError: string | undefined
  let extras: ApiExtras | undefined
  let polls = 0
  const summary = (): SummaryView => {
    const stages: SummaryView['stages'] =
      extras?.stages ??
      (countersError
        ? { na: `n/a (counters: ${countersError})` }
        : {
            source: 'counters',
            rows: (counters?.msPerMsg ?? []).map(([stage, ms]) => ({ stage, meanSecs: ms / 1000 })),
          })
    return {
      rates: countersError ? { na: `n/a (counters: ${countersError})` } : categoryRates(samples),
      stages,
      pipeline: extras?.pipeline ?? (provider.extras ? { na: 'waiting for the collector…' } : { na: NO_API }),
      messages: extras?.messages ?? (provider.extras ? { na: 'waiting for the collector…' } : { na: NO_API }),
    }
  }
  let notice: string | undefined
  let remaining = opts.count
  let ended = false
  let redrawTimer: NodeJS.Timeout | undefined
  let countersTimer: NodeJS.Timeout | undefined
  let resolveFinished!: () => void
  const finished = new Promise<void>((r) => (resolveFinished = r))

  const paint = (): void => {
    if (ended || !view) return
    screen.render(
      formatScreen(view, {
        width: screen.width,
        height: screen.height,
        source: provider.label,
        paused: tui.paused,
        sort: tui.sort,
        host: tui.host,
        help: tui.help,
        counters,
        notice,
        summary: summary(),
      }),
    )
  }
  const cycle = (): void => {
    redrawTimer = undefined
    if (ended) return
    const v = provider.view(now() / 1000)
    if (!tui.paused) view = v
    paint()
    if (remaining !== undefined && --remaining <= 0) {
      void end()
      return
    }
    redrawTimer = setTimeout(cycle, Math.max(10, opts.waitSecs * 1000))
  }
  const screen = createScreen({
    title: 'amavis-status',
    onKey(key) {
      const r = onKey(tui, key, view ? hostsOf(view) : [])
      if (r.quit) {
        void end()
        return
      }
      const unpaused = tui.paused && !r.state.paused
      tui = r.state
      if (unpaused) view = provider.view(now() / 1000)
      paint()
    },
    onResize: paint,
  })
  const pollCounters = async (): Promise<void> => {
    countersTimer = undefined
    if (ended) return
    const more = provider.extras?.().catch(() => undefined)
    try {
      const snap = await provider.counters(now() / 1000)
      counters = computeCounterView(prevSnap, snap)
      prevSnap = snap
      samples = pushCounterSample(samples, snap)
      countersError = undefined
    } catch (err) {
      counters = { msgsPerSec: undefined, msPerMsg: [], totalMsgs: undefined, error: (err as Error).message }
      countersError = (err as Error).message
    }
    if (more) extras = (await more) ?? extras
    if (ended) return
    paint()
    // the first rate needs two polls: the second comes soon
    const secs = ++polls === 1 ? Math.min(1, opts.countersIntervalSecs) : opts.countersIntervalSecs
    countersTimer = setTimeout(() => void pollCounters(), secs * 1000)
  }
  const end = async (): Promise<void> => {
    if (ended) return
    ended = true
    if (redrawTimer) clearTimeout(redrawTimer)
    if (countersTimer) clearTimeout(countersTimer)
    await provider.stop()
    screen.destroy()
    resolveFinished()
  }
  provider.start((n) => {
    if (n === undefined && !notice?.startsWith('amavis-status:')) return
    notice = n
    if (n !== undefined) paint()
  })
  redrawTimer = setTimeout(cycle, 200)
  void pollCounters()
  return { finished, stop: end }
}
