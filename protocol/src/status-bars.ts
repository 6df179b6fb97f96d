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

/** Category rates are averaged over this many seconds of counter samples. */
export const RATE_WINDOW_SECS = 60

/** How a rate window reads one counter sample of its caller's shape (running totals, not deltas). */
export interface CounterSampleShape<S> {
  atSecs(s: S): number
  /** The running total of `name`, undefined when the sample does not have it. */
  value(s: S, name: string): number | undefined
  names(s: S): Iterable<string>
}

/**
 * Adds a sample to a rate window (oldest first) and drops those older than `windowSecs`. A sample
 * not newer than the last is ignored. A counter that went down or vanished (a collector restart
 * with its totals lost, amavis FLUSH) starts a new window, so a rate is never negative.
 */
export function pushCounterSample<S>(
  samples: readonly S[],
  s: S,
  shape: CounterSampleShape<S>,
  windowSecs = RATE_WINDOW_SECS,
): S[] {
  const last = samples[samples.length - 1]
  const t = shape.atSecs(s)
  if (last !== undefined && t <= shape.atSecs(last)) return [...samples]
  let reset = false
  if (last !== undefined)
    for (const k of shape.names(last))
      if ((shape.value(s, k) ?? 0) < shape.value(last, k)!) {
        reset = true
        break
      }
  const kept = reset ? [] : samples.filter((x) => t - shape.atSecs(x) <= windowSecs)
  return [...kept, s]
}

export interface WindowRates {
  /** Seconds between the oldest and the newest sample; 0 while there is no rate yet. */
  readonly windowSecs: number
  /** Messages per minute of a counter over the window: undefined until two samples, never negative. */
  perMin(name: string): number | undefined
  /** The newest sample's running total, undefined when it does not have the counter. */
  total(name: string): number | undefined
  /** The content categories (LIVE_CATEGORIES order): `Content<Cat>Msgs` per minute and total. */
  readonly byCategory: ReadonlyArray<{
    readonly cat: string
    readonly perMin: number | undefined
    readonly total: number | undefined
  }>
}

/** Rates over a window built by pushCounterSample; a counter absent from a sample counts as 0. */
export function windowRates<S>(samples: readonly S[], shape: CounterSampleShape<S>): WindowRates {
  const first = samples[0]
  const cur = samples[samples.length - 1]
  const dt = first !== undefined && cur !== undefined ? shape.atSecs(cur) - shape.atSecs(first) : 0
  const perMin = (name: string): number | undefined => {
    if (!(dt > 0)) return undefined
    const a = shape.value(first!, name) ?? 0
    const b = shape.value(cur!, name) ?? 0
    return b >= a ? ((b - a) * 60) / dt : undefined
  }
  const total = (name: string) => (cur === undefined ? undefined : shape.value(cur, name))
  return {
    windowSecs: dt > 0 ? dt : 0,
    perMin,
    total,
    byCategory: LIVE_CATEGORIES.map((cat) => ({
      cat,
      perMin: perMin(`Content${cat}Msgs`),
      total: total(`Content${cat}Msgs`),
    })),
  }
}
