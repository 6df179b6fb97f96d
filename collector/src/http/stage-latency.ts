// Per-stage latency as JSON (GET /api/stages, for the Live page and amavis-status): the stage
// histograms summarised as count, mean and bucket-interpolated percentiles. Pure.
import { STAGE_BUCKETS_SECS, type HistogramData } from './stage-histograms.ts'

export interface StageLatency {
  stage: string
  count: number
  mean_secs: number | null
  p50_secs: number | null
  p95_secs: number | null
  p99_secs: number | null
  /** Non-cumulative counts per bucket of `buckets_secs`, plus +Inf at the end. */
  counts: number[]
}

export interface StageLatencyJson {
  time: number
  buckets_secs: number[]
  stages: StageLatency[]
  /** Stage labels dropped because the histogram set was full. */
  overflow: number
}

/**
 * The `q` quantile (0..1) of a bucketed histogram, interpolated linearly inside the bucket that
 * holds it (as Prometheus' histogram_quantile); the +Inf bucket answers its lower bound.
 */
export function bucketQuantile(
  counts: readonly number[],
  q: number,
  bounds: readonly number[] = STAGE_BUCKETS_SECS,
): number | null {
  const total = counts.reduce((a, b) => a + b, 0)
  if (total === 0) return null
  const rank = q * total
  let seen = 0
  for (let i = 0; i < counts.length; i++) {
    if (counts[i] === 0) continue
    if (seen + counts[i] >= rank) {
      if (i >= bounds.length) return bounds[bounds.length - 1]
      const lo = i === 0 ? 0 : bounds[i - 1]
      const hi = bounds[i]
      return lo + (hi - lo) * Math.min(1, Math.max(0, (rank - seen) / counts[i]))
    }
    seen += counts[i]
  }
  return bounds[bounds.length - 1]
}

const round = (v: number | null): number | null => (v === null ? null : Math.round(v * 1e6) / 1e6)

export function stageLatencyJson(
  entries: readonly [string, HistogramData][],
  overflow: number,
  nowSecs: number,
): StageLatencyJson {
  return {
    time: nowSecs,
    buckets_secs: [...STAGE_BUCKETS_SECS],
    stages: entries.map(([stage, h]) => ({
      stage,
      count: h.count,
      mean_secs: h.count ? round(h.sum / h.count) : null,
      p50_secs: round(bucketQuantile(h.counts, 0.5)),
      p95_secs: round(bucketQuantile(h.counts, 0.95)),
      p99_secs: round(bucketQuantile(h.counts, 0.99)),
      counts: [...h.counts],
    })),
    overflow,
  }
}
