// The Postfix queue gauges in the counter history, on a real Postfix queue (built by Postfix's own
// tools, protocol/test/postfix-spool.ts) and the real history worker: GET /api/history-shaped
// answers hold MtaQueueEntries* as gauges; a directory that cannot be read is absent (a gap), not
// 0; a queue too big to count within the deadline never delays, drops or reorders a sample.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, writeFileSync } from 'node:fs'
import { rename } from 'node:fs/promises'
import { join } from 'node:path'
import { createLogger } from '@vigil/protocol'
import { tmpDir, type Owner } from '../../../test/harness/index.ts'
import { makePostfixQueue, postfixMissing } from '../../../protocol/test/postfix-spool.ts'
import { createTotals } from '../../src/counters/totals.ts'
import { createHistory, type History } from '../../src/history/history.ts'
import { planHistory, type HistoryResponse } from '../../src/history/plan.ts'

const STEP_MS = 200
const TIERS = [{ stepMs: STEP_MS, retentionMs: 600_000 }]
const Q = ['Maildrop', 'Incoming', 'Active', 'Deferred'].map((q) => `MtaQueueEntries${q}`)

async function startHistory(t: Owner, queueDir: string, extra: { queueCountDeadlineMs?: number } = {}) {
  const dir = await tmpDir(t, 'queue-history')
  const lines: string[] = []
  const totals = createTotals({ localHost: 'mx', startSecs: Date.now() / 1000 })
  const h = createHistory({
    path: join(dir, 'history.db'),
    tiers: TIERS,
    totals,
    log: createLogger({ name: 'history', level: 'debug', write: (l) => lines.push(l) }),
    postfixQueueDirectory: queueDir,
    ...extra,
  })
  // the history's worker and timers are unref'd (the collector's sockets keep a process alive)
  const alive = setInterval(() => {}, 1000)
  await h.start()
  t.after(async () => {
    await h.stop()
    clearInterval(alive)
  })
  return { h, lines, totals }
}

async function query(h: History, names: string[], fromMs: number): Promise<HistoryResponse> {
  const plan = planHistory(h.tiers, { names, fromMs, toMs: Date.now(), stepMs: STEP_MS, nowMs: Date.now() })
  assert.ok(!('problems' in plan))
  return h.query(plan)
}

/** The newest non-null value of a series, and whether a null follows the first value (a gap). */
const newest = (r: HistoryResponse, n: string) => r.series[n]?.values.filter((v) => v !== null).at(-1)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

test('samples the entries of a real Postfix queue as gauges; an unreadable directory is absent, not 0', async (t) => {
  const missing = postfixMissing()
  if (missing) return t.skip(missing)
  const q = await makePostfixQueue(t, { deferred: 3, maildrop: 2 })
  const began = Date.now()
  const { h, lines } = await startHistory(t, q.spool)
  await h.queueCounted()
  await sleep(3 * STEP_MS)
  const r1 = await query(h, Q, began)
  for (const n of Q) assert.equal(r1.series[n]?.kind, 'gauge', JSON.stringify(r1))
  assert.deepEqual(
    Q.map((n) => newest(r1, n)),
    [2, 0, 0, 3],
  )
  assert.deepEqual(r1.missing, [])
  assert.deepEqual(r1.marks, [])
  assert.match(h.describe(), new RegExp(`Postfix queue ${q.spool}`))

  // the deferred directory goes away: its gauge is absent from the samples (null), the others stay
  const goneAt = Date.now()
  await rename(join(q.spool, 'deferred'), join(q.spool, 'deferred.away'))
  await h.queueCounted()
  await h.queueCounted() // a whole round after the rename
  const absentFrom = Date.now()
  await sleep(3 * STEP_MS)
  const r2 = await query(h, Q, began)
  const after = (n: string) => r2.series[n].values.filter((_, i) => r2.t[i] >= absentFrom)
  assert.ok(after(Q[3]).length >= 2)
  assert.ok(
    after(Q[3]).every((v) => v === null),
    `deferred after the rename: ${JSON.stringify(after(Q[3]))}`,
  )
  assert.ok(after(Q[0]).some((v) => v === 2))
  assert.ok(r2.series[Q[3]].values.filter((_, i) => r2.t[i] < goneAt).includes(3))
  assert.deepEqual(r2.missing, [])
  assert.equal(lines.filter((l) => l.includes('not counted')).length, 1, lines.join('\n'))

  // back: counted again
  await rename(join(q.spool, 'deferred.away'), join(q.spool, 'deferred'))
  await h.queueCounted()
  await h.queueCounted()
  await sleep(2 * STEP_MS)
  assert.equal(newest(await query(h, Q, began), Q[3]), 3)
  assert.ok(lines.some((l) => l.includes('counted again')))
})

test("a queue directory that does not exist (or 'off') yields no gauges at all: missing, not 0", async (t) => {
  const began = Date.now()
  const { h } = await startHistory(t, '/nonexistent/vigil/spool')
  await h.queueCounted()
  await sleep(3 * STEP_MS)
  assert.deepEqual((await query(h, Q, began)).missing, Q)
  const off = await startHistory(t, 'off')
  await off.h.queueCounted() // resolves at once: nothing counted
  await sleep(2 * STEP_MS)
  assert.deepEqual((await query(off.h, Q, began)).missing, Q)
  assert.doesNotMatch(off.h.describe(), /Postfix/)
})

test('a queue too big to count within its deadline leaves the gauges absent and never delays or reorders a sample', async (t) => {
  const spool = await tmpDir(t, 'huge-spool')
  for (const d of ['maildrop', 'incoming', 'active']) mkdirSync(join(spool, d))
  // 16 hash directories × 4000 entries: far more than 1 ms of counting
  for (let i = 0; i < 16; i++) {
    const hd = join(spool, 'deferred', i.toString(16).toUpperCase())
    mkdirSync(hd, { recursive: true })
    for (let j = 0; j < 4000; j++) writeFileSync(join(hd, `${i}${j}ABCDEF`), '')
  }
  const began = Date.now()
  const { h, lines, totals } = await startHistory(t, spool, { queueCountDeadlineMs: 1 })
  // a counter that grows while the queue is being counted: any sample delayed behind another
  // (reordered) would record it going down, i.e. a counter reset mark
  let n = 0
  const grow = setInterval(() => totals.apply('mx', 'InMsgs', 'C32', String(++n)), 20)
  t.after(() => clearInterval(grow))
  for (let i = 0; i < 4; i++) await h.queueCounted()
  await sleep(6 * STEP_MS)
  clearInterval(grow)
  const r = await query(h, ['InMsgs', ...Q], began)
  assert.deepEqual(r.marks, [])
  assert.ok(
    lines.some((l) => l.includes('not counted') && l.includes('longer than 1 ms')),
    lines.join('\n'),
  )
  assert.equal(r.series[Q[3]], undefined, 'deferred never counted: no value, not a partial count')
  assert.deepEqual(
    Q.slice(0, 3).map((q) => newest(r, q)),
    [0, 0, 0],
  )
  // a sample every step while counting ran: no null rate after the first point
  const rates = r.series.InMsgs.values.slice(1, -1)
  assert.ok(rates.length >= 8)
  assert.ok(
    rates.every((v) => v !== null && v >= 0),
    JSON.stringify(rates),
  )
})
