// The counter history store on a real SQLite file: tiers and downsampling, pruning, rates across
// counter resets and collector restarts (never negative), gaps, the query planner.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { statSync } from 'node:fs'
import { tmpDir, type Owner } from '../../../test/harness/index.ts'
import { openHistoryStore, type HistoryStore } from '../../src/history/store.ts'
import { planHistory, type HistoryPlan, type Kind, type TierSpec } from '../../src/history/plan.ts'
import { parseHistoryParams } from '../../src/http/history-routes.ts'

const T0 = 1_700_000_000_000 // a multiple of every step below
const TIERS: TierSpec[] = [
  { stepMs: 1000, retentionMs: 600_000 },
  { stepMs: 5000, retentionMs: 3_600_000 },
  { stepMs: 20_000, retentionMs: 86_400_000 },
]

async function open(t: Owner, tiers = TIERS): Promise<{ path: string; store: HistoryStore; reopen(): HistoryStore }> {
  const dir = await tmpDir(t, 'history')
  const path = join(dir, 'history.db')
  let store = openHistoryStore(path, tiers)
  t.after(() => store.close())
  return {
    path,
    store,
    reopen() {
      store.close()
      store = openHistoryStore(path, tiers)
      return store
    },
  }
}

const rec = (s: HistoryStore, ts: number, values: Record<string, number>, boot = 'boot-a', gauges: string[] = []) =>
  s.record({
    ts,
    boot,
    bootStartedMs: T0,
    pid: 1,
    values: Object.entries(values).map(([n, v]) => [n, (gauges.includes(n) ? 'gauge' : 'counter') as Kind, v] as const),
  })

const plan = (names: string[], fromMs: number, toMs: number, tier: number, stepMs: number): HistoryPlan => ({
  names,
  fromMs,
  toMs,
  tier,
  stepMs,
  gridStartMs: Math.floor(fromMs / stepMs) * stepMs,
})

const nonNegative = (vs: (number | null)[]) => vs.every((v) => v === null || v >= 0)

test('folds finer rows into the coarser tiers: counters keep their last value, gauges mean and max', async (t) => {
  const { store } = await open(t)
  for (let i = 0; i <= 60; i++) rec(store, T0 + i * 1000, { InMsgs: 2 * i, ProcBusy: i % 4 }, 'boot-a', ['ProcBusy'])
  // tier 1: the 5 s steps completed by the sample at +60 s (12); tier 2: 20 s steps (3)
  assert.deepEqual(store.counts(), [61, 12, 3])
  const r = store.query(plan(['InMsgs', 'ProcBusy'], T0 + 5000, T0 + 55_000, 1, 5000))
  assert.equal(r.t.length, 11)
  assert.equal(r.t[0], T0 + 5000)
  assert.equal(r.series.InMsgs.kind, 'counter')
  assert.deepEqual(r.series.InMsgs.values, Array(11).fill(2)) // 2 per second
  // ProcBusy over 0..3 repeating: each 5 s step holds 5 samples; mean and max
  assert.equal(r.series.ProcBusy.kind, 'gauge')
  assert.equal(r.series.ProcBusy.values[0], (1 + 2 + 3 + 0 + 1) / 5) // i = 5..9
  assert.equal(r.series.ProcBusy.max![0], 3)
  const r2 = store.query(plan(['InMsgs'], T0 + 20_000, T0 + 40_000, 2, 20_000))
  assert.deepEqual(r2.series.InMsgs.values, [2, 2])
  // the finest tier at its own step, and bucketed on read (10 s from 1 s rows)
  const r0 = store.query(plan(['InMsgs'], T0 + 1000, T0 + 60_000, 0, 1000))
  assert.deepEqual(r0.series.InMsgs.values, Array(60).fill(2))
  const r10 = store.query(plan(['InMsgs'], T0 + 10_000, T0 + 50_000, 0, 10_000))
  assert.deepEqual(r10.series.InMsgs.values, Array(5).fill(2))
})

