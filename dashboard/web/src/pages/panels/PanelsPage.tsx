// Panels: the talk's Kibana panels over the whole result of a query and time range (one
// /api/search/aggs request): elapsed time max and percentiles per interval by amavis section,
// action and content mix, top senders, recipients, domains, client countries, ASNs and
// SpamAssassin tests, and an offline world map of client countries (a lazily loaded chunk).
// Every bar, country and histogram bucket opens Discover with its filter. URL: #/panels?q=&from=&to=&elapsed=
import { lazy, Suspense, useCallback, useEffect, useMemo, useState, type FormEvent } from 'react'
import type uPlot from 'uplot'
import {
  apiGet,
  ApiError,
  type AggSpec,
  type AggsResponse,
  type DateHistogramResult,
  type GeoResult,
  type TermsResult,
} from '../../api.ts'
import { navigate, routeHref } from '../../router.ts'
import { parseQuery } from '../../../../../collector/src/search/lucene.ts'
import { ELAPSED_SECTIONS } from '../../../../../collector/src/search/fields.ts'
import { UPlot } from '../../components/UPlot.tsx'
import { TermsBars } from '../../components/TermsBars.tsx'
import { andClause, discoverHref, termClause } from './filter.ts'
import './panels.css'

const WorldMap = lazy(() => import('../../components/WorldMap.tsx'))

export const RANGE_PRESETS: readonly { label: string; from: string }[] = [
  { label: '15 m', from: 'now-15m' },
  { label: '1 h', from: 'now-1h' },
  { label: '6 h', from: 'now-6h' },
  { label: '24 h', from: 'now-24h' },
  { label: '7 d', from: 'now-7d' },
  { label: '30 d', from: 'now-30d' },
]
const DEFAULT_FROM = 'now-24h'
const DEFAULT_TO = 'now'
const PERCENTS = [50, 95, 99] as const
type Section = (typeof ELAPSED_SECTIONS)[number]

/** The terms panels: name in the aggs request, field, size, title. */
const TERMS_PANELS: readonly { id: string; field: string; size: number; title: string; note?: string }[] = [
  { id: 'action', field: 'action', size: 10, title: 'Action mix' },
  { id: 'content', field: 'content_type', size: 12, title: 'Content mix' },
  { id: 'senders', field: 'mail_from', size: 10, title: 'Top senders', note: 'envelope sender (mail_from)' },
  { id: 'recipients', field: 'rcpt_to', size: 10, title: 'Top recipients', note: 'envelope recipients (rcpt_to)' },
  {
    id: 'sender-domains',
    field: 'mail_from',
    size: 10,
    title: 'Top sender domains',
    note: 'domain of mail_from',
  },
  {
    id: 'recipient-domains',
    field: 'rcpt_to',
    size: 10,
    title: 'Top recipient domains',
    note: 'domains of rcpt_to',
  },
  { id: 'countries', field: 'client_geo.country_code', size: 10, title: 'Top client countries' },
  { id: 'asns', field: 'client_geo.asn', size: 10, title: 'Top client ASNs' },
  { id: 'tests', field: 'tests', size: 15, title: 'Top SpamAssassin tests' },
]
const DOMAIN_PANELS = new Set(['sender-domains', 'recipient-domains'])

const regionNames = (() => {
  try {
    return new Intl.DisplayNames(['en'], { type: 'region' })
  } catch {
    return undefined
  }
})()
export function countryLabel(code: string): string {
  let name: string | undefined
  try {
    name = regionNames?.of(code)
  } catch {
    name = undefined
  }
  return name && name !== code ? `${name} (${code})` : code
}

const ACTION_CLASS: Record<string, string> = {
  PASS: 'fill-pass',
  REJECT: 'fill-block',
  DISCARD: 'fill-block',
  BOUNCE: 'fill-block',
  TEMPFAIL: 'fill-warn',
}

