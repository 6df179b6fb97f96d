// JSON event delivery: to a real Redis exactly as amavis (RPUSH + LTRIM -limit -1, oldest
// dropped), and to the dead-letter file whenever Redis cannot take an event. Nothing is dropped
// silently.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { commonConfigSchema, createLogger } from '@vigil/protocol'
import { freePort, plainMessage, sendMail, startRedis, startSmtpSink, tmpDir } from '../../../test/harness/index.ts'
import { createEventSink } from '../../src/telemetry/events.ts'
import { startFilterStack } from '../helpers.ts'

const quiet = createLogger({ name: 't', level: 'fatal', write: () => {} })
const until = async (pred: () => boolean | Promise<boolean>, ms = 5000) => {
  const end = Date.now() + ms
  while (!(await pred())) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 20))
  }
}

test('pushes events to Redis with RPUSH + LTRIM, keeping the newest limit events', async (t) => {
  const redis = await startRedis(t)
  const home = await tmpDir(t, 'vigil-ev-')
  const common = commonConfigSchema.parse({
    home,
    storage_redis_dsn: [{ server: `127.0.0.1:${redis.port}` }],
    redis_logging_key: 'amavis-log',
    redis_logging_queue_size_limit: 3,
  })
  const logs: string[] = []
  const log = createLogger({ name: 't', level: 'warn', write: (l) => logs.push(l) })
  const sink = createEventSink({
    common,
    eventsEndpoint: 'ipc:///nonexistent',
    deadLetterPath: join(home, 'dl.ndjson'),
    queueLimit: 10,
    log,
  })
  for (let i = 1; i <= 5; i++) sink.deliver(`{"n":${i}}`)
  await until(() => sink.stats().delivered === 5)
  const r = new Redis({ host: '127.0.0.1', port: redis.port })
  t.after(() => r.disconnect())
  assert.deepEqual(await r.lrange('amavis-log', 0, -1), ['{"n":3}', '{"n":4}', '{"n":5}'])
  assert.equal(sink.stats().trimmed, 2)
  await sink.close()
  assert.ok(
    logs.some((l) => l.includes('Oldest events trimmed from the Redis list')),
    logs.join('\n'),
  )
  assert.equal(existsSync(join(home, 'dl.ndjson')), false)
})

test('keeps events while Redis is unreachable, spools them at close, and the next worker delivers them', async (t) => {
  const home = await tmpDir(t, 'vigil-ev-')
  const port = await freePort()
  const common = commonConfigSchema.parse({ home, storage_redis_dsn: [{ server: `127.0.0.1:${port}` }] })
  const opts = {
    eventsEndpoint: 'ipc:///nonexistent',
    deadLetterPath: join(home, 'dl.ndjson'),
    queueLimit: 10,
    log: quiet,
  }
  const sink = createEventSink({ common, ...opts })
  sink.deliver('{"n":1}')
  sink.deliver('{"n":2}')
  await new Promise((r) => setTimeout(r, 1500)) // a few failed attempts
  assert.equal(sink.stats().deadLettered, 0)
  assert.equal(sink.stats().queued, 2)
  await sink.close()
  assert.equal(sink.stats().spooled, 2)
  assert.equal(existsSync(join(home, 'dl.ndjson')), false, 'nothing dead-lettered')

  const redis = await startRedis(t)
  const next = createEventSink({
    common: commonConfigSchema.parse({ home, storage_redis_dsn: [{ server: redis.server }] }),
    ...opts,
  })
  t.after(() => next.close())
  const r = new Redis(redis.port, redis.host)
  t.after(() => r.disconnect())
  await until(async () => (await r.llen('amavis-log')) === 2, 10000)
  assert.deepEqual((await r.lrange('amavis-log', 0, -1)).sort(), ['{"n":1}', '{"n":2}'])
})

// The collector channel (acknowledged, spooled, resent): test/telemetry/acked-sink.test.ts.

test('a filter with storage_redis_dsn logs one amavis JSON event per message to the Redis list', async (t) => {
  const [redis, smtp] = await Promise.all([startRedis(t), startSmtpSink(t)])
  const f = await startFilterStack(t, {
    forwardPort: smtp.port,
    common: { storage_redis_dsn: [{ server: `127.0.0.1:${redis.port}` }], redis_logging_key: 'amavis-log' },
    filter: { max_servers: 1 },
  })
  assert.equal(
    (
      await sendMail({
        port: f.port,
        from: 'a@example.org',
        to: ['b@example.net'],
        data: plainMessage({ subject: 'to redis' }),
      })
    ).finalCode,
    250,
  )
  const r = new Redis({ host: '127.0.0.1', port: redis.port })
  t.after(() => r.disconnect())
  await until(async () => (await r.llen('amavis-log')) === 1, 10000)
  const json = (await r.lrange('amavis-log', 0, -1))[0]
  assert.match(json, /^\{"@timestamp":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3,4}Z","action":\["PASS"\],/)
  const ev = JSON.parse(json)
  assert.equal(ev.subject, 'to redis')
  assert.equal(ev.subject_rot13, 'gb erqvf')
  assert.match(ev.mail_id, /^[A-Za-z0-9_-]{12}$/)
  assert.match(ev.log_id, /^\d{5}-01$/)
  assert.equal(ev.message, `${ev.log_id} PASS Clean a@example.org -> b@example.net`)
  assert.match(json, /"time_unix":\d+\.\d{3}[,}]/)
  const clients = await r.client('LIST')
  assert.match(String(clients), /name=amavis\[\d+\]/)
})