test('prunes each tier past its retention, at most once a minute; the file stays bounded', async (t) => {
  const tiers: TierSpec[] = [
    { stepMs: 1000, retentionMs: 10_000 },
    { stepMs: 5000, retentionMs: 30_000 },
  ]
  const { store, path } = await open(t, tiers)
  const values: Record<string, number> = {}
  for (let n = 0; n < 120; n++) values[`UserCounter${n}`] = n
  for (let i = 0; i < 130; i++) {
    for (const k of Object.keys(values)) values[k] += i
    rec(store, T0 + i * 1000, values)
  }
  // pruned at +0, +60 s and +120 s: tier 0 keeps [110 s, 129 s], tier 1 the steps 90 s … 120 s (125 s is still open)
  assert.deepEqual(store.counts(), [20, 7])
  const size1 = statSync(path).size
  for (let i = 130; i < 400; i++) rec(store, T0 + i * 1000, values)
  assert.ok(store.counts()[0] <= 10 + 60, `tier 0 rows: ${store.counts()[0]}`)
  assert.ok(statSync(path).size <= size1 * 3, 'file size bounded')
})

test('a counter reset (amavis FLUSH) gives the count since the reset, never a negative rate, and a reset mark', async (t) => {
  const { store } = await open(t)
  const seq = [0, 10, 20, 30, 5, 15, 25]
  seq.forEach((v, i) => rec(store, T0 + i * 1000, { InMsgs: v, InMsgsSize: v * 1000 }))
  const r = store.query(plan(['InMsgs', 'InMsgsSize'], T0 + 1000, T0 + 6000, 0, 1000))
  assert.deepEqual(r.series.InMsgs.values, [10, 10, 10, 5, 10, 10])
  assert.ok(nonNegative(r.series.InMsgsSize.values))
  assert.deepEqual(r.restarts, [T0 + 4000])
  assert.equal(r.marks[0].kind, 'reset')
  assert.match(r.marks[0].detail, /InMsgs/)
  // a vanished counter (a FLUSH without new counts) reads 0 and rates 0, not negative
  rec(store, T0 + 7000, {})
  rec(store, T0 + 8000, { InMsgs: 3 })
  const r2 = store.query(plan(['InMsgs'], T0 + 7000, T0 + 8000, 0, 1000))
  assert.deepEqual(r2.series.InMsgs.values, [0, 3])
  // the 5 s tier is exact across the reset inside its step: 10+10+10+5+10 over [+5 s, +10 s) ends = 45 in 5 s
  for (let i = 9; i <= 16; i++) rec(store, T0 + i * 1000, { InMsgs: 3 + (i - 8) * 2 })
  const r5 = store.query(plan(['InMsgs'], T0, T0 + 10_000, 1, 5000))
  assert.ok(nonNegative(r5.series.InMsgs.values), JSON.stringify(r5.series.InMsgs.values))
  // step [0, 5 s) has no row before it: null; [5 s, 10 s): from adj at +4 s (35) to adj at +9 s
  assert.equal(r5.series.InMsgs.values[0], null)
})

