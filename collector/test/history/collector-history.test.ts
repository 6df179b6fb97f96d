// The counter history in a real collector: am.snmp counter traffic on the inner ZMQ socket (as
// amavis children publish it) and the minder's Proc* gauges are sampled into <home>/history.db;
// the collector restarts on the same home with its totals file removed (totals lost), and
// GET /api/history shows a reset mark at the restart and no negative rate, in every tier. The
// Postfix queue gauges of a real Postfix queue come out of GET /api/history as gauges.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { Owner } from '../../../test/harness/index.ts'
import { makePostfixQueue, postfixMissing } from '../../../protocol/test/postfix-spool.ts'
import { busClients, collectorInTmp, sleep, startCollector, waitFor, type TestEnv } from '../helpers.ts'

const TIERS = [
  { step_secs: 0.25, retention_secs: 600 },
  { step_secs: 1, retention_secs: 3600 },
]
// 'off': these tests must not depend on this machine's /var/spool/postfix (the Postfix queue
// gauges have their own test below, on a queue built by Postfix)
const HISTORY = { tiers: TIERS, postfix_queue_directory: 'off' }

async function traffic(t: Owner, env: TestEnv, c: Awaited<ReturnType<typeof startCollector>>, n: number) {
  const { pub } = await busClients(t, env)
  const before = c.internals.stats.messagesIn
  for (let i = 0; i < n; i++) {
    await pub.send(['am.snmp InMsgs C32 1', 'am.snmp ContentCleanMsgs C32 1', 'am.snmp InMsgsSize C64 2000'])
    await sleep(40)
  }
  await waitFor(() => c.internals.stats.messagesIn >= before + n, 'messages ingested')
}

async function get(c: Awaited<ReturnType<typeof startCollector>>, path: string) {
  const r = await fetch(`http://${c.internals.httpAddress}${path}`, { signal: AbortSignal.timeout(10_000) })
  return { status: r.status, body: (await r.json()) as any }
}

const values = (r: any, name: string): (number | null)[] => r.series[name]?.values ?? []
const nums = (vs: (number | null)[]) => vs.filter((v): v is number => v !== null)

test('a collector restart with its totals lost: a reset mark in /api/history and no negative rate', async (t) => {
  const began = Date.now()
  const { dir, env, c: c1 } = await collectorInTmp(t, 'history', {}, { history: HISTORY, persist_interval_secs: 3600 })
  await traffic(t, env, c1, 20)
  await c1.internals.minderRound() // ProcAll/ProcBusy/ProcIdle gauges, as every nanny round
  await sleep(1200)
  const mid = await get(c1, `/api/history?names=InMsgs,ProcAll&from=${began}&step=250ms`)
  assert.equal(mid.status, 200, JSON.stringify(mid.body))
  assert.ok(
    nums(values(mid.body, 'InMsgs')).some((v) => v > 0),
    JSON.stringify(mid.body),
  )
  assert.equal(mid.body.series.ProcAll.kind, 'gauge')
  assert.deepEqual(mid.body.restarts, [])

  await c1.stop()
  assert.ok(existsSync(join(dir, 'history.db')))
  await rm(join(dir, 'collector-totals.json')) // the totals are lost
  const restartedAt = Date.now()
  const c2 = await startCollector(t, env)
  await traffic(t, env, c2, 10)
  await sleep(1200)
  assert.equal((await get(c2, '/api/counters')).body.counters.InMsgs.value, 10)

  const q = `names=InMsgs,ContentCleanMsgs,InMsgsSize,ProcAll,MtaQueueEntriesActive&from=${began}`
  for (const step of ['250ms', '1s', '']) {
    const { status, body } = await get(c2, `/api/history?${q}${step ? `&step=${step}` : ''}`)
    assert.equal(status, 200, JSON.stringify(body))
    assert.equal(body.restarts.length, 1, `step ${step}: ${JSON.stringify(body.marks)}`)
    assert.ok(body.restarts[0] >= restartedAt, 'the mark is at the restart')
    assert.equal(body.marks[0].kind, 'reset')
    assert.match(body.marks[0].detail, /totals lost/)
    assert.deepEqual(body.missing, ['MtaQueueEntriesActive'])
    for (const n of ['InMsgs', 'ContentCleanMsgs', 'InMsgsSize']) {
      const vs = values(body, n)
      assert.equal(vs.length, body.t.length)
      assert.ok(
        nums(vs).every((v) => v >= 0),
        `step ${step} ${n}: ${JSON.stringify(vs)}`,
      )
      // counting resumed after the restart (t is a bucket's start: the bucket the restart fell in
      // holds what was counted after it)
      const after = vs.filter((v, i) => v !== null && body.t[i] + body.step > restartedAt)
      assert.ok(
        nums(after).some((v) => v > 0),
        `step ${step} ${n} after the restart: ${JSON.stringify(vs)}`,
      )
    }
    // the increase over the whole range is what was published (20 + 10), not more: no spike at the reset
    if (step === '250ms') {
      const total = nums(values(body, 'InMsgs')).reduce((a, v) => a + v * (body.step / 1000), 0)
      assert.ok(total <= 30 + 1e-6, `increase ${total}`)
    }
  }
  // parameters are checked
  const bad = await get(c2, '/api/history?names=InMsgs&from=tomorrow')
  assert.equal(bad.status, 400)
  assert.equal(bad.body.code, 'PARAM_INVALID')
  assert.match(bad.body.error, /from: expected/)
  assert.equal((await get(c2, '/api/history')).status, 400)
})

test('GET /api/history serves the Postfix queue entries of history.postfix_queue_directory as gauges', async (t) => {
  const missing = postfixMissing()
  if (missing) return t.skip(missing)
  const q = await makePostfixQueue(t, { deferred: 2, maildrop: 1 })
  const began = Date.now()
  const { c } = await collectorInTmp(
    t,
    'history-queue',
    {},
    { history: { tiers: TIERS, postfix_queue_directory: q.spool } },
  )
  const names = ['Maildrop', 'Incoming', 'Active', 'Deferred'].map((n) => `MtaQueueEntries${n}`)
  const body = await waitFor(async () => {
    const r = await get(c, `/api/history?names=${names.join(',')}&from=${began}&step=250ms`)
    return r.status === 200 && nums(values(r.body, names[3])).length >= 2 ? r.body : undefined
  }, 'queue gauges in /api/history')
  assert.deepEqual(body.missing, [])
  for (const n of names) {
    assert.equal(body.series[n].kind, 'gauge')
    assert.equal(body.series[n].max.length, body.t.length)
  }
  assert.deepEqual(
    names.map((n) => nums(values(body, n)).at(-1)),
    [1, 0, 0, 2],
  )
})
