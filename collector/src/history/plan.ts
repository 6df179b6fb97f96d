// Counter history: the types shared by the sampler, the store (in its worker) and the HTTP route,
// and the query planner: which tier answers a time range, and at which step (pure, no I/O; the
// dashboard imports these types, so nothing here may import Node modules).

export type Kind = 'counter' | 'gauge'

export interface TierSpec {
  readonly stepMs: number
  readonly retentionMs: number
}

/** The `history.tiers` config section in milliseconds. */
export function tiersOf(cfg: { readonly tiers: readonly { step_secs: number; retention_secs: number }[] }): TierSpec[] {
  return cfg.tiers.map((t) => ({
    stepMs: Math.round(t.step_secs * 1000),
    retentionMs: Math.round(t.retention_secs * 1000),
  }))
}

/** One sample of the collector's variables, taken on the main thread and recorded in the worker. */
export interface Sample {
  /** Epoch ms (a multiple of the finest step, except the start and stop samples). */
  readonly ts: number
  /** The collector process's identity: a fresh id per start. */
  readonly boot: string
  readonly bootStartedMs: number
  readonly pid: number
  /** Counters carry their raw cumulative value, gauges their current value. */
  readonly values: ReadonlyArray<readonly [name: string, kind: Kind, value: number]>
}

export type MarkKind = 'restart' | 'reset'

export interface Mark {
  readonly t: number
  /** restart: the collector restarted with its totals kept; reset: counters dropped (totals lost, amavis FLUSH). */
  readonly kind: MarkKind
  readonly detail: string
}

/** A validated /api/history request, planned against the tiers. */
export interface HistoryPlan {
  readonly names: readonly string[]
  readonly fromMs: number
  readonly toMs: number
  /** Index into the tiers: the rows read. */
  readonly tier: number
  /** Output step (a whole multiple of the tier's step); points are [gridStart, gridStart+step, …] ≤ toMs. */
  readonly stepMs: number
  readonly gridStartMs: number
}

export interface HistorySeries {
  readonly kind: Kind
  /** counter: increase per second over the step (never negative; null: no data or a gap); gauge: mean. */
  readonly values: (number | null)[]
  /** gauge only: the highest value sampled in the step. */
  readonly max?: (number | null)[]
}

export interface HistoryResponse {
  readonly from: number
  readonly to: number
  readonly step: number
  readonly tier: { readonly step_ms: number; readonly retention_ms: number }
  /** Point timestamps, epoch ms: each point covers [t, t + step). */
  readonly t: number[]
  readonly series: Record<string, HistorySeries>
  /** Requested names never sampled (not served by this collector, e.g. Postfix queue gauges). */
  readonly missing: string[]
  /** Epoch ms of every restart/reset mark in the range. */
  readonly restarts: number[]
  readonly marks: Mark[]
  /** Epoch ms of the newest sample. */
  readonly latest: number | null
}

/** Most points one answer may hold (a step too small for the range is refused). */
export const MAX_POINTS = 5000
/** Points aimed at when no step is given. */
export const TARGET_POINTS = 1500

/** `30s`, `5m`, `1h`, `1d`, `500ms` or plain milliseconds. */
export function parseStep(v: string): number | undefined {
  const m = /^(\d{1,12})(ms|s|m|h|d)?$/.exec(v)
  if (!m) return undefined
  const n = Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] ?? 'ms']!
  return n > 0 ? n : undefined
}

/**
 * Picks the finest tier that still holds `from` (else the coarsest) and a step: the requested one
 * rounded to a multiple of the tier's step, or one that gives at most ~1500 points. Returns the
 * problems instead when the answer would be too large.
 */
export function planHistory(
  tiers: readonly TierSpec[],
  req: { names: readonly string[]; fromMs: number; toMs: number; stepMs?: number; nowMs: number },
): HistoryPlan | { problems: string[] } {
  const range = Math.max(1, req.toMs - req.fromMs)
  const covering = tiers.map((t, i) => ({ t, i })).filter(({ t }) => req.fromMs >= req.nowMs - t.retentionMs - t.stepMs)
  const pool = covering.length ? covering : [{ t: tiers[tiers.length - 1], i: tiers.length - 1 }]
  let pick = pool[0]
  let stepMs: number
  if (req.stepMs !== undefined) {
    // the coarsest holding tier not coarser than the step (fewest rows to read)
    const fit = pool.filter(({ t }) => t.stepMs <= req.stepMs!)
    if (fit.length) pick = fit[fit.length - 1]
    stepMs = Math.max(1, Math.round(req.stepMs / pick.t.stepMs)) * pick.t.stepMs
  } else {
    stepMs = pick.t.stepMs * Math.max(1, Math.ceil(range / pick.t.stepMs / TARGET_POINTS))
    // more than ~20 000 rows to read: a coarser holding tier whose step still fits
    while (range / pick.t.stepMs > 20_000) {
      const next = pool.find(({ t }) => t.stepMs > pick.t.stepMs && t.stepMs <= stepMs)
      if (!next) break
      pick = next
      stepMs = pick.t.stepMs * Math.max(1, Math.ceil(range / pick.t.stepMs / TARGET_POINTS))
    }
  }
  const gridStartMs = Math.floor(req.fromMs / stepMs) * stepMs
  const points = Math.floor((req.toMs - gridStartMs) / stepMs) + 1
  if (points > MAX_POINTS)
    return { problems: [`step: ${stepMs} ms gives ${points} points over the range; at most ${MAX_POINTS}`] }
  return { names: req.names, fromMs: req.fromMs, toMs: req.toMs, tier: pick.i, stepMs, gridStartMs }
}
