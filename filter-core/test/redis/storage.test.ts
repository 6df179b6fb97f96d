// Pen pals and IP reputation storage against a real private redis-server (spec §6): amavis's key
// layout after a final save, a reply found by sender/recipient and by In-Reply-To, NOSCRIPT
// recovery, and the IP reputation records and score of ten spam messages from one address.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Redis } from 'ioredis'
import { startRedis } from '../../../test/harness/index.ts'
import { LUA_SHA, createRedisStorage, ipReputationScore, penpalsAdjustment } from '../../src/redis/storage.ts'

const DAY = 24 * 3600

test('pen pals: anna@ (local) writes to bob@, and bob’s reply is found with amavis’s keys', async (t) => {
  const redis = await startRedis(t)
  const client = new Redis({ host: redis.host, port: redis.port, lazyConnect: false })
  t.after(() => client.disconnect())
  const st = createRedisStorage(client)
  const sent = 1_700_000_000
  assert.equal(await st.savePreliminary('MailIdAnna01', sent, 16 * DAY), true)
  assert.equal(await st.savePreliminary('MailIdAnna01', sent, 16 * DAY), false, 'HSETNX: a second id collides')
  await st.saveFinal({
    mailId: 'MailIdAnna01',
    ttlSecs: 16 * DAY,
    logId: '1234-01',
    messageId: '<m1@local.example>',
    clientAddr: '10.0.0.5',
    sender: 'Anna@Local.example',
    recipients: ['bob@remote.example'],
  })
  // ids come from INCR last.id.addr in Lua pairs() order: which address got 1 is not fixed
  const sid = await client.get('a:anna@local.example')
  const rid = await client.get('a:bob@remote.example')
  assert.deepEqual([sid, rid].sort(), ['1', '2'])
  assert.equal(await client.get('m:<m1@local.example>'), '1')
  assert.equal(await client.get(`sr:${sid}:${rid}`), 'MailIdAnna01')
  assert.equal(await client.get(`sm:${sid}::1`), 'MailIdAnna01')
  assert.deepEqual(await client.hgetall('MailIdAnna01'), { time: String(sent), log: '1234-01' })
  const ttl = await client.ttl(`sr:${sid}:${rid}`)
  assert.ok(ttl > 16 * DAY - 10 && ttl <= 16 * DAY, `ttl ${ttl}`)

  const reply = await st.queryPenpals({
    now: sent + 3600,
    nonce: 'MailIdBob002',
    sender: 'bob@remote.example',
    recipients: ['anna@local.example', 'carl@local.example'],
    messageIds: ['<m1@local.example>'],
  })
  assert.equal(reply.length, 2)
  assert.equal(reply[0].mailId, 'MailIdAnna01')
  assert.equal(reply[0].rxTime, sent)
  // amavis's Lua lists a mail_id once per key that hit it (sm: and sr:), with both hits each time
  const hit = `MailIdAnna01 (3600 s) mid=1 rid=${rid}`
  assert.equal(reply[0].report, `${hit}, ${hit}`)
  assert.equal(reply[1].rxTime, undefined, 'carl never wrote to bob')

  const byRid = await st.queryPenpals({
    now: sent + 60,
    nonce: 'MailIdBob003',
    sender: 'bob@remote.example',
    recipients: ['anna@local.example'],
    messageIds: [],
  })
  assert.equal(byRid[0].mailId, 'MailIdAnna01')
  assert.equal(byRid[0].report, `MailIdAnna01 (60 s) rid=${rid}`)
  const adj = penpalsAdjustment(7 * DAY, 7 * DAY, 10)
  assert.ok(Math.abs(adj + 5) < 1e-9, 'one half-life halves the bonus')
})

test('a final save with no qualifying recipient deletes the mail_id hash', async (t) => {
  const redis = await startRedis(t)
  const client = new Redis({ host: redis.host, port: redis.port })
  t.after(() => client.disconnect())
  const st = createRedisStorage(client)
  await st.savePreliminary('MailIdNone01', 1_700_000_000, 100)
  const base = { mailId: 'MailIdNone01', ttlSecs: 100, logId: 'x', messageId: '<a@b>', clientAddr: '', sender: 'a@b' }
  await st.saveFinal({ ...base, recipients: [] })
  assert.equal(await client.exists('MailIdNone01'), 0)
})

test('EVALSHA after SCRIPT FLUSH reloads the scripts and retries (NOSCRIPT)', async (t) => {
  const redis = await startRedis(t)
  const client = new Redis({ host: redis.host, port: redis.port })
  t.after(() => client.disconnect())
  const st = createRedisStorage(client)
  assert.equal(await st.savePreliminary('MailIdFlush1', 1_700_000_000, 100), true)
  await client.script('FLUSH')
  assert.deepEqual(await client.script('EXISTS', LUA_SHA.SAVE_INFO_PRELIMINARY), [0])
  assert.equal(await st.savePreliminary('MailIdFlush2', 1_700_000_000, 100), true)
  assert.deepEqual(await client.script('EXISTS', LUA_SHA.SAVE_INFO_PRELIMINARY), [1])
})

test('IP reputation: ten spam messages from one address give it a score ≥ 0.5 and amavis’s TTLs', async (t) => {
  const redis = await startRedis(t)
  const client = new Redis({ host: redis.host, port: redis.port })
  t.after(() => client.disconnect())
  const st = createRedisStorage(client)
  const ip = '192.0.2.77'
  const t0 = Math.floor(Date.now() / 1000)
  const [first] = await st.queryAndUpdateIps([ip], t0, 0)
  assert.deepEqual([first.n, first.ttl], [0, 3 * 3600], 'a new key lives 3 h')
  assert.equal(ipReputationScore(first), 0)
  await st.learnIps([ip], 's')
  for (let i = 1; i < 10; i++) {
    await st.queryAndUpdateIps([ip], t0 + i, 0)
    await st.learnIps([ip], 's')
  }
  const [rec] = await st.queryAndUpdateIps([ip], t0 + 10, 0)
  assert.deepEqual([rec.n, rec.s, rec.h, rec.b], [10, 10, 0, 0])
  assert.equal(rec.ttl, 3 * DAY - 10, 'n ≥ 8 would give 80 h, capped so that age + ttl ≤ 3 days')
  const score = ipReputationScore(rec)
  assert.ok(Math.abs(score - 0.9 * 10 ** 0.36) < 1e-9 && score >= 0.5, `score ${score}`)
  const h = await client.hgetall(`ip:${ip}`)
  assert.equal(h.tf, t0.toFixed(3))
  assert.equal(h.tl, (t0 + 10).toFixed(3))
  assert.ok((await client.ttl(`ip:${ip}`)) > 3 * DAY - 20)
  assert.equal(ipReputationScore({ n: 10, s: 1, h: 9, b: 0 }), 0, 'mostly ham: watered down below 0.05')
})
