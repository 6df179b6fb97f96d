// amavisd-status's bar rules, shared by the terminal view (status-cli) and the browser's Live page
// (dashboard/web imports this file directly: no Node imports here). Pure.

/** Peak bar half-life (amavisd-status: `peak = max(active, peak·2^(−dt/8))`). */
export const PEAK_HALF_LIFE_SECS = 8

/**
 * Longest state bar kept. Only the first 33 characters and the last one are ever drawn, so a
 * bounded prefix plus the current state draws the same as amavis's unbounded string, and a bogus
 * ancient timestamp cannot grow a string of millions of characters.
 */
export const HISTORY_CAP = 256

/** Extends the state bar to the current second and stamps the current state into it. */
export function advanceHistory(history: string, ageSecs: number, state: string): string {
  const len = Math.max(1, Math.trunc(ageSecs + 0.5))
  const fill = history === '' ? '=' : history[history.length - 1]
  if (len > HISTORY_CAP) {
    const head = history.slice(0, HISTORY_CAP - 1)
    return head + fill.repeat(HISTORY_CAP - 1 - head.length) + state
  }
  let h = history
  if (h.length < len) h += fill.repeat(len - h.length)
  return h.slice(0, len - 1) + state + h.slice(len)
}

/** `peak = max(active, peak·2^(−dt/8))`, decaying only while the peak is at least 0.1. */
export function decayPeak(peak: number, peakAt: number | undefined, active: number, nowSecs: number): number {
  let p = peak
  if (peakAt !== undefined && p >= 0.1) p *= Math.pow(2, -(nowSecs - peakAt) / PEAK_HALF_LIFE_SECS)
  return active > p ? active : p
}

/** Content categories of the live summaries, in display order (SNMP `Content<Cat>Msgs`). */
export const LIVE_CATEGORIES = [
  'Clean',
  'Spammy',
  'Spam',
  'Virus',
  'Banned',
  'BadHdr',
  'Unchecked',
  'Oversized',
  'MtaFailed',
] as const