test('a collector restart with totals lost: reset mark, no negative rate, no spike; with totals kept: restart mark', async (t) => {
  const o = await open(t)
  let store = o.store
  for (let i = 0; i <= 10; i++) rec(store, T0 + i * 1000, { InMsgs: 100 + 10 * i, ProcBusy: 2 }, 'boot-a', ['ProcBusy'])
  // stop sample, then the process is gone for 3.5 s; a new process opens the same file
  rec(store, T0 + 10_400, { InMsgs: 204, ProcBusy: 2 }, 'boot-a', ['ProcBusy'])
  store = o.reopen()
  // its start sample: totals lost (nothing restored), before any traffic
  rec(store, T0 + 13_900, {}, 'boot-b')
  for (let i = 14; i <= 20; i++)
    rec(store, T0 + i * 1000, { InMsgs: 10 * (i - 13), ProcBusy: 1 }, 'boot-b', ['ProcBusy'])
  const r = store.query(plan(['InMsgs', 'ProcBusy'], T0 + 1000, T0 + 20_000, 0, 1000))
  assert.ok(nonNegative(r.series.InMsgs.values), JSON.stringify(r.series.InMsgs.values))
  assert.deepEqual(r.restarts, [T0 + 13_900])
  assert.equal(r.marks[0].kind, 'reset')
  assert.match(r.marks[0].detail, /totals lost/)
  const at = (ms: number) => r.series.InMsgs.values[r.t.indexOf(T0 + ms)]
  assert.equal(at(10_000), 10) // the 10 s step ends with the stop sample (+10.4 s, 204): (204 - 190) / 1.4 s
  assert.equal(at(11_000), null) // downtime: no sample in the step before
  assert.equal(at(13_000), null) // the start sample's step: the step before it is empty
  // after the start sample (+13.9 s, raw 0): 10 in 0.1 s, then 10 per second; no spike of 204
  assert.equal(Math.round(at(14_000)!), 100)
  assert.equal(at(15_000), 10)
  assert.ok(Math.max(...r.series.InMsgs.values.filter((v): v is number => v !== null)) <= 100)
  // restart with the totals restored: a restart mark, the counting goes on
  rec(store, T0 + 20_500, { InMsgs: 70 }, 'boot-b')
  store = o.reopen()
  rec(store, T0 + 21_200, { InMsgs: 70 }, 'boot-c')
  rec(store, T0 + 22_000, { InMsgs: 80 }, 'boot-c')
  const r2 = store.query(plan(['InMsgs'], T0 + 20_000, T0 + 22_000, 0, 1000))
  assert.deepEqual(
    r2.marks.map((m) => m.kind),
    ['restart'],
  )
  assert.equal(r2.series.InMsgs.values[2], 10 / 0.8)
})

test('unknown names are listed as missing; gauges and counters from a later layout', async (t) => {
  const { store } = await open(t)
  rec(store, T0, { InMsgs: 1 })
  rec(store, T0 + 1000, { InMsgs: 2, ContentSpamMsgs: 4 })
  rec(store, T0 + 2000, { InMsgs: 3, ContentSpamMsgs: 5 })
  const r = store.query(plan(['InMsgs', 'ContentSpamMsgs', 'MtaQueueEntriesActive'], T0, T0 + 2000, 0, 1000))
  assert.deepEqual(r.missing, ['MtaQueueEntriesActive'])
  // a counter that appears counts from 0
  assert.deepEqual(r.series.ContentSpamMsgs.values, [null, 4, 1])
  assert.equal(r.latest, T0 + 2000)
})

test('plans: the finest tier holding the range at ≤ ~1500 points; a requested step; too many points refused', () => {
  const now = T0
  const tiers: TierSpec[] = [
    { stepMs: 10_000, retentionMs: 86_400_000 },
    { stepMs: 60_000, retentionMs: 7 * 86_400_000 },
    { stepMs: 300_000, retentionMs: 365 * 86_400_000 },
  ]
  const p = (fromAgoMs: number, stepMs?: number) =>
    planHistory(tiers, { names: ['InMsgs'], fromMs: now - fromAgoMs, toMs: now, nowMs: now, stepMs }) as HistoryPlan
  const H = 3_600_000
  assert.deepEqual([p(H).tier, p(H).stepMs], [0, 10_000])
  assert.deepEqual([p(6 * H).tier, p(6 * H).stepMs], [0, 20_000])
  assert.deepEqual([p(24 * H).tier, p(24 * H).stepMs], [0, 60_000])
  assert.deepEqual([p(7 * 24 * H).tier, p(7 * 24 * H).stepMs], [1, 420_000])
  assert.deepEqual([p(30 * 24 * H).tier, p(30 * 24 * H).stepMs], [2, 1_800_000])
  assert.deepEqual([p(365 * 24 * H).tier, p(365 * 24 * H).stepMs], [2, 21_300_000])
  for (const r of [H, 6 * H, 24 * H, 7 * 24 * H, 30 * 24 * H, 365 * 24 * H]) {
    const pts = (now - p(r).gridStartMs) / p(r).stepMs + 1
    assert.ok(pts >= 300 && pts <= 1501, `${r}: ${pts} points`)
  }
  assert.deepEqual([p(24 * H, 60_000).tier, p(24 * H, 60_000).stepMs], [1, 60_000])
  assert.deepEqual([p(24 * H, 300_000).tier, p(24 * H, 300_000).stepMs], [2, 300_000])
  assert.deepEqual([p(48 * H, 300_000).tier, p(48 * H, 300_000).stepMs], [2, 300_000])
  assert.deepEqual([p(H, 15_000).tier, p(H, 15_000).stepMs], [0, 20_000]) // rounded to the tier's multiple
  const tooMany = planHistory(tiers, {
    names: ['InMsgs'],
    fromMs: now - 7 * 24 * H,
    toMs: now,
    nowMs: now,
    stepMs: 60_000,
  })
  assert.ok('problems' in tooMany)
})

