// The Live page's process table, fed by the collector's SSE stream (/api/stream): `hello` carries
// every process, `states` the rows that changed (batched by the collector every 250 ms), `flush` a
// host whose children restarted, `event` each message logged. Updates are applied at most once per
// animation frame; a row object is replaced only when that row changed, so React.memo rows that
// did not change are not rendered again. Plain TypeScript: the component reads it through
// useSyncExternalStore.
import { advanceHistory, decayPeak } from './bars.ts'

/** One process as the collector sends it (collector/src/app.ts processRowJson). */
export interface WireProc {
  host: string
  pid: number
  state: string
  task_id: string | null
  busy: boolean
  activity: string
  elapsed_secs: number
  base_time: string
  last_time: string
  last_heard_secs: number
}

export interface LiveProc extends WireProc {
  readonly key: string
  /** Local time (seconds) of the base (A/m/start) as derived from elapsed_secs on receipt. */
  readonly baseAt: number
  /** One state letter per second since the base: the amavis-status state bar. */
  readonly history: string
}

/** What the stream's `event` carries (a summary; the full event comes from /api/events). */
export interface WireEvent {
  log_id: string | null
  action: string[] | string | null
  content_type: string | null
  message: string | null
  received_at: number
}

export interface LiveSnapshot {
  readonly procs: readonly LiveProc[]
  readonly busy: number
  readonly idle: number
  readonly peak: number
  readonly connected: boolean
  /** State changes applied since the page opened. */
  readonly applied: number
  readonly host: string
}

export interface LivePerf {
  /** Animation frames seen in the last full second. */
  fps: number
  /** The lowest per-second frame count since the counter started (after the first second). */
  minFps: number | undefined
  /** The longest gap between two animation frames, ms. */
  maxFrameGapMs: number
  /** rAF flushes that applied at least one update. */
  flushes: number
  /** State rows applied. */
  applied: number
  /** SSE `states` messages received. */
  messages: number
}

declare global {
  interface Window {
    __vigilLivePerf?: LivePerf
  }
}

const keyOf = (host: string, pid: number) => `${host} ${pid}`
const nowSecs = () => performance.timeOrigin / 1000 + performance.now() / 1000

function sortProcs(a: LiveProc, b: LiveProc): number {
  return Number(b.busy) - Number(a.busy) || a.pid - b.pid || (a.host < b.host ? -1 : a.host > b.host ? 1 : 0)
}

type Pending =
  | { kind: 'hello'; rows: WireProc[]; host: string }
  | { kind: 'row'; row: WireProc | { host: string; pid: number; removed: string } }
  | { kind: 'flush'; host: string }

export interface LiveStore {
  subscribe(fn: () => void): () => void
  snapshot(): LiveSnapshot
  perf(): LivePerf
  /** Calls `fn` for every logged message (not batched; the caller throttles). */
  onEvent(fn: (e: WireEvent) => void): () => void
  close(): void
}

