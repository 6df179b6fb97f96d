// Per-stage latency histograms built from each event's `elapsed` object (spec §5.3:
// seconds as %.3f numbers, keys Receiving, Decoding, VirusCheck, SpamCheck, Sending, Total, Amavis).

/** Bucket upper bounds in seconds: 5 ms … 60 s. */
export const STAGE_BUCKETS_SECS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] as const
/** Distinct stage labels kept; more are counted in `overflow` (bounded cardinality). */
export const MAX_STAGES = 32

export interface HistogramData {
  /** Non-cumulative counts per bucket, plus the +Inf slot at the end. */
  counts: number[]
  sum: number
  count: number
}

/** `VirusCheck` → `virus_check`. */
export function stageLabel(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase()
}

export function createStageHistograms() {
  const stages = new Map<string, HistogramData>()
  let overflow = 0
  return {
    /** Observes every numeric section of an event's `elapsed` object; ignores anything else. */
    observeElapsed(elapsed: unknown): void {
      if (!elapsed || typeof elapsed !== 'object' || Array.isArray(elapsed)) return
      for (const [k, v] of Object.entries(elapsed as Record<string, unknown>)) {
        const secs = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN
        if (!Number.isFinite(secs) || secs < 0 || !/^[A-Za-z][A-Za-z0-9_]{0,31}$/.test(k)) continue
        const label = stageLabel(k)
        let h = stages.get(label)
        if (!h) {
          if (stages.size >= MAX_STAGES) {
            overflow++
            continue
          }
          h = { counts: new Array(STAGE_BUCKETS_SECS.length + 1).fill(0), sum: 0, count: 0 }
          stages.set(label, h)
        }
        let i = 0
        while (i < STAGE_BUCKETS_SECS.length && secs > STAGE_BUCKETS_SECS[i]) i++
        h.counts[i]++
        h.sum += secs
        h.count++
      }
    },
    entries(): [string, HistogramData][] {
      return [...stages.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))
    },
    get overflow() {
      return overflow
    },
  }
}
export type StageHistograms = ReturnType<typeof createStageHistograms>
