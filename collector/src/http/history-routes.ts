// GET /api/history: counter history for graphs (collector/src/history/).
//
//   GET /api/history?names=InMsgs,ProcBusy&from=now-6h&to=now&step=1m
//     names  required, comma-separated variable names (as /api/counters), at most 64
//     from   ISO 8601, epoch ms, now, now-<n><s|m|h|d|w>   (default: to - 1h)
//     to     the same                                     (default: now)
//     step   optional, 30s | 5m | 1h | 1d | 500ms | <ms>; default: the finest tier that still
//            holds `from`, at a step giving at most ~1500 points. A requested step is rounded to a
//            whole multiple of the chosen tier's step; more than 5000 points is a 400.
//
//   200 {
//     from, to, step,                          epoch ms; step in ms
//     tier: { step_ms, retention_ms },         the tier the points come from
//     t: [ms, …],                              point starts, gridded on multiples of step; a point covers [t, t+step)
//     series: {
//       InMsgs:   { kind: "counter", values: [per-second rate | null, …] },
//       ProcBusy: { kind: "gauge",   values: [mean | null, …], max: [max | null, …] }
//     },
//     missing: ["MtaQueueEntriesActive"],      requested names this collector never sampled
//     restarts: [ms, …],                       every mark in the range (for vertical lines)
//     marks: [{ t, kind: "restart" | "reset", detail }],
//                                              restart: the collector restarted, totals kept;
//                                              reset: counters dropped (totals lost, amavis FLUSH)
//     latest: ms | null                        newest sample
//   }
//   Rates never go negative: after a counter reset the interval's increase is what was counted
//   since the reset (Prometheus' rule), and 0 for the collector's own start sample (taken before
//   any traffic). A point whose previous step holds no sample (downtime) is null: lines break.
//   400 { error, problems: [...], code: "PARAM_INVALID" }; 503 { error, code: "HISTORY_UNAVAILABLE" }.
import type { FastifyInstance } from 'fastify'
import { parseTimeParam } from './search-routes.ts'
import { parseStep, planHistory, type HistoryPlan, type HistoryResponse, type TierSpec } from '../history/plan.ts'

export interface HistoryDeps {
  readonly tiers: readonly TierSpec[]
  query(plan: HistoryPlan): Promise<HistoryResponse>
}

type Params = Record<string, string | string[] | undefined>
const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[v.length - 1] : v)
const NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/
const MAX_NAMES = 64
const MAX_RANGE_MS = 2 * 366 * 86_400_000

/** Validates the query string; all problems at once. */
export function parseHistoryParams(
  p: Params,
  tiers: readonly TierSpec[],
  nowMs: number,
): HistoryPlan | { problems: string[] } {
  const problems: string[] = []
  const rawNames = one(p.names)
  const names = (rawNames ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  if (!names.length) problems.push('names: required, a comma-separated list of counter names')
  if (names.length > MAX_NAMES) problems.push(`names: at most ${MAX_NAMES}`)
  const bad = names.filter((n) => !NAME.test(n))
  if (bad.length)
    problems.push(
      `names: not a counter name: ${bad
        .slice(0, 3)
        .map((n) => JSON.stringify(n))
        .join(', ')}`,
    )
  const time = (k: 'from' | 'to', dflt: number): number => {
    const v = one(p[k])
    if (v === undefined || v === '') return dflt
    const t = parseTimeParam(v, nowMs)
    if (t === undefined) {
      problems.push(`${k}: expected ISO 8601, epoch ms or now-<n><s|m|h|d|w>, got "${v}"`)
      return dflt
    }
    return t
  }
  const toMs = time('to', nowMs)
  const fromMs = time('from', toMs - 3_600_000)
  if (fromMs >= toMs) problems.push('from: must be before to')
  else if (toMs - fromMs > MAX_RANGE_MS) problems.push('from: the range is at most two years')
  let stepMs: number | undefined
  const s = one(p.step)
  if (s !== undefined && s !== '') {
    stepMs = parseStep(s)
    if (stepMs === undefined) problems.push(`step: expected 30s, 5m, 1h, 1d, 500ms or milliseconds, got "${s}"`)
  }
  if (problems.length) return { problems }
  return planHistory(tiers, { names, fromMs, toMs, stepMs, nowMs })
}

export function registerHistoryRoutes(app: FastifyInstance, deps: HistoryDeps): void {
  app.get('/api/history', async (req, reply) => {
    const plan = parseHistoryParams(req.query as Params, deps.tiers, Date.now())
    if ('problems' in plan) {
      reply.code(400)
      return { error: plan.problems.join('; '), problems: plan.problems, code: 'PARAM_INVALID' }
    }
    try {
      return await deps.query(plan)
    } catch (err) {
      reply.code(503)
      return { error: `counter history unavailable: ${(err as Error).message}`, code: 'HISTORY_UNAVAILABLE' }
    }
  })
}
