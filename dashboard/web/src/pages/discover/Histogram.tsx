// The hits histogram (uPlot, bars per auto interval): all hits, or stacked by a field's top values
// (`split`), with each extra query series (`series`) drawn as a line over it. Dragging across the
// plot (uPlot's cursor drag + setSelect hook) zooms the time range. The legend is our own React
// text (values are event text). The bucket counts are published on the element as `data-buckets`
// JSON so a test can compare them with the API's answer.
import { useMemo, useRef } from 'react'
import uPlot from 'uplot'
import { UPlot } from '../../components/UPlot.tsx'
import type { DateHistogramResult } from '../../api.ts'
import { seriesName } from './url-state.ts'

const PALETTE = ['#1f6feb', '#d1495b', '#2e8b57', '#d68910', '#7b4bb7', '#00838f', '#8d6e63', '#5b6675']
/** Query series are lines over the bars, in colours of their own. */
const LINES = ['#111827', '#e8590c', '#9c36b5', '#0b7285', '#5c940d', '#c2255c']

export interface HistogramData {
  readonly interval_ms: number
  readonly keys: number[]
  readonly doc_count: number[]
  readonly series: Record<string, number[]>
  readonly split: Record<string, number[]>
}

/** The buckets as plain arrays (what data-buckets holds): split values ordered by total, "other" last. */
export function histogramData(r: DateHistogramResult, seriesLabels: readonly string[]): HistogramData {
  const keys = r.buckets.map((b) => b.key)
  const doc_count = r.buckets.map((b) => b.doc_count)
  const series: Record<string, number[]> = {}
  seriesLabels.forEach((label, i) => {
    series[label] = r.buckets.map((b) => b.series?.[seriesName(i)] ?? 0)
  })
  const totals = new Map<string, number>()
  for (const b of r.buckets) for (const [k, n] of Object.entries(b.split ?? {})) totals.set(k, (totals.get(k) ?? 0) + n)
  const split: Record<string, number[]> = {}
  for (const k of [...totals.keys()].sort((a, b) => totals.get(b)! - totals.get(a)! || (a < b ? -1 : 1)))
    split[k] = r.buckets.map((b) => b.split?.[k] ?? 0)
  if (totals.size) {
    const other = r.buckets.map((b, i) => b.doc_count - Object.keys(split).reduce((a, k) => a + split[k][i], 0))
    if (other.some((n) => n > 0)) split['(other)'] = other
  }
  return { interval_ms: r.interval_ms, keys, doc_count, series, split }
}

export interface HistogramProps {
  readonly result?: DateHistogramResult
  readonly seriesLabels: readonly string[]
  readonly loading: boolean
  readonly error?: string
  readonly range?: { fromMs: number; toMs: number }
  readonly onBrush: (fromMs: number, toMs: number) => void
}

function intervalLabel(ms: number): string {
  for (const [unit, n] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const)
    if (ms >= n && ms % n === 0) return `${ms / n}${unit}`
  return `${ms}ms`
}

