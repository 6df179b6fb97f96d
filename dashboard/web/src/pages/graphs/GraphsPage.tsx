// Graphs: the talk's SNMP graph set (load, timing, mail rate, size, content, elapsed time, errors,
// Postfix queue entries) from the collector's counter history (GET /api/history, one request for
// every panel). Counters arrive as per-second rates that never go negative across a counter reset;
// gauges (Proc*, the Postfix queue's MtaQueueEntries*) as the mean per step, null (a gap in the
// line) where nothing was sampled, e.g. a queue directory the collector could not read;
// restarts and resets are drawn as vertical lines with canvas labels (a uPlot draw hook) and listed
// as text. URL: #/graphs?range=1h|6h|24h|7d|30d|1y&refresh=off
import { useCallback, useEffect, useMemo, useRef, useState } from 'react'
import type uPlot from 'uplot'
import { apiGet, ApiError } from '../../api.ts'
import { navigate } from '../../router.ts'
import { UPlot } from '../../components/UPlot.tsx'
import type { HistoryResponse, Mark } from '../../../../../collector/src/history/plan.ts'
import './graphs.css'

export const RANGES = [
  { id: '1h', label: '1 h', ms: 3_600_000 },
  { id: '6h', label: '6 h', ms: 6 * 3_600_000 },
  { id: '24h', label: '24 h', ms: 24 * 3_600_000 },
  { id: '7d', label: '7 d', ms: 7 * 86_400_000 },
  { id: '30d', label: '30 d', ms: 30 * 86_400_000 },
  { id: '1y', label: '1 y', ms: 365 * 86_400_000 },
] as const
type RangeId = (typeof RANGES)[number]['id']
const DEFAULT_RANGE: RangeId = '24h'

type Transform = 'value' | 'rate' | 'perMsg'
interface Line {
  readonly name: string
  readonly label: string
  /** value: the series as served (rate or gauge mean); perMsg: rate divided by the InMsgs rate. */
  readonly transform?: Transform
  /** Sum of several counters under one label. */
  readonly sum?: readonly string[]
  readonly dash?: number[]
}
interface Panel {
  readonly id: string
  readonly title: string
  readonly unit: string
  readonly note: string
  readonly lines: readonly Line[]
  /** Shown when none of the panel's counters is in the history. */
  readonly missingNote?: string
  /** gauge: the lines are levels (mean per step), not rates; the panel says its newest values. */
  readonly kind?: 'gauge'
}

const SECTIONS = ['Receiving', 'Decoding', 'VirusCheck', 'SpamCheck', 'PenPals', 'Sending'] as const
const CONTENT = ['Clean', 'Spammy', 'Spam', 'Virus', 'Banned', 'BadHdr', 'Oversized', 'Unchecked', 'MtaFailed'] as const