export function createLiveStore(url = '/api/stream'): LiveStore {
  const procs = new Map<string, LiveProc>()
  const listeners = new Set<() => void>()
  const eventListeners = new Set<(e: WireEvent) => void>()
  let pending: Pending[] = []
  let rafId: number | undefined
  let connected = false
  let applied = 0
  let peak = 0
  let peakAt: number | undefined
  let host = ''
  let snap: LiveSnapshot = { procs: [], busy: 0, idle: 0, peak: 0, connected: false, applied: 0, host: '' }
  const perf: LivePerf = { fps: 0, minFps: undefined, maxFrameGapMs: 0, flushes: 0, applied: 0, messages: 0 }
  window.__vigilLivePerf = perf

  const fromWire = (w: WireProc, t: number): LiveProc => {
    const key = keyOf(w.host, w.pid)
    const baseAt = Math.round((t - (w.elapsed_secs ?? 0)) * 10) / 10
    const old = procs.get(key)
    const keep = old && old.busy && Math.abs(old.baseAt - baseAt) < 0.75 ? old.history : ''
    const history = w.busy ? advanceHistory(keep, t - baseAt, w.state) : ''
    return { ...w, key, baseAt, history }
  }

  const rebuild = (t: number) => {
    const list = [...procs.values()].sort(sortProcs)
    const busy = list.filter((p) => p.busy).length
    peak = decayPeak(peak, peakAt, busy, t)
    peakAt = t
    snap = { procs: list, busy, idle: list.length - busy, peak, connected, applied, host }
    for (const fn of listeners) fn()
  }

  const flush = () => {
    rafId = undefined
    if (pending.length === 0) return
    const t = nowSecs()
    const batch = pending
    pending = []
    for (const p of batch) {
      if (p.kind === 'hello') {
        procs.clear()
        host = p.host
        for (const w of p.rows) procs.set(keyOf(w.host, w.pid), fromWire(w, t))
      } else if (p.kind === 'flush') {
        for (const [k, v] of procs) if (v.host === p.host) procs.delete(k)
      } else if ('removed' in p.row) {
        procs.delete(keyOf(p.row.host, p.row.pid))
        applied++
      } else {
        procs.set(keyOf(p.row.host, p.row.pid), fromWire(p.row, t))
        applied++
      }
    }
    perf.flushes++
    perf.applied = applied
    rebuild(t)
  }
  const schedule = () => {
    if (rafId === undefined) rafId = requestAnimationFrame(flush)
  }

  // Once a second: grow the state bars of busy rows (only those objects change) and decay the peak.
  const ticker = setInterval(() => {
    const t = nowSecs()
    let changed = false
    for (const [k, p] of procs) {
      if (!p.busy) continue
      const history = advanceHistory(p.history, t - p.baseAt, p.state)
      if (history !== p.history) {
        procs.set(k, { ...p, history })
        changed = true
      }
    }
    if (changed || peak >= 0.1) rebuild(t)
  }, 1000)

  // Frame counter: frames per wall-clock second and the longest gap between frames.
  let frames = 0
  let secondStart = performance.now()
  let lastFrame = secondStart
  let seconds = 0
  let perfRaf = 0
  const countFrame = (ts: number) => {
    frames++
    const gap = ts - lastFrame
    lastFrame = ts
    if (seconds > 0 && gap > perf.maxFrameGapMs) perf.maxFrameGapMs = Math.round(gap)
    if (ts - secondStart >= 1000) {
      perf.fps = Math.round((frames * 1000) / (ts - secondStart))
      if (seconds > 0) perf.minFps = perf.minFps === undefined ? perf.fps : Math.min(perf.minFps, perf.fps)
      seconds++
      frames = 0
      secondStart = ts
    }
    perfRaf = requestAnimationFrame(countFrame)
  }
  perfRaf = requestAnimationFrame(countFrame)

  const parse = (ev: MessageEvent): unknown => {
    try {
      return JSON.parse(ev.data as string)
    } catch {
      return undefined
    }
  }
  const es = new EventSource(url, { withCredentials: true })
  const setConnected = (c: boolean) => {
    if (connected === c) return
    connected = c
    snap = { ...snap, connected }
    for (const fn of listeners) fn()
  }
  es.addEventListener('open', () => setConnected(true))
  es.addEventListener('error', () => setConnected(false))
  es.addEventListener('hello', (ev) => {
    const d = parse(ev) as { host?: string; processes?: WireProc[] } | undefined
    setConnected(true)
    pending = [{ kind: 'hello', rows: Array.isArray(d?.processes) ? d.processes : [], host: d?.host ?? '' }]
    schedule()
  })
  es.addEventListener('states', (ev) => {
    const rows = parse(ev)
    perf.messages++
    if (!Array.isArray(rows)) return
    for (const row of rows) pending.push({ kind: 'row', row })
    schedule()
  })
  es.addEventListener('flush', (ev) => {
    const d = parse(ev) as { host?: string } | undefined
    if (typeof d?.host === 'string') pending.push({ kind: 'flush', host: d.host })
    schedule()
  })
  es.addEventListener('event', (ev) => {
    const d = parse(ev) as WireEvent | undefined
    if (d) for (const fn of eventListeners) fn(d)
  })

  return {
    subscribe(fn) {
      listeners.add(fn)
      return () => listeners.delete(fn)
    },
    snapshot: () => snap,
    perf: () => perf,
    onEvent(fn) {
      eventListeners.add(fn)
      return () => eventListeners.delete(fn)
    },
    close() {
      es.close()
      clearInterval(ticker)
      if (rafId !== undefined) cancelAnimationFrame(rafId)
      cancelAnimationFrame(perfRaf)
      listeners.clear()
      eventListeners.clear()
    },
  }
}
