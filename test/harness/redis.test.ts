import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Redis } from 'ioredis'
import { startRedis } from './index.ts'

test('startRedis runs a real redis-server that stores values and reports its version', async (t) => {
  const redis = await startRedis(t)
  assert.equal(redis.url, `redis://127.0.0.1:${redis.port}`)
  const client = new Redis({ host: redis.host, port: redis.port, lazyConnect: true, maxRetriesPerRequest: 1 })
  t.after(() => client.disconnect())
  await client.connect()
  await client.set('vigil:harness', 'hello')
  assert.equal(await client.get('vigil:harness'), 'hello')
  await client.rpush('amavis-log', '{"a":1}', '{"a":2}')
  assert.deepEqual(await client.lrange('amavis-log', 0, -1), ['{"a":1}', '{"a":2}'])
  const info = await client.info('server')
  assert.match(info, /^redis_version:\d+\.\d+/m)
  assert.match(info, new RegExp(`^tcp_port:${redis.port}\\r?$`, 'm'))
  // The raw helper talks RESP too.
  assert.equal(await redis.command('GET', 'vigil:harness'), '$5\r\nhello\r\n')
})

test('stopping redis frees its port and the private instance does not persist data', async (t) => {
  const redis = await startRedis(t)
  assert.equal(await redis.command('CONFIG', 'GET', 'save'), '*2\r\n$4\r\nsave\r\n$0\r\n\r\n')
  await redis.stop()
  assert.equal(redis.process.running(), false)
  await assert.rejects(redis.command('PING'), /ECONNREFUSED/)
  await redis.stop() // idempotent
})

test('startRedis can also listen on a unix socket', async (t) => {
  const redis = await startRedis(t, { unixSocket: true })
  assert.ok(redis.socketPath)
  const client = new Redis({ path: redis.socketPath, lazyConnect: true, maxRetriesPerRequest: 1 })
  t.after(() => client.disconnect())
  await client.connect()
  assert.equal(await client.ping(), 'PONG')
})