export function Histogram({ result, seriesLabels, loading, error, range, onBrush }: HistogramProps) {
  const brush = useRef(onBrush)
  brush.current = onBrush
  const data = useMemo(() => (result ? histogramData(result, seriesLabels) : undefined), [result, seriesLabels])
  const splitKeys = data ? Object.keys(data.split) : []
  const seriesKeys = data ? Object.keys(data.series) : []
  const shape = JSON.stringify([splitKeys, seriesKeys])
  // The x scale spans whole buckets (the last one included), so a brush to the right edge keeps its events.
  const intervalS = useRef(60)
  intervalS.current = (data?.interval_ms ?? 60_000) / 1000

  // Drawn series: stacked bars (cumulative, the tallest first so the lower parts paint over it)
  // or the total as bars; then one line per query series.
  const legend = useMemo(() => {
    const items: { label: string; color: string; total: number }[] = []
    if (!data) return items
    if (splitKeys.length)
      splitKeys.forEach((k, i) =>
        items.push({ label: k, color: PALETTE[i % PALETTE.length], total: data.split[k].reduce((a, b) => a + b, 0) }),
      )
    else items.push({ label: 'All hits', color: '#8fa9c9', total: data.doc_count.reduce((a, b) => a + b, 0) })
    seriesKeys.forEach((k, i) =>
      items.push({
        label: k,
        color: LINES[i % LINES.length],
        total: data.series[k].reduce((a, b) => a + b, 0),
      }),
    )
    return items
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [data])

  const options = useMemo((): Omit<uPlot.Options, 'width' | 'height'> => {
    const [sk, qk] = JSON.parse(shape) as [string[], string[]]
    const bars = uPlot.paths.bars!({ size: [0.9, 60], align: 1 })
    const series: uPlot.Series[] = [{}]
    if (sk.length)
      for (let i = sk.length - 1; i >= 0; i--)
        series.push({
          label: sk[i],
          fill: PALETTE[i % PALETTE.length],
          stroke: PALETTE[i % PALETTE.length],
          paths: bars,
          points: { show: false },
        })
    else series.push({ label: 'All hits', fill: '#8fa9c9', stroke: '#6f8db3', paths: bars, points: { show: false } })
    qk.forEach((k, i) =>
      series.push({
        label: k,
        stroke: LINES[i % LINES.length],
        width: 2,
        paths: uPlot.paths.stepped!({ align: 1 }),
        points: { show: false },
      }),
    )
    return {
      series,
      legend: { show: false },
      scales: {
        x: { time: true, range: (_u, min, max) => [min, max + intervalS.current] },
        y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.05)] },
      },
      axes: [{}, { size: 56 }],
      cursor: { drag: { x: true, y: false, setScale: false } },
      hooks: {
        setSelect: [
          (u) => {
            if (u.select.width < 3) return
            const a = u.posToVal(u.select.left, 'x')
            const b = u.posToVal(u.select.left + u.select.width, 'x')
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false)
            brush.current(Math.floor(a * 1000), Math.ceil(b * 1000))
          },
        ],
      },
    }
  }, [shape])

  const aligned = useMemo((): uPlot.AlignedData => {
    if (!data) return [[]]
    const xs = data.keys.map((k) => k / 1000)
    const cols: (number | null)[][] = []
    const sk = Object.keys(data.split)
    if (sk.length) {
      const cum: number[][] = []
      sk.forEach((k, i) => cum.push(data.split[k].map((n, j) => n + (i ? cum[i - 1][j] : 0))))
      for (let i = sk.length - 1; i >= 0; i--) cols.push(cum[i])
    } else cols.push(data.doc_count)
    for (const k of Object.keys(data.series)) cols.push(data.series[k])
    return [xs, ...cols] as uPlot.AlignedData
  }, [data])

  const json = data ? JSON.stringify(data) : ''
  return (
    <section
      className="panel discover-histogram"
      aria-label="Hits over time"
      aria-busy={loading}
      data-testid="histogram"
      data-buckets={json}
      data-from-ms={range?.fromMs}
      data-to-ms={range?.toMs}
      data-loading={loading ? 'true' : 'false'}
    >
      <div className="discover-histogram-head">
        <span className="muted">
          {data ? `${data.keys.length} buckets of ${intervalLabel(data.interval_ms)}` : loading ? 'Loading…' : ''}
          {data ? ' · drag across the chart to zoom' : ''}
        </span>
        <ul className="discover-legend" aria-label="Legend">
          {legend.map((l) => (
            <li key={l.label}>
              <span className="swatch" style={{ background: l.color }} aria-hidden="true" />
              {l.label} <span className="muted">({l.total.toLocaleString('en')})</span>
            </li>
          ))}
        </ul>
      </div>
      {error && <p className="error">{error}</p>}
      {data && <UPlot options={options} data={aligned} height={180} />}
    </section>
  )
}
