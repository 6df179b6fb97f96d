// amavis-status's state bars and peak bar for the browser (the same rules as
// status-cli/src/state.ts and render/format.ts, which import Node-only modules). Pure.

/** The state letters amavis children publish (protocol/src/states.ts STATE_LEGEND, short). */
export const STATE_NAMES: Readonly<Record<string, string>> = {
  A: 'accepted a connection',
  b: 'begin protocol',
  m: 'MAIL FROM',
  d: 'data transfer',
  '=': 'checking started',
  G: 'generating mail_id',
  D: 'decoding',
  V: 'virus scanning',
  S: 'spam scanning',
  P: 'pen pals lookup',
  r: 'preparing results',
  Q: 'quarantine / notifications',
  F: 'forwarding to MTA',
  '.': 'checking finished',
  '-': 'idle',
  '?': 'busy (state unknown)',
}

export { HISTORY_CAP, PEAK_HALF_LIFE_SECS, advanceHistory, decayPeak } from '../../../../../protocol/src/status-bars.ts'

export const BAR_SECS = 40

/** Runs of one state in the bar: `[letter, seconds]`; a history over BAR_SECS keeps its head and last state. */
export function barSegments(history: string): { runs: [string, number][]; truncated: boolean } {
  let h = history
  let truncated = false
  if (h.length > BAR_SECS) {
    h = h.slice(0, BAR_SECS - 1) + h[h.length - 1]
    truncated = true
  }
  const runs: [string, number][] = []
  for (const ch of h) {
    const last = runs[runs.length - 1]
    if (last && last[0] === ch) last[1]++
    else runs.push([ch, 1])
  }
  return { runs, truncated }
}

/** `*` per busy process, `.` per idle one, and `:` up to the rounded decaying peak (amavis-status). */
export function peakBar(active: number, idle: number, peak: number): string {
  let bar = '*'.repeat(active) + '.'.repeat(idle)
  const ipeak = Math.trunc(peak + 0.5)
  if (ipeak > active) {
    if (bar.length < ipeak) bar = bar.padEnd(ipeak, ' ')
    bar = bar.slice(0, active) + ':'.repeat(ipeak - active) + bar.slice(ipeak)
  }
  return bar
}

/** `H:MM:SS` of a number of seconds. */
export function fmtElapsed(secs: number): string {
  if (!(secs >= 0)) return ''
  const s = Math.floor(secs)
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  return `${h}:${String(m).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`
}

/** A duration in seconds as `850 µs`, `12.3 ms`, `1.25 s`. */
export function fmtSecs(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–'
  if (v < 0.001) return `${Math.round(v * 1e6)} µs`
  if (v < 1) return `${(v * 1000).toFixed(v < 0.01 ? 2 : 1)} ms`
  return `${v.toFixed(2)} s`
}

/** CSS class of a state letter (`.` and `=` are not valid in class names). */
export function stateClass(letter: string): string {
  const map: Record<string, string> = { '=': 'eq', '.': 'dot', '-': 'idle', ' ': 'idle', '?': 'q' }
  return `st-${map[letter] ?? letter}`
}
