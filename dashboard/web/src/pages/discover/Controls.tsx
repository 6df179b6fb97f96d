// Small Discover controls: the histogram's query series and split, and the table's column chooser.
import { useState, type FormEvent } from 'react'
import { checkQuery } from './query-check.ts'
import { COLUMNS, SPLIT_FIELDS } from './url-state.ts'

export function SeriesEditor({
  series,
  split,
  onSeries,
  onSplit,
}: {
  series: readonly string[]
  split: string
  onSeries: (s: readonly string[]) => void
  onSplit: (f: string) => void
}) {
  const [text, setText] = useState('')
  const [error, setError] = useState('')
  const add = (e: FormEvent) => {
    e.preventDefault()
    const q = text.trim()
    if (!q) return
    const p = checkQuery(q)
    if (p) {
      setError(`Lucene: ${p.message}`)
      return
    }
    setError('')
    setText('')
    if (!series.includes(q)) onSeries([...series, q])
  }
  return (
    <div className="discover-series" data-testid="series-editor">
      <form onSubmit={add} aria-label="Add a histogram series">
        <label>
          Series{' '}
          <input
            data-testid="series-input"
            placeholder="e.g. NOT action:(REJECT DISCARD BOUNCE)"
            value={text}
            onChange={(e) => setText(e.target.value)}
            size={34}
            spellCheck={false}
          />
        </label>
        <button type="submit" data-testid="series-add">
          Add series
        </button>
      </form>
      <ul className="discover-chips" aria-label="Histogram series">
        {series.map((q) => (
          <li key={q} data-testid="series-chip">
            <code>{q}</code>
            <button
              type="button"
              aria-label={`Remove series ${q}`}
              onClick={() => onSeries(series.filter((x) => x !== q))}
            >
              ×
            </button>
          </li>
        ))}
      </ul>
      <label>
        Stack by{' '}
        <select data-testid="split-select" value={split} onChange={(e) => onSplit(e.target.value)}>
          <option value="">(none)</option>
          {SPLIT_FIELDS.map((f) => (
            <option key={f} value={f}>
              {f}
            </option>
          ))}
        </select>
      </label>
      {error && (
        <span className="error" role="alert">
          {error}
        </span>
      )}
    </div>
  )
}

export function ColumnChooser({ cols, onCols }: { cols: readonly string[]; onCols: (c: readonly string[]) => void }) {
  return (
    <details className="discover-columns" data-testid="column-chooser">
      <summary>Columns</summary>
      <fieldset>
        <legend className="sr-only">Table columns</legend>
        {COLUMNS.map((c) => (
          <label key={c.id}>
            <input
              type="checkbox"
              data-testid={`col-${c.id}`}
              checked={cols.includes(c.id)}
              onChange={(e) =>
                onCols(
                  e.target.checked
                    ? COLUMNS.map((x) => x.id).filter((id) => id === c.id || cols.includes(id))
                    : cols.filter((x) => x !== c.id),
                )
              }
            />{' '}
            {c.label}
          </label>
        ))}
      </fieldset>
    </details>
  )
}