test('parameters: clear problems for every bad value', () => {
  const now = T0
  const bad = (q: Record<string, string>) => {
    const r = parseHistoryParams(q, [{ stepMs: 100, retentionMs: 86_400_000 }], now)
    assert.ok('problems' in r, JSON.stringify(q))
    return r.problems.join('; ')
  }
  assert.match(bad({}), /names: required/)
  assert.match(bad({ names: 'InMsgs,<x>' }), /not a counter name: "<x>"/)
  assert.match(bad({ names: 'InMsgs', from: 'yesterday' }), /from: expected ISO 8601/)
  assert.match(bad({ names: 'InMsgs', from: 'now', to: 'now-1h' }), /before to/)
  assert.match(bad({ names: 'InMsgs', step: '5x' }), /step: expected/)
  assert.match(bad({ names: 'InMsgs', from: 'now-2h', step: '1ms' }), /at most 5000/)
  assert.match(bad({ names: Array.from({ length: 65 }, (_, i) => `N${i}`).join(',') }), /at most 64/)
  const ok = parseHistoryParams({ names: 'InMsgs, ProcBusy', from: 'now-1h' }, TIERS, now)
  assert.ok(!('problems' in ok))
  assert.deepEqual(ok.names, ['InMsgs', 'ProcBusy'])
  assert.equal(ok.toMs, now)
})

test('a gauge absent from some samples (a Postfix queue directory not counted) is a gap, not 0; coarse tiers average what was seen', async (t) => {
  const { store } = await open(t)
  const g = ['MtaQueueEntriesDeferred']
  rec(store, T0, { InMsgs: 1, MtaQueueEntriesDeferred: 7 }, 'boot-a', g)
  rec(store, T0 + 1000, { InMsgs: 2 }, 'boot-a', g)
  rec(store, T0 + 2000, { InMsgs: 3 }, 'boot-a', g)
  rec(store, T0 + 3000, { InMsgs: 4, MtaQueueEntriesDeferred: 9 }, 'boot-a', g)
  rec(store, T0 + 4000, { InMsgs: 5, MtaQueueEntriesDeferred: 11 }, 'boot-a', g)
  rec(store, T0 + 5000, { InMsgs: 6 }, 'boot-a', g)
  const fine = store.query(plan(['MtaQueueEntriesDeferred'], T0, T0 + 4000, 0, 1000))
  assert.deepEqual(fine.series.MtaQueueEntriesDeferred, {
    kind: 'gauge',
    values: [7, null, null, 9, 11],
    max: [7, null, null, 9, 11],
  })
  const coarse = store.query(plan(['MtaQueueEntriesDeferred'], T0, T0, 1, 5000))
  assert.deepEqual(coarse.series.MtaQueueEntriesDeferred.values, [9]) // (7 + 9 + 11) / 3, not / 5
  assert.deepEqual(coarse.series.MtaQueueEntriesDeferred.max, [11])
})

test('samples must reach the store in time order: one recorded behind a newer one reads as a counter reset', async (t) => {
  // why the Postfix queue is counted off the sampling path (collector/src/history/queue-gauges.ts):
  // a sample that waited for a count and was posted after the next one would make this mark
  const { store } = await open(t)
  rec(store, T0, { InMsgs: 1 })
  rec(store, T0 + 2000, { InMsgs: 5 })
  rec(store, T0 + 1000, { InMsgs: 3 })
  const r = store.query(plan(['InMsgs'], T0, T0 + 2000, 0, 1000))
  assert.deepEqual(
    r.marks.map((m) => m.kind),
    ['reset'],
  )
})
