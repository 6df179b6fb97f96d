// Discover: the Lucene query bar, time picker, hits histogram (query series, stacked by a field),
// hit count, message table and field sidebar over the collector's search API. The URL holds the
// whole state (url-state.ts), so every change is a `navigate(…, replace)` and every search is
// shareable. One run resolves the time range once and fires its three requests in parallel: the
// table page (only its columns' fields, 50 hits), the histogram and the sidebar's terms.
import { lazy, Suspense, useCallback, useEffect, useMemo, useRef, useState } from 'react'
import {
  apiGet,
  ApiError,
  type AggsResponse,
  type DateHistogramResult,
  type SearchResponse,
  type TermsResult,
} from '../../api.ts'
import { navigate } from '../../router.ts'
import { useSession } from '../../session.tsx'
import { FieldSidebar } from './FieldSidebar.tsx'
import { Histogram } from './Histogram.tsx'
import type { FieldInfo } from './QueryBar.tsx'
import type { QueryProblem } from './query-check.ts'
import { ResultsTable } from './ResultsTable.tsx'
import { SavedSearches } from './SavedSearches.tsx'
import { TimePicker } from './TimePicker.tsx'
import { ColumnChooser, SeriesEditor } from './Controls.tsx'
import {
  REFRESH_MS,
  SIDEBAR_FIELDS,
  addFilter,
  histogramAgg,
  isRelative,
  parseState,
  resolveRange,
  searchParams,
  sidebarAggs,
  stateToParams,
  type DiscoverState,
} from './url-state.ts'
import './discover.css'

// CodeMirror is the bulk of the page's JavaScript: loaded beside the first search, not before it.
const QueryBar = lazy(() => import('./QueryBar.tsx').then((m) => ({ default: m.QueryBar })))

/** What the query bar looks like until CodeMirror has loaded. */
function QueryBarPlaceholder({ value }: { value: string }) {
  return (
    <div className="discover-query">
      <div className="discover-query-row">
        <div className="discover-editor discover-editor-loading">{value || ' '}</div>
        <button type="button" className="primary" disabled>
          Search
        </button>
      </div>
      <p className="discover-query-status">
        <span className="discover-lang">Lucene</span>
      </p>
    </div>
  )
}

type Doc = Record<string, unknown>

const message = (err: unknown) => (err instanceof Error ? err.message : String(err))
const aborted = (err: unknown) => (err as Error)?.name === 'AbortError'