function buildAggs(section: Section): Record<string, AggSpec> {
  const field = `elapsed.${section}`
  const aggs: Record<string, unknown> = {
    elapsed: {
      type: 'date_histogram',
      interval: 'auto',
      buckets: 60,
      metric: { op: 'max', field },
      percentiles: { field, percents: [...PERCENTS] },
    },
    map: { type: 'geo', size: 250 },
  }
  for (const p of TERMS_PANELS)
    aggs[p.id] = DOMAIN_PANELS.has(p.id)
      ? { type: 'terms', field: p.field, size: p.size, part: 'domain' }
      : { type: 'terms', field: p.field, size: p.size }
  return aggs as Record<string, AggSpec>
}

interface Selection {
  readonly q: string
  readonly from: string
  readonly to: string
  readonly section: Section
}

function selectionOf(params: URLSearchParams): Selection {
  const s = params.get('elapsed') as Section | null
  return {
    q: params.get('q') ?? '',
    from: params.get('from') || DEFAULT_FROM,
    to: params.get('to') || DEFAULT_TO,
    section: s && (ELAPSED_SECTIONS as readonly string[]).includes(s) ? s : 'Total',
  }
}

function go(sel: Selection, replace = false) {
  navigate(
    'panels',
    { q: sel.q || undefined, from: sel.from, to: sel.to, elapsed: sel.section === 'Total' ? undefined : sel.section },
    replace,
  )
}

/** The parser's complaint about the text, or undefined when it parses. */
function queryProblem(text: string): { message: string; start: number; end: number } | undefined {
  try {
    parseQuery(text)
    return undefined
  } catch (err) {
    const e = err as { message: string; position?: { start: number; end: number } }
    return { message: e.message, start: e.position?.start ?? 0, end: e.position?.end ?? text.length }
  }
}

export default function PanelsPage({ params }: { params: URLSearchParams }) {
  const sel = selectionOf(params)
  const [draft, setDraft] = useState(sel.q)
  useEffect(() => setDraft(sel.q), [sel.q])
  const problem = useMemo(() => queryProblem(draft), [draft])
  const [data, setData] = useState<AggsResponse | undefined>()
  const [error, setError] = useState<string | undefined>()
  const [loading, setLoading] = useState(false)
  const [tick, setTick] = useState(0)

  useEffect(() => {
    const ac = new AbortController()
    setLoading(true)
    setError(undefined)
    apiGet<AggsResponse>(
      '/api/search/aggs',
      { q: sel.q, from: sel.from, to: sel.to, aggs: JSON.stringify(buildAggs(sel.section)) },
      ac.signal,
    )
      .then((r) => {
        setData(r)
        setLoading(false)
      })
      .catch((err: unknown) => {
        if (ac.signal.aborted) return
        setLoading(false)
        setData(undefined)
        setError(err instanceof ApiError ? err.message : String(err))
      })
    return () => ac.abort()
  }, [sel.q, sel.from, sel.to, sel.section, tick])

  const submit = (e: FormEvent) => {
    e.preventDefault()
    if (problem) return
    if (draft === sel.q) setTick((t) => t + 1)
    else go({ ...sel, q: draft })
  }
  const preset = RANGE_PRESETS.find((p) => p.from === sel.from && sel.to === 'now')
  const link = (clause: string) => discoverHref(sel.q, clause, sel.from, sel.to)
  const aggs = data?.aggs

  return (
    <div className="panels-page">
      <form className="panels-bar" onSubmit={submit} role="search">
        <label className="panels-q">
          <span>Query (Lucene)</span>
          <input
            type="search"
            data-testid="panels-query"
            value={draft}
            onChange={(e) => setDraft(e.target.value)}
            placeholder="e.g. NOT action:(REJECT DISCARD BOUNCE)"
            aria-invalid={problem ? true : undefined}
            aria-describedby={problem ? 'panels-q-error' : undefined}
            spellCheck={false}
          />
        </label>
        <button type="submit" disabled={!!problem}>
          Apply
        </button>
        <div className="panels-range" role="group" aria-label="Time range" data-testid="panels-range">
          {RANGE_PRESETS.map((p) => (
            <button
              key={p.from}
              type="button"
              aria-pressed={preset?.from === p.from}
              data-from={p.from}
              onClick={() => go({ ...sel, from: p.from, to: 'now' })}
            >
              {p.label}
            </button>
          ))}
          {!preset && (
            <span className="panels-custom" data-testid="panels-custom-range">
              {sel.from} → {sel.to}
            </span>
          )}
        </div>
        <span className="panels-total" data-testid="panels-total" data-total={data?.total}>
          {loading ? 'Loading…' : data ? `${data.total.toLocaleString('en')} events` : ''}
        </span>
        <a className="panels-discover" href={routeHref('discover', { q: sel.q, from: sel.from, to: sel.to })}>
          Open in Discover
        </a>
      </form>
      {problem && (
        <p id="panels-q-error" className="error panels-q-error" data-testid="panels-query-error" role="alert">
          {problem.message}
          {draft && (
            <span className="mono panels-q-snippet">
              {' '}
              {draft.slice(0, problem.start)}
              <mark>{draft.slice(problem.start, Math.max(problem.end, problem.start + 1)) || ' '}</mark>
              {draft.slice(Math.max(problem.end, problem.start + 1))}
            </span>
          )}
        </p>
      )}
      {error && (
        <p className="error" role="alert" data-testid="panels-error">
          {error}
        </p>
      )}

      <div className="panels-grid">
        <ElapsedPanel
          sel={sel}
          result={aggs?.elapsed as DateHistogramResult | undefined}
          onSection={(section) => go({ ...sel, section })}
        />
        <section className="panel map-panel" data-testid="panel-map" aria-labelledby="panel-map-title">
          <h2 id="panel-map-title">Client countries</h2>
          <Suspense fallback={<p className="loading">Loading map…</p>}>
            <MapPanel geo={aggs?.map as GeoResult | undefined} sel={sel} />
          </Suspense>
        </section>
        {TERMS_PANELS.map((p) => (
          <TermsBars
            key={p.id}
            testId={`panel-${p.id}`}
            title={p.title}
            note={p.note}
            result={aggs?.[p.id] as TermsResult | undefined}
            loading={loading}
            hrefFor={(key) =>
              link(DOMAIN_PANELS.has(p.id) ? `${p.field}:*@${escapeWildcard(String(key))}` : termClause(p.field, key))
            }
            labelFor={
              p.field === 'client_geo.country_code'
                ? (k) => countryLabel(String(k))
                : p.field === 'client_geo.asn'
                  ? (k) => `AS${k}`
                  : undefined
            }
            classFor={p.field === 'action' ? (k) => ACTION_CLASS[String(k)] : undefined}
          />
        ))}
      </div>
    </div>
  )
}

