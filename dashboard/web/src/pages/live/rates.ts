// Messages per minute by content category from successive /api/counters samples (running
// totals). The window rule (a counter that went down starts a new window: never a negative rate)
// is amavis-status's too: protocol/src/status-bars.ts. Pure.

export { LIVE_CATEGORIES as CATEGORIES } from '../../../../../protocol/src/status-bars.ts'
import { pushCounterSample, windowRates, type CounterSampleShape } from '../../../../../protocol/src/status-bars.ts'

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

/** The Live page's sample shape (a record of running totals) for the shared rate window. */
const SAMPLE_SHAPE: CounterSampleShape<CounterSample> = {
  atSecs: (s) => s.t,
  value: (s, name) => s.values[name],
  names: (s) => Object.keys(s.values),
}

/** Adds a sample; keeps those of the last `keepSecs`, dropping all before a counter reset. */
export function pushSample(samples: readonly CounterSample[], s: CounterSample, keepSecs = 60): CounterSample[] {
  return pushCounterSample(samples, s, SAMPLE_SHAPE, keepSecs)
}

export function computeRates(samples: readonly CounterSample[]): Rates {
  const r = windowRates(samples, SAMPLE_SHAPE)
  return {
    windowSecs: r.windowSecs,
    inPerMin: r.perMin('InMsgs'),
    totalIn: r.total('InMsgs'),
    byCategory: r.byCategory,
  }
}
