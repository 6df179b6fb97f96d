// Top values of a terms aggregation as plain HTML/CSS bars; each bar is a link (to Discover with
// the value as a filter). Keys are rendered as text nodes only. Numbers are exposed for tests:
// every bar has data-key and data-count, the list data-other and data-missing.
import type { TermsResult } from '../api.ts'

export interface TermsBarsProps {
  readonly title: string
  readonly testId: string
  readonly result?: TermsResult
  /** The link of a bar. */
  readonly hrefFor: (key: string | number | boolean) => string
  /** The text shown for a key (country names, AS numbers…); default the key itself. */
  readonly labelFor?: (key: string | number | boolean) => string
  /** An extra class per key (action colours). */
  readonly classFor?: (key: string | number | boolean) => string | undefined
  readonly loading?: boolean
  readonly error?: string
  /** A line under the title (what the field is). */
  readonly note?: string
}

export function TermsBars({
  title,
  testId,
  result,
  hrefFor,
  labelFor,
  classFor,
  loading,
  error,
  note,
}: TermsBarsProps) {
  const max = result?.buckets.reduce((m, b) => Math.max(m, b.doc_count), 0) ?? 0
  const headId = `${testId}-title`
  return (
    <section
      className="panel terms-panel"
      data-testid={testId}
      aria-labelledby={headId}
      aria-busy={loading || undefined}
    >
      <h2 id={headId}>{title}</h2>
      {note && <p className="terms-note">{note}</p>}
      {error && <p className="error">{error}</p>}
      {result && result.buckets.length === 0 && !error && <p className="terms-empty">No values</p>}
      {result && result.buckets.length > 0 && (
        <ol className="terms-bars" data-other={result.other_doc_count} data-missing={result.missing_doc_count}>
          {result.buckets.map((b) => {
            const key = String(b.key)
            const label = labelFor ? labelFor(b.key) : key === '' ? '(empty)' : key
            const pct = max ? (b.doc_count / max) * 100 : 0
            return (
              <li key={key} data-key={key} data-count={b.doc_count}>
                <a href={hrefFor(b.key)} title={`Show in Discover: ${label}`}>
                  <span className="terms-label">{label}</span>
                  <span className="terms-count">{b.doc_count.toLocaleString('en')}</span>
                  <span className="terms-track" aria-hidden="true">
                    <span className={`terms-fill ${classFor?.(b.key) ?? ''}`} style={{ width: `${pct}%` }} />
                  </span>
                </a>
              </li>
            )
          })}
        </ol>
      )}
      {result && (result.other_doc_count > 0 || result.missing_doc_count > 0) && (
        <p className="terms-rest">
          {result.other_doc_count > 0 && <>other values: {result.other_doc_count.toLocaleString('en')}</>}
          {result.other_doc_count > 0 && result.missing_doc_count > 0 && ' · '}
          {result.missing_doc_count > 0 && <>without the field: {result.missing_doc_count.toLocaleString('en')}</>}
        </p>
      )}
    </section>
  )
}