export const PANELS: readonly Panel[] = [
  {
    id: 'load',
    title: 'Load',
    unit: 'processes',
    note: 'amavis children busy and idle (the minder’s ProcBusy / ProcIdle gauges, mean per step)',
    lines: [
      { name: 'ProcBusy', label: 'busy' },
      { name: 'ProcIdle', label: 'idle' },
      { name: 'ProcAll', label: 'all', dash: [4, 3] },
    ],
  },
  {
    id: 'timing',
    title: 'Timing',
    unit: 'ms / message',
    note: 'time spent per message in each section (TimeElapsed* ÷ InMsgs)',
    lines: SECTIONS.map((s) => ({ name: `TimeElapsed${s}`, label: s, transform: 'perMsg' as const })),
  },
  {
    id: 'rate',
    title: 'Mail rate',
    unit: 'messages / s',
    note: 'messages in and out (InMsgs, OutMsgs) and recipients in (InMsgsRecips)',
    lines: [
      { name: 'InMsgs', label: 'in' },
      { name: 'OutMsgs', label: 'out' },
      { name: 'InMsgsRecips', label: 'recipients in', dash: [4, 3] },
    ],
  },
  {
    id: 'size',
    title: 'Size',
    unit: 'bytes / s',
    note: 'message bytes in and out (InMsgsSize, OutMsgsSize)',
    lines: [
      { name: 'InMsgsSize', label: 'in' },
      { name: 'OutMsgsSize', label: 'out' },
    ],
  },
  {
    id: 'content',
    title: 'Content',
    unit: 'messages / s',
    note: 'messages by major content category (Content*Msgs)',
    lines: CONTENT.map((c) => ({ name: `Content${c}Msgs`, label: c.toLowerCase() })),
  },
  {
    id: 'elapsed',
    title: 'Elapsed time',
    unit: 'ms / message',
    note: 'total time per message (TimeElapsedTotal ÷ InMsgs)',
    lines: [{ name: 'TimeElapsedTotal', label: 'total', transform: 'perMsg' }],
  },
  {
    id: 'errors',
    title: 'Errors',
    unit: 'per s',
    note: 'log entries at err and above, failed deliveries, temporary failures, children gone',
    lines: [
      {
        name: 'LogEntriesErr',
        label: 'log err+',
        sum: ['LogEntriesErr', 'LogEntriesCrit', 'LogEntriesAlert', 'LogEntriesEmerg'],
      },
      { name: 'LogEntriesWarning', label: 'log warning', dash: [4, 3] },
      { name: 'OutMsgsAttemptFails', label: 'delivery fails' },
      { name: 'InMsgsStatusTempFailed', label: 'tempfailed' },
      { name: 'QuarAttemptFails', label: 'quarantine fails' },
      { name: 'ProcGone', label: 'children gone' },
    ],
  },
  {
    id: 'queue',
    title: 'Postfix queue entries',
    unit: 'entries',
    kind: 'gauge',
    note: 'messages in each Postfix queue (MtaQueueEntries*, counted by the collector as the SNMP agent does; mean per step, a gap where a directory could not be read)',
    lines: ['Maildrop', 'Incoming', 'Active', 'Deferred'].map((q) => ({
      name: `MtaQueueEntries${q}`,
      label: q.toLowerCase(),
    })),
    missingNote:
      'No Postfix queue entries in this collector’s history: history.postfix_queue_directory is off, or the collector cannot read the queue directory (it counts maildrop, incoming, active and deferred on its own host).',
  },
]

// (the mark colours, red and orange, are kept out of the line palette)
const COLORS = ['#1558c0', '#2e8b57', '#7d3c98', '#17a2b8', '#6c757d', '#a04000', '#e83e8c', '#5d6d7e', '#b7950b']
const MARK_COLORS: Record<Mark['kind'], string> = { reset: '#c0392b', restart: '#d68910' }

/** Every counter name the panels read, InMsgs included (the per-message divisor). */
export const ALL_NAMES: readonly string[] = [
  ...new Set(['InMsgs', ...PANELS.flatMap((p) => p.lines.flatMap((l) => l.sum ?? [l.name]))]),
]

function fmtNum(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–'
  const a = Math.abs(v)
  if (a === 0) return '0'
  if (a >= 1e9) return `${(v / 1e9).toPrecision(3)} G`
  if (a >= 1e6) return `${(v / 1e6).toPrecision(3)} M`
  if (a >= 1e4) return `${(v / 1e3).toPrecision(3)} k`
  if (a >= 100) return v.toFixed(0)
  if (a < 0.001) return v.toExponential(1)
  return v.toPrecision(3).replace(/\.?0+$/, '')
}

/** A panel's lines computed from the answer: null where a value is unknown. */
export function panelData(p: Panel, h: HistoryResponse): { lines: Line[]; data: uPlot.AlignedData } {
  const n = h.t.length
  const inMsgs = h.series.InMsgs?.values
  const lines: Line[] = []
  const cols: (number | null)[][] = []
  for (const l of p.lines) {
    const parts = (l.sum ?? [l.name]).map((nm) => h.series[nm]?.values).filter((v): v is (number | null)[] => !!v)
    if (!parts.length) continue
    const col: (number | null)[] = new Array(n).fill(null)
    for (let i = 0; i < n; i++) {
      let s: number | null = null
      for (const part of parts) if (part[i] !== null) s = (s ?? 0) + part[i]!
      if (l.transform === 'perMsg') {
        const m = inMsgs?.[i]
        s = s !== null && m ? s / m : null
      }
      col[i] = s
    }
    lines.push(l)
    cols.push(col)
  }
  return { lines, data: [h.t.map((t) => t / 1000), ...cols] as uPlot.AlignedData }
}