/** A domain inside a Lucene wildcard term: the wildcard and syntax characters escaped. */
function escapeWildcard(s: string): string {
  return s.replace(/[\\+\-!():^[\]"{}~*?|&/\s]/g, (c) => `\\${c}`)
}

function MapPanel({ geo, sel }: { geo?: GeoResult; sel: Selection }) {
  const counts = useMemo(
    () => new Map((geo?.buckets ?? []).map((b) => [b.country_code.toUpperCase(), b.doc_count])),
    [geo],
  )
  const onPick = useCallback(
    (code: string) => {
      location.hash = discoverHref(sel.q, termClause('client_geo.country_code', code), sel.from, sel.to)
    },
    [sel.q, sel.from, sel.to],
  )
  return <WorldMap counts={counts} onPick={onPick} />
}

const SERIES_STYLE: readonly { label: string; stroke: string; width: number; dash?: number[] }[] = [
  { label: 'max', stroke: '#c0392b', width: 2 },
  { label: 'p99', stroke: '#d68910', width: 1.5 },
  { label: 'p95', stroke: '#1f6feb', width: 1.5 },
  { label: 'p50', stroke: '#2e8b57', width: 1.5, dash: [4, 3] },
]

function fmtSeconds(v: number | null | undefined): string {
  if (v === null || v === undefined) return '–'
  return v < 10 ? v.toFixed(3) : v.toFixed(1)
}

function ElapsedPanel({
  sel,
  result,
  onSection,
}: {
  sel: Selection
  result?: DateHistogramResult
  onSection: (s: Section) => void
}) {
  const field = `elapsed.${sel.section}`
  const buckets = result?.buckets ?? []
  const data = useMemo<uPlot.AlignedData>(
    () => [
      buckets.map((b) => b.key / 1000),
      buckets.map((b) => b.metric ?? null),
      buckets.map((b) => b.percentiles?.['99.0'] ?? null),
      buckets.map((b) => b.percentiles?.['95.0'] ?? null),
      buckets.map((b) => b.percentiles?.['50.0'] ?? null),
    ],
    [buckets],
  )
  // Click on the plot: Discover for that interval, the slowest 5 % of the section (≥ its p95).
  const [plot, setPlot] = useState<uPlot | null>(null)
  const latest = useMemo(() => ({ buckets, iv: result?.interval_ms ?? 0 }), [buckets, result])
  useEffect(() => {
    if (!plot) return
    const onClick = () => {
      const i = plot.cursor.idx
      if (i === null || i === undefined) return
      const b = latest.buckets[i]
      if (!b) return
      const p95 = b.percentiles?.['95.0']
      const clause =
        p95 === null || p95 === undefined ? `_exists_:${field}` : `${field}:[${Math.floor(p95 * 1000) / 1000} TO *]`
      location.hash = routeHref('discover', {
        q: andClause(sel.q, clause),
        from: String(b.key),
        to: String(b.key + latest.iv - 1),
      })
    }
    plot.over.addEventListener('click', onClick)
    return () => plot.over.removeEventListener('click', onClick)
  }, [plot, latest, field, sel.q])
  const options = useMemo<Omit<uPlot.Options, 'width' | 'height'>>(
    () => ({
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.05 : 1] } },
      axes: [{}, { label: 'seconds', size: 56 }],
      series: [
        {},
        ...SERIES_STYLE.map((s) => ({
          label: s.label,
          stroke: s.stroke,
          width: s.width,
          dash: s.dash,
          spanGaps: false,
        })),
      ],
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
    }),
    [],
  )
  return (
    <section className="panel elapsed-panel" data-testid="panel-elapsed" aria-labelledby="panel-elapsed-title">
      <div className="panel-head">
        <h2 id="panel-elapsed-title">Elapsed time per interval</h2>
        <label>
          <span>Section</span>{' '}
          <select
            data-testid="elapsed-section"
            value={sel.section}
            onChange={(e) => onSection(e.target.value as Section)}
          >
            {ELAPSED_SECTIONS.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        {result && (
          <span className="panel-sub">
            per {fmtInterval(result.interval_ms)} · click an interval for its slowest 5 %
          </span>
        )}
      </div>
      <div
        data-testid="elapsed-chart"
        data-buckets={buckets.length}
        data-interval-ms={result?.interval_ms}
        data-field={field}
      >
        <UPlot options={options} data={data} height={220} onCreate={setPlot} />
      </div>
      <details className="elapsed-table">
        <summary>Table</summary>
        <table data-testid="elapsed-table">
          <caption className="visually-hidden">{field} per interval (seconds)</caption>
          <thead>
            <tr>
              <th scope="col">interval</th>
              <th scope="col">events</th>
              <th scope="col">max</th>
              <th scope="col">p99</th>
              <th scope="col">p95</th>
              <th scope="col">p50</th>
            </tr>
          </thead>
          <tbody>
            {buckets
              .filter((b) => b.doc_count > 0)
              .map((b) => (
                <tr key={b.key} data-key={b.key} data-max={b.metric ?? ''} data-p95={b.percentiles?.['95.0'] ?? ''}>
                  <td>{b.key_as_string.replace('T', ' ').slice(0, 19)}</td>
                  <td>{b.doc_count}</td>
                  <td>{fmtSeconds(b.metric)}</td>
                  <td>{fmtSeconds(b.percentiles?.['99.0'])}</td>
                  <td>{fmtSeconds(b.percentiles?.['95.0'])}</td>
                  <td>{fmtSeconds(b.percentiles?.['50.0'])}</td>
                </tr>
              ))}
          </tbody>
        </table>
      </details>
    </section>
  )
}

function fmtInterval(ms: number): string {
  for (const [u, n] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['min', 60_000],
    ['s', 1000],
  ] as const)
    if (ms % n === 0) return `${ms / n} ${u}`
  return `${ms} ms`
}
