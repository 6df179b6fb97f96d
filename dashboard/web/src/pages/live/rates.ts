// Messages per minute by content category from successive /api/counters samples (running
// totals). A counter that went down (collector restart with totals lost) starts a new window:
// never a negative rate. Pure.

export { LIVE_CATEGORIES as CATEGORIES } from '../../../../../protocol/src/status-bars.ts'
import { LIVE_CATEGORIES as CATEGORIES } from '../../../../../protocol/src/status-bars.ts'

export interface CounterSample {
  /** Collector time, Unix seconds. */
  readonly t: number
  readonly values: Readonly<Record<string, number>>
}

export interface Rates {
  /** Seconds covered; 0 when there is no rate yet. */
  readonly windowSecs: number
  readonly inPerMin: number | undefined
  readonly totalIn: number | undefined
  readonly byCategory: readonly { cat: string; perMin: number | undefined; total: number | undefined }[]
}

/** The counters of an /api/counters body as numbers. */
export function sampleOf(body: unknown): CounterSample | undefined {
  const b = body as { time?: unknown; counters?: Record<string, { value?: unknown }> } | null
  if (!b || typeof b.time !== 'number' || !b.counters) return undefined
  const values: Record<string, number> = {}
  for (const [k, v] of Object.entries(b.counters)) {
    const n = typeof v?.value === 'number' ? v.value : Number(v?.value)
    if (v?.value !== null && v?.value !== undefined && Number.isFinite(n)) values[k] = n
  }
  return { t: b.time, values }
}

/** Adds a sample; keeps those of the last `keepSecs`, dropping all before a counter reset. */
export function pushSample(samples: readonly CounterSample[], s: CounterSample, keepSecs = 60): CounterSample[] {
  const last = samples[samples.length - 1]
  if (last && s.t <= last.t) return [...samples]
  const reset = last && Object.entries(last.values).some(([k, v]) => (s.values[k] ?? 0) < v)
  const kept = reset ? [] : samples.filter((x) => s.t - x.t <= keepSecs)
  return [...kept, s]
}

export function computeRates(samples: readonly CounterSample[]): Rates {
  const cur = samples[samples.length - 1]
  const first = samples[0]
  const dt = cur && first ? cur.t - first.t : 0
  const rate = (name: string): number | undefined => {
    if (!cur || dt <= 0) return undefined
    const a = first.values[name] ?? 0
    const b = cur.values[name]
    if (b === undefined) return dt > 0 ? 0 : undefined
    return b >= a ? ((b - a) * 60) / dt : undefined
  }
  return {
    windowSecs: dt > 0 ? dt : 0,
    inPerMin: rate('InMsgs'),
    totalIn: cur?.values.InMsgs,
    byCategory: CATEGORIES.map((cat) => ({
      cat,
      perMin: rate(`Content${cat}Msgs`),
      total: cur?.values[`Content${cat}Msgs`],
    })),
  }
}
