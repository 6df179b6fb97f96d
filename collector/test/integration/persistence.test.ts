// Totals survive a restart: the JSON file under <home> and, with storage_redis_dsn, a real
// redis-server from the harness.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { freePort, startRedis, tmpDir, type Owner } from '../../../test/harness/index.ts'
import {
  busClients,
  collectorInTmp,
  requester,
  startCollector,
  testConfig,
  text,
  waitFor,
  type TestEnv,
} from '../helpers.ts'

async function feed(t: Owner, env: TestEnv, c: Awaited<ReturnType<typeof startCollector>>, msgs: string[][]) {
  const { pub } = await busClients(t, env)
  const before = c.internals.stats.messagesIn
  for (const m of msgs) await pub.send(m)
  await waitFor(() => c.internals.stats.messagesIn >= before + msgs.length, 'messages ingested')
}

async function ask(t: Owner, env: TestEnv, q: string): Promise<string[]> {
  const req = requester(t, env.common.zmq.snmp)
  await req.send(q)
  return text(await req.receive())
}

const BURST = [
  ['am.snmp FLUSH'],
  [
    'am.snmp sysDescr STR amavis-2.13.0 (20230106)',
    'am.snmp sysUpTime INT 1700000000',
    'am.snmp sysName STR mx1.example.net',
  ],
  ['am.snmp InMsgs C32 1', 'am.snmp InMsgsSize C64 2345', 'am.snmp TimeElapsedTotal C32 1954'],
  ['am.snmp InMsgs C32 1', 'am.snmp InMsgsSize C64 100', 'am.snmp TimeElapsedTotal C32 46'],
]

test('keeps the totals, amavisd sysUpTime included, across stop and start', async (t) => {
  const { dir, env, c: c1 } = await collectorInTmp(t, 'collector-persist')
  await feed(t, env, c1, BURST)
  await c1.internals.minderRound()
  const before = await ask(t, env, 'am.snmp?')
  const nannyBefore = await ask(t, env, 'am.nanny?')
  assert.ok(before.includes('am.snmp InMsgs C32 2'))
  await c1.stop()
  const saved = JSON.parse(await readFile(join(dir, 'collector-totals.json'), 'utf8'))
  assert.equal(saved.version, 1)

  const c2 = await startCollector(t, env)
  assert.deepEqual(await ask(t, env, 'am.snmp?'), before)
  assert.deepEqual(await ask(t, env, 'am.nanny?'), nannyBefore)
  assert.ok(before.includes('am.snmp sysUpTime INT 1700000000'))
  // counting continues from the restored totals
  await feed(t, env, c2, [['am.snmp InMsgs C32 1']])
  assert.ok((await ask(t, env, 'am.snmp?')).includes('am.snmp InMsgs C32 3'))
  // an amavisd cold start (FLUSH) still resets, sysUpTime back to the responder's own start
  await feed(t, env, c2, [['am.snmp FLUSH']])
  const after = await ask(t, env, 'am.snmp?')
  assert.ok(!after.some((f) => f.startsWith('am.snmp InMsgs ')))
  assert.ok(!after.includes('am.snmp sysUpTime INT 1700000000'))
})

test('starts with fresh totals, and says so, when the totals file is corrupt', async (t) => {
  const dir = await tmpDir(t, 'collector-persist')
  const env = testConfig(dir)
  await writeFile(join(dir, 'collector-totals.json'), '{"version":1,"hosts":{"mx":{"InMsgs":"oops"}}')
  await startCollector(t, env)
  const r = await ask(t, env, 'am.snmp?')
  assert.equal(r.length, 3)
  assert.match(env.logs.join('\n'), /Cannot load saved totals|invalid totals/)
})

test('persists the totals to Redis hashes and restores them when the file is gone', async (t) => {
  const redis = await startRedis(t)
  const dir = await tmpDir(t, 'collector-persist')
  const env = testConfig(dir, { storage_redis_dsn: [{ server: redis.server }] }, { redis_totals_key: 'vt' })
  const c1 = await startCollector(t, env)
  await feed(t, env, c1, BURST)
  const before = await ask(t, env, 'am.snmp?')
  await c1.internals.saveTotals()
  const hash = await redis.command('HGET', 'vt:mx-test', 'InMsgs')
  assert.match(hash, /\["C32",2\]/)
  assert.match(await redis.command('HGET', 'vt:meta', 'hosts'), /mx-test/)
  await c1.stop()
  await writeFile(join(dir, 'collector-totals.json'), JSON.stringify({ version: 1, savedAt: 1, hosts: {} }))
  await startCollector(t, env)
  assert.deepEqual(await ask(t, env, 'am.snmp?'), before, 'the newer Redis snapshot wins over the stale file')
})

test('starts, counts and stops within seconds when Redis is unreachable, keeping the file copy', async (t) => {
  const dir = await tmpDir(t, 'collector-persist')
  const port = await freePort() // nothing listens there
  const env = testConfig(dir, { storage_redis_dsn: [{ server: `127.0.0.1:${port}` }] })
  const t0 = Date.now()
  const c = await startCollector(t, env)
  assert.ok(Date.now() - t0 < 10000, 'start did not hang on Redis')
  await feed(t, env, c, [['am.snmp InMsgs C32 5']])
  const t1 = Date.now()
  await c.stop()
  assert.ok(Date.now() - t1 < 10000, 'stop did not hang on Redis')
  const saved = JSON.parse(await readFile(join(dir, 'collector-totals.json'), 'utf8'))
  assert.deepEqual(saved.hosts['mx-test'].InMsgs, ['C32', '5'])
  assert.match(env.logs.join('\n'), /Cannot load saved totals.*redis|Saving the totals failed.*redis/s)
})

test('keeps the responder start as sysUpTime across a restart when amavisd never sent its own', async (t) => {
  const { dir, env, c: c1 } = await collectorInTmp(t, 'collector-persist')
  const up1 = (await ask(t, env, 'am.snmp?')).find((f) => f.startsWith('am.snmp sysUpTime '))
  await c1.stop()
  await new Promise((r) => setTimeout(r, 1100))
  await startCollector(t, env)
  const up2 = (await ask(t, env, 'am.snmp?')).find((f) => f.startsWith('am.snmp sysUpTime '))
  assert.match(up1 ?? '', /^am\.snmp sysUpTime INT \d{10}$/)
  assert.equal(up2, up1)
})