/**
 * A gauge panel's newest point with any value, as `label=value` pairs (`–` for a line absent there):
 * what the legend shows when the pointer is off the plot, and a stable hook for tests.
 */
export function latestLevels(lines: readonly Line[], data: uPlot.AlignedData): string {
  const n = data[0].length
  for (let i = n - 1; i >= 0; i--) {
    if (!lines.some((_, c) => data[c + 1][i] != null)) continue
    return lines.map((l, c) => `${l.label}=${data[c + 1][i] ?? '–'}`).join(',')
  }
  return ''
}

/** uPlot plugin: restart/reset marks as vertical lines with a canvas text label (never HTML). */
function marksPlugin(marks: { current: Mark[] }, onDrawn: (n: number) => void): uPlot.Plugin {
  return {
    hooks: {
      draw: (u) => {
        const ctx = u.ctx
        const { left, top, width, height } = u.bbox
        const min = u.scales.x.min ?? -Infinity
        const max = u.scales.x.max ?? Infinity
        let drawn = 0
        ctx.save()
        ctx.font = `${Math.round(11 * devicePixelRatio)}px system-ui, sans-serif`
        ctx.textBaseline = 'top'
        for (const m of marks.current) {
          const x = m.t / 1000
          if (x < min || x > max) continue
          const px = Math.round(u.valToPos(x, 'x', true))
          ctx.strokeStyle = MARK_COLORS[m.kind]
          ctx.fillStyle = MARK_COLORS[m.kind]
          ctx.lineWidth = Math.max(1, devicePixelRatio)
          ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio])
          ctx.beginPath()
          ctx.moveTo(px, top)
          ctx.lineTo(px, top + height)
          ctx.stroke()
          const label = m.kind
          const w = ctx.measureText(label).width
          const lx = px + 3 + w > left + width ? px - 3 - w : px + 3
          ctx.fillText(label, lx, top + 2)
          drawn++
        }
        ctx.restore()
        onDrawn(drawn)
      },
    },
  }
}

function GraphPanel({ panel, history, marks }: { panel: Panel; history: HistoryResponse; marks: Mark[] }) {
  const { lines, data } = useMemo(() => panelData(panel, history), [panel, history])
  const marksRef = useRef(marks)
  marksRef.current = marks
  const box = useRef<HTMLElement>(null)
  const key = lines.map((l) => l.name).join(',')
  const onDrawn = useCallback((n: number) => box.current?.setAttribute('data-marks-drawn', String(n)), [])
  const options = useMemo<Omit<uPlot.Options, 'width' | 'height'>>(
    () => ({
      scales: {
        x: { time: true },
        // from 0; an all-zero series still gets a 0…1 axis
        y: { range: (_u, lo, hi) => [Math.min(0, lo ?? 0), hi && hi > 0 ? hi * 1.05 : 1] },
      },
      axes: [{}, { label: panel.unit, size: 64, values: (_u, vals) => vals.map((v) => fmtNum(v)) }],
      series: [
        {},
        ...lines.map((l, i) => ({
          label: l.label,
          stroke: COLORS[i % COLORS.length],
          width: 1.5,
          dash: l.dash,
          points: { show: false },
          value: (_u: uPlot, v: number | null) => fmtNum(v),
        })),
      ],
      legend: { live: true },
      plugins: [marksPlugin(marksRef, onDrawn)],
    }),
    // the plot is rebuilt when the set of lines changes, not on every refresh
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [key, panel],
  )
  return (
    <section
      ref={box}
      className="graph-panel"
      data-testid={`graph-${panel.id}`}
      aria-labelledby={`graph-${panel.id}-title`}
      data-lines={lines.length}
      data-kind={panel.kind ?? 'rate'}
      data-latest={panel.kind === 'gauge' ? latestLevels(lines, data) : undefined}
    >
      <h2 id={`graph-${panel.id}-title`}>
        {panel.title} <span className="graph-unit">({panel.unit})</span>
      </h2>
      <p className="graph-note">{panel.note}</p>
      {lines.length === 0 ? (
        <p className="graph-empty" data-testid={`graph-${panel.id}-missing`}>
          {panel.missingNote ?? 'No samples of these counters yet (amavis has not reported them to this collector).'}
        </p>
      ) : (
        <UPlot options={options} data={data} height={200} className="graph-plot" />
      )}
    </section>
  )
}

