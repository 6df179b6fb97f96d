// Live: amavis-status in the browser. Processes with their state bars and task ids from the
// collector's SSE stream (batched per animation frame, keyed memo rows), the busy/idle summary with
// the decaying peak bar, per-stage latency (/api/stages), rates per content category
// (/api/counters), the last messages (/api/events), pipeline health (/api/pipeline), and the
// details of a clicked child with its event once indexed (/api/search). Event text is rendered
// as React text nodes only.
import { memo, useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react'
import { apiGet, ApiError, type SearchResponse } from '../../api.ts'
import { routeHref } from '../../router.ts'
import { useSession } from '../../session.tsx'
import { displaySubject } from '../../lib/subjects.ts'
import { barSegments, fmtElapsed, fmtSecs, peakBar, stateClass, STATE_NAMES } from './bars.ts'
import { computeRates, pushSample, sampleOf, type CounterSample } from './rates.ts'
import { createLiveStore, type LiveProc, type LiveSnapshot, type LiveStore } from './store.ts'
import './live.css'

const EMPTY: LiveSnapshot = { procs: [], busy: 0, idle: 0, peak: 0, connected: false, applied: 0, host: '' }

/** Polls `path` every `everyMs` while mounted; the last good answer and the last error. */
function usePoll<T>(
  path: string,
  everyMs: number,
): { data: T | undefined; error: string | undefined; refresh(): void } {
  const [data, setData] = useState<T>()
  const [error, setError] = useState<string>()
  const [n, setN] = useState(0)
  useEffect(() => {
    let stop = false
    let timer: number | undefined
    const ctl = new AbortController()
    const run = async () => {
      try {
        const d = await apiGet<T>(path, undefined, ctl.signal)
        if (stop) return
        setData(d)
        setError(undefined)
      } catch (err) {
        if (stop) return
        setError(err instanceof ApiError && err.status === 404 ? 'n/a' : (err as Error).message)
      }
      if (!stop) timer = window.setTimeout(run, everyMs)
    }
    void run()
    return () => {
      stop = true
      ctl.abort()
      if (timer !== undefined) clearTimeout(timer)
    }
  }, [path, everyMs, n])
  return { data, error, refresh: useCallback(() => setN((x) => x + 1), []) }
}

const luceneQuote = (s: string) => `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`
const timeOf = (unixSecs: string | number | undefined) => {
  const n = Number(unixSecs)
  return Number.isFinite(n) && n > 0 ? new Date(n * 1000).toLocaleTimeString() : ''
}
const actionText = (a: unknown) => (Array.isArray(a) ? a.join(',') : typeof a === 'string' ? a : '')

// --- processes ---------------------------------------------------------------------------------

function StateBar({ p }: { p: LiveProc }) {
  if (!p.busy) return <span className="live-bar idle" aria-hidden="true" />
  const { runs, truncated } = barSegments(p.history)
  return (
    <span className="live-bar" aria-label={`state history ${p.history.length} s`}>
      {runs.map(([ch, n], i) => (
        <span key={i} className={`seg ${stateClass(ch)}`} style={{ width: `${n * 0.6}em` }} title={`${ch} ${n}s`}>
          {n >= 2 ? ch : ''}
        </span>
      ))}
      {truncated ? <span className="more">›</span> : null}
    </span>
  )
}

const ProcRow = memo(function ProcRow({
  p,
  selected,
  showHost,
  onSelect,
}: {
  p: LiveProc
  selected: boolean
  showHost: boolean
  onSelect(key: string): void
}) {
  const letter = p.state === ' ' ? '-' : p.state
  return (
    <tr
      className={`${p.busy ? 'busy' : 'idle'}${selected ? ' selected' : ''}`}
      data-testid="proc-row"
      data-key={p.key}
      data-pid={p.pid}
      data-state={letter}
      aria-selected={selected}
      onClick={() => onSelect(p.key)}
    >
      {showHost ? <td>{p.host}</td> : null}
      <td className="num">
        <button type="button" className="linkish" onClick={() => onSelect(p.key)} aria-label={`process ${p.pid}`}>
          {p.pid}
        </button>
      </td>
      <td className="state">
        <span className={`chip ${stateClass(letter)}`}>{letter}</span> {STATE_NAMES[letter] ?? ''}
      </td>
      <td className="mono">{p.task_id ?? ''}</td>
      <td className="mono num">{p.busy ? fmtElapsed(p.history.length) : `idle ${timeOf(p.base_time)}`}</td>
      <td>
        <StateBar p={p} />
      </td>
    </tr>
  )
})

function ProcTable({
  snap,
  selected,
  onSelect,
}: {
  snap: LiveSnapshot
  selected: string | undefined
  onSelect(key: string): void
}) {
  const showHost = useMemo(() => new Set(snap.procs.map((p) => p.host)).size > 1, [snap.procs])
  return (
    <table className="live-procs" data-testid="live-procs" aria-label="amavis processes">
      <thead>
        <tr>
          {showHost ? <th scope="col">Host</th> : null}
          <th scope="col">PID</th>
          <th scope="col">State</th>
          <th scope="col">Task id</th>
          <th scope="col">Elapsed</th>
          <th scope="col">State bar</th>
        </tr>
      </thead>
      <tbody>
        {snap.procs.map((p) => (
          <ProcRow key={p.key} p={p} selected={p.key === selected} showHost={showHost} onSelect={onSelect} />
        ))}
        {snap.procs.length === 0 ? (
          <tr>
            <td colSpan={6} className="muted">
              {snap.connected ? 'No amavis processes reported yet.' : 'Connecting to the live stream…'}
            </td>
          </tr>
        ) : null}
      </tbody>
    </table>
  )
}

// --- details of one child ----------------------------------------------------------------------

type Hit = Record<string, unknown>

function ProcDetails({ proc, store, onClose }: { proc: LiveProc | undefined; store: LiveStore; onClose(): void }) {
  const { me } = useSession()
  const [task, setTask] = useState<string | undefined>(proc?.task_id ?? undefined)
  const [hit, setHit] = useState<Hit | null | undefined>(undefined)
  const [err, setErr] = useState<string>()
  const [revealed, setRevealed] = useState(false)
  const [nonce, setNonce] = useState(0)
  // follow the child to its next message; keep the last one while it idles
  useEffect(() => {
    if (proc?.task_id && proc.task_id !== task) {
      setTask(proc.task_id)
      setHit(undefined)
      setRevealed(false)
    }
  }, [proc?.task_id, task])
  const q = task ? `log_id:${luceneQuote(task)} OR mail_id:${luceneQuote(task)}` : undefined
  useEffect(() => {
    if (!q || hit) return
    let stop = false
    let timer: number | undefined
    const ctl = new AbortController()
    const look = async () => {
      try {
        const r = await apiGet<SearchResponse>('/api/search', { q, size: 1 }, ctl.signal)
        if (stop) return
        setErr(undefined)
        if (r.hits.length > 0) {
          setHit(r.hits[0])
          return
        }
        setHit(null)
      } catch (e) {
        if (stop) return
        setErr((e as Error).message)
      }
      timer = window.setTimeout(look, 3000)
    }
    void look()
    return () => {
      stop = true
      ctl.abort()
      if (timer !== undefined) clearTimeout(timer)
    }
  }, [q, hit, nonce])
  // a logged message of this task: look again now rather than at the next poll
  useEffect(
    () =>
      store.onEvent((e) => {
        if (task && e.log_id === task) setNonce((n) => n + 1)
      }),
    [store, task],
  )
  if (!proc) return null
  const letter = proc.state === ' ' ? '-' : proc.state
  const subject = typeof hit?.subject === 'string' ? hit.subject : undefined
  return (
    <section className="live-card live-details" data-testid="proc-details" aria-label={`process ${proc.pid}`}>
      <header>
        <h2>
          Process {proc.pid}
          {proc.host ? <span className="muted"> on {proc.host}</span> : null}
        </h2>
        <button type="button" onClick={onClose} aria-label="Close details">
          ×
        </button>
      </header>
      <dl>
        <dt>State</dt>
        <dd data-testid="detail-state">
          <span className={`chip ${stateClass(letter)}`}>{letter}</span> {STATE_NAMES[letter] ?? ''}
          {proc.busy ? '' : ' (idle)'}
        </dd>
        <dt>Task id</dt>
        <dd className="mono" data-testid="detail-task">
          {proc.task_id ?? (task ? `${task} (last)` : '–')}
        </dd>
        <dt>Since</dt>
        <dd data-testid="detail-since">
          {timeOf(proc.base_time)} ({fmtElapsed(proc.busy ? proc.history.length : proc.elapsed_secs)})
        </dd>
        <dt>Last heard</dt>
        <dd>{timeOf(proc.last_time)}</dd>
      </dl>
      {q ? (
        <div className="live-event" data-testid="detail-event">
          <h3>Message</h3>
          {err ? <p className="error">Search failed: {err}</p> : null}
          {hit === undefined && !err ? <p className="muted">Looking it up…</p> : null}
          {hit === null ? (
            <p className="muted">Not indexed yet (the event is logged when the message is done).</p>
          ) : null}
          {hit ? (
            <dl data-testid="detail-hit">
              <dt>Time</dt>
              <dd>{String(hit['@timestamp'] ?? '')}</dd>
              <dt>log_id</dt>
              <dd className="mono">{String(hit.log_id ?? '')}</dd>
              <dt>mail_id</dt>
              <dd className="mono">{String(hit.mail_id ?? '')}</dd>
              <dt>Content</dt>
              <dd>{String(hit.content_type ?? '')}</dd>
              <dt>Action</dt>
              <dd>{actionText(hit.action)}</dd>
              <dt>From</dt>
              <dd>{String(hit.mail_from ?? '')}</dd>
              <dt>To</dt>
              <dd>{Array.isArray(hit.rcpt_to) ? hit.rcpt_to.join(', ') : ''}</dd>
              {subject !== undefined ? (
                <>
                  <dt>Subject</dt>
                  <dd data-testid="detail-subject">
                    {displaySubject(subject, me?.raw_subjects ?? false, revealed)}{' '}
                    {me?.raw_subjects ? (
                      <button type="button" className="linkish" onClick={() => setRevealed((r) => !r)}>
                        {revealed ? 'rot13' : 'reveal'}
                      </button>
                    ) : null}
                  </dd>
                </>
              ) : null}
            </dl>
          ) : null}
          <a href={routeHref('discover', { q })} data-testid="detail-discover">
            Open in Discover
          </a>
        </div>
      ) : (
        <p className="muted">No message yet.</p>
      )}
    </section>
  )
}

// --- side panels -------------------------------------------------------------------------------

interface PipelineAccount {
  topology: string
  backend: { kind: string; up: boolean; detail?: string; docs?: number }
  produced: number
  received: number
  queued: number
  in_flight: number
  indexed: number
  retried: number
  dead_lettered: number
  dead_lettered_by_reason: Record<string, number>
  filter_dead_lettered: number
  oldest_queued_age_secs: number | null
  balanced: boolean
  verdict: string
}

const PipelineHealth = memo(function PipelineHealth() {
  const { data, error } = usePoll<PipelineAccount>('/api/pipeline', 5000)
  const reasons = data ? Object.entries(data.dead_lettered_by_reason ?? {}) : []
  return (
    <section className="live-card" data-testid="pipeline-health" aria-labelledby="ph-title">
      <h2 id="ph-title">Pipeline health</h2>
      {error && !data ? <p className="muted">{error === 'n/a' ? 'n/a (no search pipeline)' : error}</p> : null}
      {data ? (
        <>
          <p>
            <span
              className={`badge ${data.backend.up ? 'up' : 'down'}`}
              data-testid="ph-backend"
              data-up={String(data.backend.up)}
            >
              {data.backend.kind || 'backend'} {data.backend.up ? 'up' : 'down'}
            </span>{' '}
            <span className="muted">{data.topology}</span>
            {data.backend.detail ? <span className="muted"> · {data.backend.detail}</span> : null}
          </p>
          <dl className="nums">
            <dt>Queued</dt>
            <dd data-testid="ph-queued">{data.queued}</dd>
            <dt>In flight</dt>
            <dd data-testid="ph-in-flight">{data.in_flight}</dd>
            <dt>Oldest queued</dt>
            <dd data-testid="ph-oldest">
              {data.oldest_queued_age_secs === null ? '–' : `${data.oldest_queued_age_secs.toFixed(1)} s`}
            </dd>
            <dt>Indexed</dt>
            <dd data-testid="ph-indexed">{data.indexed}</dd>
            <dt>Produced</dt>
            <dd data-testid="ph-produced">{data.produced}</dd>
            <dt>Dead letters</dt>
            <dd data-testid="ph-dead" className={data.dead_lettered > 0 ? 'warn' : undefined}>
              {data.dead_lettered}
              {reasons.length ? ` (${reasons.map(([k, v]) => `${k} ${v}`).join(', ')})` : ''}
            </dd>
            <dt>Retried</dt>
            <dd data-testid="ph-retried">{data.retried}</dd>
          </dl>
          <p className={`verdict ${data.balanced ? 'ok' : 'warn'}`} data-testid="ph-verdict">
            {data.verdict}
          </p>
          {error ? <p className="error">Last poll failed: {error}</p> : null}
        </>
      ) : null}
    </section>
  )
})

interface StagesJson {
  stages: {
    stage: string
    count: number
    mean_secs: number | null
    p50_secs: number | null
    p95_secs: number | null
    p99_secs: number | null
  }[]
}

const StageLatency = memo(function StageLatency() {
  const { data, error } = usePoll<StagesJson>('/api/stages', 5000)
  return (
    <section className="live-card" data-testid="stage-latency" aria-labelledby="sl-title">
      <h2 id="sl-title">Per-stage latency</h2>
      {error && !data ? <p className="muted">{error}</p> : null}
      {data && data.stages.length === 0 ? <p className="muted">No messages timed yet.</p> : null}
      {data && data.stages.length > 0 ? (
        <table className="compact latency">
          <thead>
            <tr>
              <th scope="col">Stage</th>
              <th scope="col">n</th>
              <th scope="col">mean</th>
              <th scope="col">p50</th>
              <th scope="col">p95</th>
              <th scope="col">p99</th>
            </tr>
          </thead>
          <tbody>
            {data.stages.map((s) => (
              <tr key={s.stage} data-stage={s.stage}>
                <td>{s.stage}</td>
                <td className="num">{s.count}</td>
                <td className="num">{fmtSecs(s.mean_secs)}</td>
                <td className="num">{fmtSecs(s.p50_secs)}</td>
                <td className="num">{fmtSecs(s.p95_secs)}</td>
                <td className="num">{fmtSecs(s.p99_secs)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  )
})

const CategoryRates = memo(function CategoryRates() {
  const [samples, setSamples] = useState<CounterSample[]>([])
  const { data, error } = usePoll<unknown>('/api/counters', 5000)
  useEffect(() => {
    const s = sampleOf(data)
    if (s) setSamples((prev) => pushSample(prev, s))
  }, [data])
  const rates = computeRates(samples)
  const max = Math.max(0.0001, ...rates.byCategory.map((c) => c.perMin ?? 0))
  const fmt = (v: number | undefined) => (v === undefined ? '–' : v.toFixed(1))
  return (
    <section className="live-card" data-testid="category-rates" aria-labelledby="cr-title">
      <h2 id="cr-title">Rates per content category</h2>
      {error && !data ? <p className="muted">{error}</p> : null}
      <p>
        <strong data-testid="rate-in">{fmt(rates.inPerMin)}</strong> msgs/min in
        {rates.totalIn !== undefined ? <span className="muted"> · {rates.totalIn} total</span> : null}
        {rates.windowSecs > 0 ? <span className="muted"> · over {Math.round(rates.windowSecs)} s</span> : null}
      </p>
      <table className="compact">
        <thead>
          <tr>
            <th scope="col">Category</th>
            <th scope="col">/min</th>
            <th scope="col">total</th>
            <th scope="col" aria-label="rate bar" />
          </tr>
        </thead>
        <tbody>
          {rates.byCategory
            .filter((c) => (c.total ?? 0) > 0 || c.cat === 'Clean' || c.cat === 'Spam' || c.cat === 'Virus')
            .map((c) => (
              <tr key={c.cat} data-cat={c.cat}>
                <td>
                  <span className={`chip cat-${c.cat}`} aria-hidden="true" /> {c.cat}
                </td>
                <td className="num">{fmt(c.perMin)}</td>
                <td className="num">{c.total ?? 0}</td>
                <td className="barcell">
                  <span className={`hbar cat-${c.cat}`} style={{ width: `${((c.perMin ?? 0) / max) * 100}%` }} />
                </td>
              </tr>
            ))}
        </tbody>
      </table>
    </section>
  )
})

const LastMessages = memo(function LastMessages({ store }: { store: LiveStore }) {
  const { me } = useSession()
  const [events, setEvents] = useState<Hit[]>([])
  const [error, setError] = useState<string>()
  const last = useRef(0)
  const timer = useRef<number | undefined>(undefined)
  useEffect(() => {
    let stop = false
    const load = async () => {
      timer.current = undefined
      last.current = Date.now()
      try {
        const r = await apiGet<{ events: Hit[] }>('/api/events', { limit: 12 })
        if (!stop) {
          setEvents(r.events ?? [])
          setError(undefined)
        }
      } catch (e) {
        if (!stop) setError((e as Error).message)
      }
    }
    void load()
    // a new message: reload at most every 1.5 s
    const off = store.onEvent(() => {
      if (timer.current !== undefined) return
      timer.current = window.setTimeout(load, Math.max(0, 1500 - (Date.now() - last.current)))
    })
    const slow = window.setInterval(() => void load(), 15000)
    return () => {
      stop = true
      off()
      clearInterval(slow)
      if (timer.current !== undefined) clearTimeout(timer.current)
    }
  }, [store])
  return (
    <section className="live-card wide" data-testid="last-messages" aria-labelledby="lm-title">
      <h2 id="lm-title">Last messages</h2>
      {error ? <p className="error">{error}</p> : null}
      {events.length === 0 && !error ? <p className="muted">No messages yet.</p> : null}
      {events.length > 0 ? (
        <table className="compact messages">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">log_id</th>
              <th scope="col">Content</th>
              <th scope="col">Action</th>
              <th scope="col">From</th>
              <th scope="col">To</th>
              <th scope="col">Subject</th>
            </tr>
          </thead>
          <tbody>
            {events.map((e, i) => {
              const id = String(e.log_id ?? '')
              return (
                <tr key={`${id}-${String(e.time_unix ?? i)}`}>
                  <td className="mono">{timeOf(e.time_unix as string)}</td>
                  <td className="mono">
                    {id ? <a href={routeHref('discover', { q: `log_id:${luceneQuote(id)}` })}>{id}</a> : null}
                  </td>
                  <td>
                    <span className={`chip cat-${String(e.content_type ?? '')}`} aria-hidden="true" />{' '}
                    {String(e.content_type ?? '')}
                  </td>
                  <td>{actionText(e.action)}</td>
                  <td className="addr">{e.mail_from === '' ? '<>' : String(e.mail_from ?? '')}</td>
                  <td className="addr">{Array.isArray(e.rcpt_to) ? e.rcpt_to.join(', ') : ''}</td>
                  <td className="subject">
                    {typeof e.subject === 'string' ? displaySubject(e.subject, me?.raw_subjects ?? false, false) : ''}
                  </td>
                </tr>
              )
            })}
          </tbody>
        </table>
      ) : null}
    </section>
  )
})

function PerfReadout({ store }: { store: LiveStore }) {
  const [, setN] = useState(0)
  useEffect(() => {
    const t = window.setInterval(() => setN((n) => n + 1), 1000)
    return () => clearInterval(t)
  }, [])
  const p = store.perf()
  return (
    <span className="muted perf" data-testid="live-perf" title="page frame rate and state changes applied">
      {p.fps} fps · {p.applied} changes
    </span>
  )
}

// --- the page ----------------------------------------------------------------------------------

export default function LivePage(_props: { params: URLSearchParams }) {
  const [store, setStore] = useState<LiveStore>()
  useEffect(() => {
    const s = createLiveStore()
    setStore(s)
    return () => s.close()
  }, [])
  const subscribe = useCallback((fn: () => void) => (store ? store.subscribe(fn) : () => {}), [store])
  const snap = useSyncExternalStore(subscribe, () => store?.snapshot() ?? EMPTY)
  const [selected, setSelected] = useState<string>()
  const onSelect = useCallback((key: string) => setSelected(key), [])
  const proc = selected ? snap.procs.find((p) => p.key === selected) : undefined
  return (
    <div className="live-page">
      <header className="live-head">
        <h1>Live</h1>
        <span className={`conn ${snap.connected ? 'up' : 'down'}`} data-testid="live-conn">
          {snap.connected ? 'live' : 'reconnecting…'}
        </span>
        {snap.host ? <span className="muted">collector {snap.host}</span> : null}
        {store ? <PerfReadout store={store} /> : null}
      </header>
      <div className="live-summary" data-testid="live-summary">
        <span>
          <strong data-testid="live-busy">{snap.busy}</strong> active,{' '}
          <strong data-testid="live-idle">{snap.idle}</strong> idling processes
        </span>
        <span className="peakbar mono" aria-label={`peak ${snap.peak.toFixed(1)} busy`} data-testid="live-peak">
          {peakBar(snap.busy, snap.idle, snap.peak)}
        </span>
      </div>
      <div className="live-grid">
        <div className="live-main">
          <ProcTable snap={snap} selected={selected} onSelect={onSelect} />
          {store && selected ? (
            <ProcDetails key={selected} proc={proc} store={store} onClose={() => setSelected(undefined)} />
          ) : null}
        </div>
        <aside className="live-side">
          <PipelineHealth />
          <StageLatency />
          <CategoryRates />
        </aside>
      </div>
      {store ? <LastMessages store={store} /> : null}
    </div>
  )
}
