// The message table: the chosen columns of the current page of hits (TanStack Table, headless,
// manual sorting: a header click changes the URL's sort and the server sorts), rows virtualised
// (TanStack Virtual, one <tbody> per row so an expanded row measures as one item), "Load more"
// fetches the next page with the search_after token. A row expands to the whole document (fetched
// by event_id: the page itself only carries the table's fields), its per-recipient sub-table and
// pivot buttons. Subjects are rot13 unless this user may see them and revealed the row.
import { useEffect, useMemo, useRef, useState } from 'react'
import { flexRender, getCoreRowModel, useReactTable, type ColumnDef } from '@tanstack/react-table'
import { useVirtualizer } from '@tanstack/react-virtual'
import { apiGet, ApiError, type SearchResponse } from '../../api.ts'
import { displaySubject } from '../../lib/subjects.ts'
import { cellText, columnById, pivotQuery, type Column, type SortState } from './url-state.ts'

type Doc = Record<string, unknown>

export interface ResultsTableProps {
  readonly hits: readonly Doc[]
  readonly cols: readonly string[]
  readonly sort: SortState
  readonly rawSubjects: boolean
  readonly hasMore: boolean
  readonly loading: boolean
  readonly loadingMore: boolean
  readonly onSort: (s: SortState) => void
  readonly onLoadMore: () => void
  readonly onPivot: (q: string) => void
}

const rowId = (d: Doc, i: number) => (typeof d.event_id === 'string' ? d.event_id : `row-${i}`)

export function ResultsTable(props: ResultsTableProps) {
  const { hits, cols, sort, rawSubjects, hasMore, loading, loadingMore, onSort, onLoadMore, onPivot } = props
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(new Set())
  const [revealed, setRevealed] = useState<ReadonlySet<string>>(new Set())
  const toggle = (set: ReadonlySet<string>, id: string) => {
    const n = new Set(set)
    if (n.has(id)) n.delete(id)
    else n.add(id)
    return n
  }

  const columns = useMemo(
    (): ColumnDef<Doc>[] =>
      cols
        .map((id) => columnById(id))
        .filter((c): c is Column => !!c)
        .map((c) => ({ id: c.id, header: c.label, meta: c, accessorFn: (d: Doc) => cellText(c, d) })),
    [cols],
  )
  const table = useReactTable({
    data: hits as Doc[],
    columns,
    getCoreRowModel: getCoreRowModel(),
    getRowId: rowId,
    manualSorting: true,
    manualPagination: true,
  })
  const rows = table.getRowModel().rows

  const scroller = useRef<HTMLDivElement>(null)
  const virtual = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => 30,
    overscan: 12,
    getItemKey: (i) => rows[i]?.id ?? i,
  })
  const items = virtual.getVirtualItems()
  const padTop = items.length ? items[0].start : 0
  const padBottom = items.length ? virtual.getTotalSize() - items[items.length - 1].end : 0
  const ncols = columns.length + 1

  const header = (c: Column) => {
    const active = sort.field === c.sort
    const ariaSort = active ? (sort.order === 'asc' ? 'ascending' : 'descending') : 'none'
    return (
      <th key={c.id} scope="col" aria-sort={c.sort ? ariaSort : undefined} className={c.numeric ? 'num' : undefined}>
        {c.sort ? (
          <button
            type="button"
            className="discover-sort"
            data-testid={`sort-${c.id}`}
            onClick={() =>
              onSort({ field: c.sort!, order: active && sort.order === 'desc' ? 'asc' : active ? 'desc' : 'desc' })
            }
          >
            {c.label}
            <span aria-hidden="true">{active ? (sort.order === 'asc' ? ' ▲' : ' ▼') : ''}</span>
          </button>
        ) : (
          c.label
        )}
      </th>
    )
  }

  return (
    <section className="panel discover-table" aria-label="Matching events">
      <div
        ref={scroller}
        className="discover-table-scroll"
        tabIndex={0}
        role="region"
        aria-label="Events table, scrollable"
      >
        <table data-testid="results-table" aria-busy={loading} data-rows={rows.length}>
          <thead>
            <tr>
              <th scope="col" className="discover-expand-col">
                <span className="sr-only">Details</span>
              </th>
              {table
                .getHeaderGroups()[0]
                .headers.map((h) => header((h.column.columnDef.meta as Column | undefined) ?? columnById(h.id)!))}
            </tr>
          </thead>
          {padTop > 0 && (
            <tbody aria-hidden="true">
              <tr style={{ height: padTop }} />
            </tbody>
          )}
          {items.map((vi) => {
            const row = rows[vi.index]
            if (!row) return null
            const d = row.original
            const open = expanded.has(row.id)
            const shown = revealed.has(row.id)
            return (
              <tbody key={row.id} ref={virtual.measureElement} data-index={vi.index} className="discover-row">
                <tr data-testid="result-row" data-event-id={row.id} className={open ? 'open' : undefined}>
                  <td className="discover-expand-col">
                    <button
                      type="button"
                      aria-expanded={open}
                      aria-label={open ? 'Hide details' : 'Show details'}
                      data-testid="row-expand"
                      onClick={() => setExpanded((s) => toggle(s, row.id))}
                    >
                      {open ? '▾' : '▸'}
                    </button>
                  </td>
                  {row.getVisibleCells().map((cell) => {
                    const c = cell.column.columnDef.meta as Column
                    if (c.id === 'subject') {
                      const raw = cellText(c, d)
                      return (
                        <td key={cell.id} data-col={c.id} className="discover-subject">
                          <span data-testid="cell-subject">{displaySubject(raw, rawSubjects, shown)}</span>
                          {rawSubjects && raw && (
                            <button
                              type="button"
                              className="link"
                              data-testid="reveal-subject"
                              aria-pressed={shown}
                              onClick={() => setRevealed((s) => toggle(s, row.id))}
                            >
                              {shown ? 'rot13' : 'reveal'}
                            </button>
                          )}
                        </td>
                      )
                    }
                    return (
                      <td key={cell.id} data-col={c.id} className={c.numeric ? 'num' : undefined}>
                        {flexRender(cell.column.columnDef.cell, cell.getContext())}
                      </td>
                    )
                  })}
                </tr>
                {open && (
                  <tr className="discover-detail-row">
                    <td colSpan={ncols}>
                      <RowDetail doc={d} rawSubjects={rawSubjects} revealed={shown} onPivot={onPivot} />
                    </td>
                  </tr>
                )}
              </tbody>
            )
          })}
          {padBottom > 0 && (
            <tbody aria-hidden="true">
              <tr style={{ height: padBottom }} />
            </tbody>
          )}
        </table>
        {!loading && rows.length === 0 && <p className="muted discover-empty">No events match.</p>}
      </div>
      <div className="discover-table-foot">
        <span className="muted" data-testid="rows-shown">
          {rows.length.toLocaleString('en')} rows shown
        </span>
        {hasMore && (
          <button type="button" data-testid="load-more" onClick={onLoadMore} disabled={loadingMore}>
            {loadingMore ? 'Loading…' : 'Load more'}
          </button>
        )}
      </div>
    </section>
  )
}