export default function DiscoverPage({ params }: { params: URLSearchParams }) {
  const { me } = useSession()
  const paramsText = params.toString()
  const state = useMemo(() => parseState(new URLSearchParams(paramsText)), [paramsText])
  const stateRef = useRef(state)
  stateRef.current = state
  const update = useCallback((patch: Partial<DiscoverState>) => {
    navigate('discover', stateToParams({ ...stateRef.current, ...patch }), true)
  }, [])

  // The URL always carries the range (a bare `#/discover` gets the defaults written into it).
  useEffect(() => {
    const canonical = stateToParams(state).toString()
    if (!new URLSearchParams(paramsText).has('from')) navigate('discover', new URLSearchParams(canonical), true)
  }, [paramsText, state])

  // One run: the range resolved once (relative ranges move with auto-refresh ticks).
  const [tick, setTick] = useState(0)
  const [paused, setPaused] = useState(false)
  const range = useMemo(
    () => resolveRange(state, Date.now()),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [state.from, state.to, tick],
  )
  const okRange = 'error' in range ? undefined : range

  // Fields for autocomplete (once).
  const [fields, setFields] = useState<readonly FieldInfo[]>([])
  useEffect(() => {
    apiGet<{ fields: FieldInfo[] }>('/api/search/fields')
      .then((r) => setFields(r.fields))
      .catch(() => {})
  }, [])
  const valueCache = useRef(new Map<string, Promise<readonly { value: string; count: number }[]>>())
  const fetchValues = useCallback(
    (field: string) => {
      const key = `${field}|${state.from}|${state.to}`
      let p = valueCache.current.get(key)
      if (!p) {
        const r = resolveRange(state, Date.now())
        p = apiGet<AggsResponse>('/api/search/aggs', {
          ...('error' in r ? {} : { from: r.fromMs, to: r.toMs }),
          aggs: JSON.stringify({ v: { type: 'terms', field, size: 10 } }),
        }).then((a) => (a.aggs.v as TermsResult).buckets.map((b) => ({ value: String(b.key), count: b.doc_count })))
        p.catch(() => valueCache.current.delete(key))
        valueCache.current.set(key, p)
      }
      return p
    },
    [state],
  )

  // The table page.
  const [hits, setHits] = useState<readonly Doc[]>([])
  const [total, setTotal] = useState<number | undefined>()
  const [next, setNext] = useState<string | undefined>()
  const [searching, setSearching] = useState(false)
  const [loadingMore, setLoadingMore] = useState(false)
  const [searchError, setSearchError] = useState('')
  const [serverError, setServerError] = useState<QueryProblem | null>(null)
  const fieldsKey = state.cols.join(',')
  useEffect(() => {
    if (!okRange) return
    const ac = new AbortController()
    const s = stateRef.current
    setSearching(true)
    apiGet<SearchResponse>('/api/search', searchParams(s, okRange), ac.signal)
      .then((r) => {
        setHits(r.hits)
        setTotal(r.total)
        setNext(r.next)
        setSearchError('')
        setServerError(null)
      })
      .catch((err) => {
        if (aborted(err)) return
        setHits([])
        setTotal(undefined)
        setNext(undefined)
        if (err instanceof ApiError && err.status === 400 && err.position)
          setServerError({ message: err.message, position: err.position, query: s.q })
        else setSearchError(message(err))
      })
      .finally(() => {
        if (!ac.signal.aborted) setSearching(false)
      })
    return () => ac.abort()
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [okRange, state.q, state.sort.field, state.sort.order, fieldsKey])

  // A new search (not a further page, not an auto-refresh) starts the table afresh: rows collapsed.
  const runKey = JSON.stringify([state.from, state.to, state.q, state.sort, fieldsKey])

  const loadMore = useCallback(() => {
    if (!okRange || !next) return
    setLoadingMore(true)
    apiGet<SearchResponse>('/api/search', searchParams(stateRef.current, okRange, next))
      .then((r) => {
        setHits((h) => [...h, ...r.hits])
        setNext(r.next)
      })
      .catch((err) => setSearchError(message(err)))
      .finally(() => setLoadingMore(false))
  }, [okRange, next])

  // The histogram.
  const [histo, setHisto] = useState<DateHistogramResult | undefined>()
  const [histoLoading, setHistoLoading] = useState(false)
  const [histoError, setHistoError] = useState('')
  const histoKey = JSON.stringify([state.series, state.split])
  useEffect(() => {
    if (!okRange) return
    const ac = new AbortController()
    const s = stateRef.current
    setHistoLoading(true)
    apiGet<AggsResponse>(
      '/api/search/aggs',
      { q: s.q, from: okRange.fromMs, to: okRange.toMs, aggs: JSON.stringify(histogramAgg(s)) },
      ac.signal,
    )
      .then((r) => {
        setHisto(r.aggs.h as DateHistogramResult)
        setHistoError('')
      })
      .catch((err) => {
        if (aborted(err)) return
        setHisto(undefined)
        if (!(err instanceof ApiError && err.position)) setHistoError(message(err))
      })
      .finally(() => {
        if (!ac.signal.aborted) setHistoLoading(false)
      })
    return () => ac.abort()
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [okRange, state.q, histoKey])

  // The sidebar's terms over the whole result.
  const [terms, setTerms] = useState<Record<string, TermsResult> | undefined>()
  const [termsTotal, setTermsTotal] = useState<number | undefined>()
  const [termsLoading, setTermsLoading] = useState(false)
  const [termsError, setTermsError] = useState('')
  useEffect(() => {
    if (!okRange) return
    const ac = new AbortController()
    const s = stateRef.current
    setTermsLoading(true)
    apiGet<AggsResponse>(
      '/api/search/aggs',
      { q: s.q, from: okRange.fromMs, to: okRange.toMs, aggs: JSON.stringify(sidebarAggs()) },
      ac.signal,
    )
      .then((r) => {
        setTerms(r.aggs as Record<string, TermsResult>)
        setTermsTotal(r.total)
        setTermsError('')
      })
      .catch((err) => {
        if (aborted(err)) return
        setTerms(undefined)
        if (!(err instanceof ApiError && err.position)) setTermsError(message(err))
      })
      .finally(() => {
        if (!ac.signal.aborted) setTermsLoading(false)
      })
    return () => ac.abort()
  }, [okRange, state.q])

  // Auto-refresh (relative ranges only), paused on request.
  useEffect(() => {
    const ms = REFRESH_MS[state.refresh]
    if (!ms || paused || !isRelative(state)) return
    const id = setInterval(() => setTick((t) => t + 1), ms)
    return () => clearInterval(id)
  }, [state, paused])

  const run = useCallback(
    (q: string) => {
      if (q === stateRef.current.q) setTick((t) => t + 1)
      else update({ q })
    },
    [update],
  )
  const onFilter = useCallback(
    (field: string, value: string | number | boolean, sign: '+' | '-') =>
      update({ q: addFilter(stateRef.current.q, field, value, sign) }),
    [update],
  )
  const onBrush = useCallback(
    (fromMs: number, toMs: number) => update({ from: String(fromMs), to: String(toMs) }),
    [update],
  )
  const searchPending = searching || histoLoading || termsLoading

  return (
    <div className="discover" data-testid="discover" data-busy={searchPending ? 'true' : 'false'}>
      <h1 className="sr-only">Discover</h1>
      <Suspense fallback={<QueryBarPlaceholder value={state.q} />}>
        <QueryBar value={state.q} onRun={run} serverError={serverError} fields={fields} fetchValues={fetchValues} />
      </Suspense>
      <div className="discover-toolbar">
        <TimePicker
          from={state.from}
          to={state.to}
          refresh={state.refresh}
          paused={paused}
          resolved={okRange}
          onRange={(from, to) => update({ from, to })}
          onRefresh={(refresh) => {
            setPaused(false)
            update({ refresh })
          }}
          onPause={setPaused}
        />
        <SavedSearches currentHash={`#/discover?${stateToParams(state).toString()}`} />
      </div>
      {'error' in range && (
        <p className="error" role="alert">
          {range.error}
        </p>
      )}
      <div className="discover-main">
        <FieldSidebar
          fields={SIDEBAR_FIELDS}
          aggs={terms}
          total={termsTotal}
          loading={termsLoading}
          error={termsError}
          onFilter={onFilter}
        />
        <div className="discover-results">
          <div className="discover-summary">
            <p
              className="discover-hits"
              data-testid="hit-count"
              data-total={total ?? ''}
              data-from-ms={okRange?.fromMs}
              data-to-ms={okRange?.toMs}
              data-q={state.q}
              aria-live="polite"
              aria-busy={searching}
            >
              {total === undefined ? (searching ? 'Searching…' : '—') : `${total.toLocaleString('en')} hits`}
            </p>
            <SeriesEditor
              series={state.series}
              split={state.split}
              onSeries={(series) => update({ series })}
              onSplit={(split) => update({ split })}
            />
          </div>
          {searchError && (
            <p className="error" role="alert" data-testid="search-error">
              {searchError}
            </p>
          )}
          <Histogram
            result={histo}
            seriesLabels={state.series}
            loading={histoLoading}
            error={histoError}
            range={okRange}
            onBrush={onBrush}
          />
          <div className="discover-table-bar">
            <ColumnChooser cols={state.cols} onCols={(cols) => update({ cols: cols.length ? cols : state.cols })} />
          </div>
          <ResultsTable
            key={runKey}
            hits={hits}
            cols={state.cols}
            sort={state.sort}
            rawSubjects={!!me?.raw_subjects}
            hasMore={!!next}
            loading={searching}
            loadingMore={loadingMore}
            onSort={(sort) => update({ sort })}
            onLoadMore={loadMore}
            onPivot={(q) => update({ q })}
          />
        </div>
      </div>
    </div>
  )
}