function fmtTime(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z')
}

function fmtStep(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000} d`
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`
  if (ms % 60_000 === 0) return `${ms / 60_000} min`
  return `${ms / 1000} s`
}

export default function GraphsPage({ params }: { params: URLSearchParams }) {
  const range = (RANGES.find((r) => r.id === params.get('range'))?.id ?? DEFAULT_RANGE) as RangeId
  const auto = params.get('refresh') !== 'off'
  const [history, setHistory] = useState<HistoryResponse | undefined>()
  const [error, setError] = useState<string | undefined>()
  const [loading, setLoading] = useState(false)
  const [tick, setTick] = useState(0)

  const setParam = (k: string, v: string | undefined) => {
    const p = new URLSearchParams(params)
    if (v === undefined) p.delete(k)
    else p.set(k, v)
    navigate('graphs', p, true)
  }

  useEffect(() => {
    const ac = new AbortController()
    setLoading(true)
    apiGet<HistoryResponse>(
      '/api/history',
      { names: ALL_NAMES.join(','), from: `now-${range === '1y' ? '365d' : range}`, to: 'now' },
      ac.signal,
    )
      .then((h) => {
        setHistory(h)
        setError(undefined)
      })
      .catch((err) => {
        if (ac.signal.aborted) return
        setError(err instanceof ApiError ? `${err.status}: ${err.message}` : String(err))
      })
      .finally(() => {
        if (!ac.signal.aborted) setLoading(false)
      })
    return () => ac.abort()
  }, [range, tick])

  // auto-refresh: every step (at least 10 s, at most 5 min)
  const step = history?.step ?? 10_000
  useEffect(() => {
    if (!auto) return
    const every = Math.min(300_000, Math.max(10_000, step))
    const id = setInterval(() => {
      if (document.visibilityState !== 'hidden') setTick((n) => n + 1)
    }, every)
    return () => clearInterval(id)
  }, [auto, step])

  const marks = history?.marks ?? []
  return (
    <div className="graphs-page" data-testid="graphs" data-restarts={marks.map((m) => m.t).join(',')}>
      <div className="graphs-controls">
        <h1>Graphs</h1>
        <div role="group" aria-label="Time range" className="graphs-range" data-testid="graphs-range">
          {RANGES.map((r) => (
            <button
              key={r.id}
              type="button"
              aria-pressed={r.id === range}
              onClick={() => setParam('range', r.id === DEFAULT_RANGE ? undefined : r.id)}
            >
              {r.label}
            </button>
          ))}
        </div>
        <label className="graphs-auto">
          <input
            type="checkbox"
            checked={auto}
            onChange={(e) => setParam('refresh', e.target.checked ? undefined : 'off')}
            data-testid="graphs-auto-refresh"
          />
          Auto-refresh
        </label>
        <button type="button" onClick={() => setTick((n) => n + 1)} disabled={loading}>
          Refresh
        </button>
        <span className="graphs-status" data-testid="graphs-status" aria-live="polite">
          {loading
            ? 'Loading…'
            : history
              ? `${history.t.length} points, step ${fmtStep(history.step)} (from the ${fmtStep(history.tier.step_ms)} tier)` +
                (history.latest ? `, newest sample ${fmtTime(history.latest)}` : ', no samples yet')
              : ''}
        </span>
      </div>
      {error && (
        <p className="graphs-error" role="alert">
          Counter history unavailable: {error}
        </p>
      )}
      {marks.length > 0 && (
        <ul className="graphs-marks" data-testid="graphs-marks" aria-label="Restarts in this range">
          {marks.map((m) => (
            <li key={`${m.t}-${m.kind}`} className={`mark-${m.kind}`}>
              <strong>{m.kind}</strong> {fmtTime(m.t)}: {m.detail}
            </li>
          ))}
        </ul>
      )}
      {history && (
        <div className="graphs-grid">
          {PANELS.map((p) => (
            <GraphPanel key={p.id} panel={p} history={history} marks={marks} />
          ))}
        </div>
      )}
    </div>
  )
}
