// The time picker: relative presets (the mail admin's default is the last 24 hours), an absolute
// range typed as date math, ISO 8601 or epoch ms, and auto-refresh of a relative range with pause.
// Brushing the histogram sets an absolute range (Histogram.tsx → DiscoverPage).
import { useEffect, useState, type FormEvent } from 'react'
import {
  PRESETS,
  REFRESH_OPTIONS,
  formatTime,
  rangeLabel,
  resolveRange,
  type DiscoverState,
  type Refresh,
} from './url-state.ts'

export interface TimePickerProps {
  readonly from: string
  readonly to: string
  readonly refresh: Refresh
  readonly paused: boolean
  /** The range the last search used (epoch ms), shown under the picker. */
  readonly resolved?: { fromMs: number; toMs: number }
  readonly onRange: (from: string, to: string) => void
  readonly onRefresh: (r: Refresh) => void
  readonly onPause: (paused: boolean) => void
}

export function TimePicker({ from, to, refresh, paused, resolved, onRange, onRefresh, onPause }: TimePickerProps) {
  const [fromText, setFromText] = useState(from)
  const [toText, setToText] = useState(to)
  const [error, setError] = useState('')
  useEffect(() => {
    setFromText(/^\d{1,16}$/.test(from) ? new Date(Number(from)).toISOString() : from)
    setToText(/^\d{1,16}$/.test(to) ? new Date(Number(to)).toISOString() : to)
    setError('')
  }, [from, to])

  const apply = (e: FormEvent) => {
    e.preventDefault()
    const s: Pick<DiscoverState, 'from' | 'to'> = { from: fromText.trim(), to: toText.trim() }
    const r = resolveRange(s, Date.now())
    if ('error' in r) {
      setError(r.error)
      return
    }
    setError('')
    onRange(s.from, s.to)
  }
  const preset = to === 'now' && PRESETS.some((p) => p.from === from) ? from : ''

  return (
    <div className="discover-time" data-testid="time-range" data-from={from} data-to={to}>
      <label>
        <span className="sr-only">Time range</span>
        <select
          aria-label="Relative time range"
          data-testid="time-preset"
          value={preset}
          onChange={(e) => e.target.value && onRange(e.target.value, 'now')}
        >
          {!preset && <option value="">{rangeLabel({ from, to })}</option>}
          {PRESETS.map((p) => (
            <option key={p.from} value={p.from}>
              {p.label}
            </option>
          ))}
        </select>
      </label>
      <form className="discover-abs" onSubmit={apply} aria-label="Absolute time range">
        <label>
          From{' '}
          <input
            data-testid="time-from"
            value={fromText}
            onChange={(e) => setFromText(e.target.value)}
            size={22}
            spellCheck={false}
          />
        </label>
        <label>
          To{' '}
          <input
            data-testid="time-to"
            value={toText}
            onChange={(e) => setToText(e.target.value)}
            size={22}
            spellCheck={false}
          />
        </label>
        <button type="submit" data-testid="time-apply">
          Apply
        </button>
      </form>
      <label>
        Auto-refresh{' '}
        <select data-testid="time-refresh" value={refresh} onChange={(e) => onRefresh(e.target.value as Refresh)}>
          {REFRESH_OPTIONS.map((r) => (
            <option key={r} value={r}>
              {r === 'off' ? 'Off' : `every ${r}`}
            </option>
          ))}
        </select>
      </label>
      {refresh !== 'off' && (
        <button type="button" data-testid="time-pause" aria-pressed={paused} onClick={() => onPause(!paused)}>
          {paused ? 'Resume' : 'Pause'}
        </button>
      )}
      {error && (
        <span className="error" role="alert" data-testid="time-error">
          {error}
        </span>
      )}
      {resolved && (
        <span className="muted discover-resolved" data-testid="time-resolved">
          {formatTime(resolved.fromMs)} → {formatTime(resolved.toMs)} UTC
        </span>
      )}
    </div>
  )
}
