// The field sidebar: top values of each field with their counts, from terms aggregations over the
// whole result (not the page of hits, unlike Kibana's 500-row sample). `+` narrows the query to a
// value (`+field:value`), `−` excludes it (`-field:value`).
import type { TermsResult } from '../../api.ts'

export interface FieldSidebarProps {
  readonly fields: readonly string[]
  readonly aggs?: Readonly<Record<string, TermsResult>>
  readonly total?: number
  readonly loading: boolean
  readonly error?: string
  readonly onFilter: (field: string, value: string | number | boolean, sign: '+' | '-') => void
}

/** `author.keyword` is shown as `author`: the values are those of the field. */
const label = (f: string) => f.replace(/\.keyword$/, '')

export function FieldSidebar({ fields, aggs, total, loading, error, onFilter }: FieldSidebarProps) {
  return (
    <aside className="panel discover-sidebar" data-testid="field-sidebar" aria-label="Top values" aria-busy={loading}>
      <h2>Top values</h2>
      <p className="muted discover-sidebar-note">Counts over the whole result</p>
      {error && <p className="error">{error}</p>}
      {fields.map((f) => {
        const r = aggs?.[f]
        return (
          <section key={f} className="discover-field" data-field={f} data-testid="sidebar-field">
            <h3>{label(f)}</h3>
            {!r ? (
              <p className="muted">{loading ? '…' : ''}</p>
            ) : r.buckets.length === 0 ? (
              <p className="muted">no values</p>
            ) : (
              <ul>
                {r.buckets.map((b) => {
                  const v = String(b.key)
                  const pct = total ? (100 * b.doc_count) / total : 0
                  return (
                    <li key={v} data-testid="sidebar-value" data-value={v} data-count={b.doc_count}>
                      <span className="discover-value" title={v}>
                        {v}
                      </span>
                      <span className="discover-count">{b.doc_count.toLocaleString('en')}</span>
                      <button
                        type="button"
                        className="discover-filter"
                        data-testid="filter-in"
                        aria-label={`Filter for ${label(f)} ${v}`}
                        onClick={() => onFilter(f, b.key, '+')}
                      >
                        +
                      </button>
                      <button
                        type="button"
                        className="discover-filter"
                        data-testid="filter-out"
                        aria-label={`Filter out ${label(f)} ${v}`}
                        onClick={() => onFilter(f, b.key, '-')}
                      >
                        −
                      </button>
                      <span className="discover-bar" aria-hidden="true">
                        <span style={{ width: `${Math.min(100, pct)}%` }} />
                      </span>
                    </li>
                  )
                })}
              </ul>
            )}
            {r && (r.other_doc_count > 0 || r.missing_doc_count > 0) && (
              <p className="muted discover-other">
                {r.other_doc_count > 0 && `${r.other_doc_count.toLocaleString('en')} other`}
                {r.other_doc_count > 0 && r.missing_doc_count > 0 && ' · '}
                {r.missing_doc_count > 0 && `${r.missing_doc_count.toLocaleString('en')} without`}
              </p>
            )}
          </section>
        )
      })}
    </aside>
  )
}