interface Recipient {
  readonly [k: string]: unknown
}

const RECIPIENT_COLS = ['rcpt_to', 'action', 'smtp_code', 'queued_as', 'ccat_main', 'spam_score', 'rcpt_is_local']

/** The whole document of a row (fetched by event_id), recipients and pivots. */
function RowDetail({
  doc,
  rawSubjects,
  revealed,
  onPivot,
}: {
  doc: Doc
  rawSubjects: boolean
  revealed: boolean
  onPivot: (q: string) => void
}) {
  const [full, setFull] = useState<Doc | null>(null)
  const [error, setError] = useState('')
  const id = typeof doc.event_id === 'string' ? doc.event_id : undefined
  useEffect(() => {
    if (!id) {
      setFull(doc)
      return
    }
    const ac = new AbortController()
    apiGet<SearchResponse>('/api/search', { q: `event_id:"${id.replace(/[\\"]/g, '\\$&')}"`, size: 1 }, ac.signal)
      .then((r) => setFull((r.hits[0] as Doc | undefined) ?? doc))
      .catch((err) => {
        if (!ac.signal.aborted) setError(err instanceof ApiError ? err.message : String(err))
      })
    return () => ac.abort()
  }, [id, doc])
  const d = full ?? doc
  const shownDoc = useMemo(() => {
    if (typeof d.subject !== 'string') return d
    return { ...d, subject: displaySubject(d.subject, rawSubjects, revealed) }
  }, [d, rawSubjects, revealed])
  const recipients = Array.isArray(d.recipients) ? (d.recipients as Recipient[]) : []
  const pivots = (['mail_id', 'message_id', 'client_ip'] as const).filter(
    (f) => typeof d[f] === 'string' && d[f] !== '',
  )
  return (
    <div className="discover-detail" data-testid="row-detail">
      <div className="discover-pivots" role="group" aria-label="Pivots">
        {pivots.map((f) => (
          <button type="button" key={f} data-testid={`pivot-${f}`} onClick={() => onPivot(pivotQuery(f, String(d[f])))}>
            Every event with this {f}
          </button>
        ))}
        {!full && !error && <span className="muted">Loading the whole event…</span>}
        {error && <span className="error">{error}</span>}
      </div>
      {recipients.length > 0 && (
        <table className="discover-recipients" data-testid="recipients-table">
          <caption>Recipients ({recipients.length})</caption>
          <thead>
            <tr>
              {RECIPIENT_COLS.map((c) => (
                <th key={c} scope="col">
                  {c}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {recipients.map((r, i) => (
              <tr key={i}>
                {RECIPIENT_COLS.map((c) => (
                  <td key={c}>{r[c] === undefined || r[c] === null ? '' : String(r[c])}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <pre
        className="discover-json"
        data-testid="row-json"
        tabIndex={0}
        role="region"
        aria-label="The whole event as JSON"
      >
        {JSON.stringify(shownDoc, null, 2)}
      </pre>
    </div>
  )
}
