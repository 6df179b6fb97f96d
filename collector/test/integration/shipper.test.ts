// The shipper against a real redis-server: acknowledgement, batching by count and bytes, retries,
// dead letters, back-pressure, crash redelivery, orphan takeover, several shippers, graceful stop.
// The backend is the scripted double of our Backend interface (collector/test/shipper/); the real
// backends are exercised in shipper-faults.test.ts.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { createLogger } from '@vigil/protocol'
import { startRedis, tmpDir, waitFor, type Owner } from '../../../test/harness/index.ts'
import { collectorConfigSchema, type ShipperConfig } from '../../src/config.ts'
import { createShipper, type Shipper } from '../../src/shipper/shipper.ts'
import { createScriptedBackend, type ScriptedBackend } from '../shipper/scripted-backend.ts'
import { amavisEvent, events, produce } from '../shipper/events.ts'
import { startAofRedis } from '../shipper/aof-redis.ts'

type RedisLike = { host: string; port: number; server: string }

const KEY = 'amavis-log'

function shipperCfg(over: Partial<ShipperConfig> = {}): ShipperConfig {
  return { ...collectorConfigSchema.parse({}).shipper, retry_min_ms: 20, retry_max_ms: 200, ...over }
}

function client(t: Owner, r: RedisLike): Redis {
  const c = new Redis({ host: r.host, port: r.port, maxRetriesPerRequest: 1 })
  c.on('error', () => {})
  t.after(() => c.disconnect())
  return c
}

interface Started {
  shipper: Shipper
  backend: ScriptedBackend
  deadFile: string
  logs: string[]
  indexed: string[]
}

async function ship(
  t: Owner,
  r: RedisLike,
  o: {
    id?: string
    cfg?: Partial<ShipperConfig>
    backend?: ScriptedBackend
    stopTimeoutMs?: number
    maxItemBytes?: number
  } = {},
): Promise<Started> {
  const dir = await tmpDir(t, 'shipper')
  const backend = o.backend ?? createScriptedBackend()
  const logs: string[] = []
  const indexed: string[] = []
  const deadFile = join(dir, 'shipper-dead-letter.ndjson')
  const shipper = createShipper({
    redis: { server: r.server, db: 0 },
    key: KEY,
    id: o.id ?? 'mx1',
    backend,
    cfg: shipperCfg(o.cfg),
    indexPrefix: 'amavis-',
    deadLetterFile: deadFile,
    log: createLogger({ name: 'shipper', level: 'debug', write: (l) => logs.push(l) }),
    onIndexed: (docs) => indexed.push(...docs.map((d) => d.id)),
    stopTimeoutMs: o.stopTimeoutMs ?? 3000,
    maxItemBytes: o.maxItemBytes,
  })
  let stopped = false
  const stop = shipper.stop.bind(shipper)
  shipper.stop = async () => {
    if (stopped) return
    stopped = true
    await stop()
  }
  t.after(() => shipper.stop())
  await shipper.start()
  return { shipper, backend, deadFile, logs, indexed }
}

const lines = async (file: string) =>
  (await readFile(file, 'utf8').catch(() => ''))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>)

test('drains the list with acknowledgement: every event stored once, lists empty, totals reconcile', async (t) => {
  const r = await startRedis(t)
  const c = client(t, r)
  await produce(c, KEY, events(0, 2500))
  const s = await ship(t, r, { cfg: { batch_max_events: 300 } })
  await waitFor(() => s.backend.docs.size === 2500, { timeoutMs: 20_000, what: '2500 docs' })
  await waitFor(async () => (await s.shipper.queueStatus()).totals.indexed === 2500, { what: 'acks' })
  const q = await s.shipper.queueStatus()
  assert.equal(q.queued, 0)
  assert.equal(q.inFlight, 0)
  assert.equal(q.unaccounted, 0)
  assert.deepEqual(q.totals, { taken: 2500, indexed: 2500, deadLettered: 0, redelivered: 0, takenOver: 0 })
  assert.ok(
    s.backend.requests.every((b) => b.length <= 300),
    'batch_max_events respected',
  )
  assert.equal(s.backend.okAnswers, 2500, 'nothing sent twice')
  const st = s.shipper.stats()
  assert.equal(st.taken, 2500)
  assert.equal(st.indexed, 2500)
  assert.equal(st.backlogAtStart, 2500)
  assert.equal(st.deadLettered, 0)
  assert.equal(new Set(s.indexed).size, 2500, 'onIndexed saw every document')
  assert.equal(await c.llen(`${KEY}:inflight:mx1`), 0)
  assert.equal(await c.sismember(`${KEY}:shippers`, 'mx1'), 1)
  assert.ok((await c.pttl(`${KEY}:shipper:mx1`)) > 0, 'heartbeat alive')
  await s.shipper.stop()
  assert.equal(await c.sismember(`${KEY}:shippers`, 'mx1'), 0, 'a clean stop unregisters')
  assert.equal(await c.exists(`${KEY}:shipper:mx1`), 0)
})

test('bulk requests are sized by bytes too; an item larger than the cap goes alone', async (t) => {
  const r = await startRedis(t)
  const c = client(t, r)
  const big = JSON.stringify(amavisEvent(99, { subject: 'x'.repeat(5000) }))
  await produce(c, KEY, [...events(0, 40), big, ...events(40, 40)])
  const s = await ship(t, r, { cfg: { batch_max_events: 1000, batch_max_bytes: 4096 } })
  await waitFor(() => s.backend.docs.size === 81, { what: '81 docs' })
  for (const req of s.backend.requests) {
    const bytes = req.reduce((a, d) => a + Buffer.byteLength(d.json), 0)
    assert.ok(req.length === 1 || bytes <= 4096, `request of ${req.length} docs, ${bytes} bytes`)
  }
  assert.ok(s.backend.requests.some((req) => req.length === 1 && req[0].json.length > 5000))
  assert.ok(s.backend.requests.length >= (81 * 400) / 4096, 'split into several requests')
})

test('a partial batch goes out after batch_wait_ms; a trickle is batched', async (t) => {
  const r = await startRedis(t)
  const c = client(t, r)
  const s = await ship(t, r, { cfg: { batch_wait_ms: 300 } })
  await new Promise((res) => setTimeout(res, 100))
  const t0 = Date.now()
  await produce(c, KEY, events(0, 1))
  for (let i = 1; i < 5; i++) {
    await new Promise((res) => setTimeout(res, 30))
    await produce(c, KEY, events(i, 1))
  }
  await waitFor(() => s.backend.docs.size === 5, { what: '5 docs' })
  const waited = Date.now() - t0
  assert.ok(waited >= 250, `sent after ~batch_wait_ms (${waited} ms)`)
  assert.ok(waited < 1500, `not much later (${waited} ms)`)
  assert.equal(s.backend.requests.length, 1, 'the five events trickling in form one batch')
})

test('retry items are re-sent with backoff while they stay in flight; nothing new is taken meanwhile', async (t) => {
  const r = await startRedis(t)
  const c = client(t, r)
  await produce(c, KEY, events(0, 100))
  const backend = createScriptedBackend()
  // Every 10th document: 429 three times, then ok.
  const slow = new Set<string>()
  backend.script = (d, attempt) => {
    const i = Number((d.doc.subject as string).split(' ')[1])
    if (i % 10 === 0 && attempt <= 3) {
      slow.add(d.id)
      return { status: 'retry', code: 429, reason: 'es_rejected_execution_exception' }
    }
    return undefined
  }
  const s = await ship(t, r, { backend, cfg: { batch_max_events: 50, retry_min_ms: 100, retry_max_ms: 400 } })
  // While the first batch is unresolved, the second stays queued: back-pressure.
  await waitFor(() => backend.requests.length >= 2, { what: 'a retry round' })
  const q = await s.shipper.queueStatus()
  assert.equal(q.inFlight, 50)
  assert.equal(q.queued, 50)
  await waitFor(() => backend.docs.size === 100, { timeoutMs: 10_000, what: '100 docs' })
  assert.equal(slow.size, 10)
  for (const id of slow) assert.equal(backend.attempts.get(id), 4)
  assert.equal(s.shipper.stats().retried, 30)
  assert.equal(s.shipper.stats().deadLettered, 0)
  // Retry rounds re-send only the retried items.
  assert.ok(backend.requests.slice(1, 4).every((req) => req.length === 5))
})

test('rejects and 5xx after max_item_attempts are dead-lettered, to the Redis list and the file, with reasons', async (t) => {
  const r = await startRedis(t)
  const c = client(t, r)
  const poison = ['{"@timestamp": broken', '[1,2,3]', JSON.stringify({ type: 'amavis' })]
  const conflict = JSON.stringify(amavisEvent(1000, { size: 'abc' }))
  const failing = JSON.stringify(amavisEvent(1001, { subject: 'always 500' }))
  const huge = JSON.stringify(amavisEvent(1002, { subject: 'y'.repeat(300 * 1024) }))
  const full = JSON.stringify(amavisEvent(1003, { subject: 'store full' }))
  await produce(c, KEY, [...events(0, 10), ...poison, conflict, failing, huge, full, ...events(10, 10)])
  const backend = createScriptedBackend()
  backend.script = (d, attempt) => {
    if (d.doc.size === 'abc') return { status: 'reject', code: 400, reason: 'mapper_parsing_exception: field [size]' }
    if (d.doc.subject === 'always 500') return { status: 'retry', code: 500, reason: 'internal error' }
    if (d.doc.subject === 'store full' && attempt <= 5)
      return { status: 'retry', code: 507, reason: 'embedded store full' }
    return undefined
  }
  const s = await ship(t, r, { backend, cfg: { max_item_attempts: 3 }, maxItemBytes: 200 * 1024 })
  await waitFor(async () => (await s.shipper.queueStatus()).totals.indexed === 21, { what: '21 indexed' })
  assert.equal(backend.docs.size, 21, 'a 507 (store full) is retried past max_item_attempts, not dead-lettered')
  const inRedis = (await c.lrange(`${KEY}:dead`, 0, -1)).map((l) => JSON.parse(l) as Record<string, unknown>)
  const inFile = await lines(s.deadFile)
  assert.equal(inRedis.length, 6)
  assert.deepEqual(inFile, inRedis, 'the same records in the file')
  for (const d of inRedis) {
    assert.ok(typeof d.reason === 'string' && d.reason.length > 0, 'every dead letter has a reason')
    assert.equal(d.shipper, 'mx1')
    assert.ok(!Number.isNaN(Date.parse(d.at as string)))
  }
  const byClass = Object.fromEntries(inRedis.map((d) => [d.reason_class, d]))
  assert.match(byClass.invalid_json.reason as string, /^invalid JSON/)
  assert.equal(byClass.invalid_json.item, poison[0])
  assert.equal(byClass.not_object.item, poison[1])
  assert.equal(byClass.no_timestamp.item, poison[2])
  assert.equal(byClass.rejected.code, 400)
  assert.match(byClass.rejected.reason as string, /mapper_parsing_exception/)
  assert.equal(byClass.retries_exhausted.code, 500)
  assert.match(byClass.retries_exhausted.reason as string, /3 attempts/)
  assert.equal(byClass.oversize.truncated, true, 'items over 256 KiB are cut and flagged')
  assert.equal(byClass.oversize.bytes, Buffer.byteLength(huge))
  assert.equal(Buffer.byteLength(byClass.oversize.item as string), 256 * 1024)
  assert.deepEqual(s.shipper.stats().deadLetteredByReason, {
    invalid_json: 1,
    not_object: 1,
    no_timestamp: 1,
    rejected: 1,
    retries_exhausted: 1,
    oversize: 1,
  })
  const q = await s.shipper.queueStatus()
  assert.equal(q.deadLetterList, 6)
  assert.equal(q.unaccounted, 0)
  assert.equal(q.totals.taken, q.totals.indexed + q.totals.deadLettered)
})

test('backend unavailable: events stay queued and in flight, nothing dead-lettered, then all indexed', async (t) => {
  const r = await startRedis(t)
  const c = client(t, r)
  const backend = createScriptedBackend()
  backend.unavailable = true
  const s = await ship(t, r, { backend, cfg: { batch_max_events: 100, retry_min_ms: 20, retry_max_ms: 100 } })
  await produce(c, KEY, events(0, 500))
  await waitFor(() => !s.shipper.stats().backendUp, { what: 'backend marked down' })
  await new Promise((res) => setTimeout(res, 500))
  const q = await s.shipper.queueStatus()
  assert.equal(q.inFlight, 100, 'one batch in flight')
  assert.equal(q.queued, 400, 'the rest stays queued')
  assert.ok(q.oldestQueuedAgeSecs !== null && q.oldestQueuedAt !== null)
  assert.equal(s.shipper.stats().deadLettered, 0)
  assert.match(s.shipper.stats().lastError?.message ?? '', /backend down/)
  backend.unavailable = false
  await waitFor(() => backend.docs.size === 500, { timeoutMs: 10_000, what: '500 docs' })
  await waitFor(() => s.shipper.stats().backendUp, { what: 'backend up again' })
  assert.equal(s.shipper.stats().deadLettered, 0)
})

test('after a crash the in-flight items are sent again first', async (t) => {
  const r = await startRedis(t)
  const c = client(t, r)
  // The state a kill -9 leaves: a batch in the in-flight list, the rest queued.
  const crashed = events(0, 30)
  await c.rpush(`${KEY}:inflight:mx1`, ...crashed)
  await c.sadd(`${KEY}:shippers`, 'mx1')
  await produce(c, KEY, events(30, 70))
  const s = await ship(t, r)
  await waitFor(() => s.backend.docs.size === 100, { what: '100 docs' })
  const first = s.backend.requests[0].map((d) => d.json)
  assert.equal(first.length, 30)
  assert.deepEqual(
    s.backend.requests[0].map((d) => d.doc.subject),
    crashed.map((x) => JSON.parse(x).subject),
    'the crashed batch goes first, in order',
  )
  assert.equal(s.shipper.stats().redelivered, 30)
  assert.equal(s.shipper.stats().taken, 70)
  assert.equal(s.shipper.stats().backlogAtStart, 100)
  await waitFor(async () => (await s.shipper.queueStatus()).inFlight === 0, { what: 'acked' })
})

test('a peer whose heartbeat expired has its in-flight list taken over; a live one is left alone', async (t) => {
  const r = await startRedis(t)
  const c = client(t, r)
  await c.sadd(`${KEY}:shippers`, 'dead-peer', 'live-peer')
  await c.rpush(`${KEY}:inflight:dead-peer`, ...events(0, 25))
  await c.rpush(`${KEY}:inflight:live-peer`, ...events(25, 5))
  await c.set(`${KEY}:shipper:live-peer`, 'x', 'PX', 60_000)
  const s = await ship(t, r, { id: 'mx2' })
  await waitFor(() => s.backend.docs.size === 25, { what: 'the dead peer’s 25 items' })
  assert.equal(await c.exists(`${KEY}:inflight:dead-peer`), 0)
  assert.equal(await c.sismember(`${KEY}:shippers`, 'dead-peer'), 0)
  assert.equal(await c.llen(`${KEY}:inflight:live-peer`), 5, 'a live peer keeps its batch')
  assert.equal(s.shipper.stats().takenOver, 25)
  assert.ok(s.logs.some((l) => l.includes('Took over')))
  const q = await s.shipper.queueStatus()
  assert.deepEqual(
    q.shippers.map((p) => [p.id, p.inFlight, p.alive]),
    [
      ['live-peer', 5, true],
      ['mx2', 0, true],
    ],
  )
  assert.equal(q.totals.takenOver, 25)
})

test('two shippers drain one list at once: each event stored once', async (t) => {
  const r = await startRedis(t)
  const c = client(t, r)
  const backend = createScriptedBackend()
  backend.delayMs = 5
  await produce(c, KEY, events(0, 1500))
  const a = await ship(t, r, { id: 'a', backend, cfg: { batch_max_events: 50 } })
  const b = await ship(t, r, { id: 'b', backend, cfg: { batch_max_events: 50 } })
  await produce(c, KEY, events(1500, 1500))
  await waitFor(() => backend.docs.size === 3000, { timeoutMs: 20_000, what: '3000 docs' })
  await waitFor(async () => (await a.shipper.queueStatus()).totals.indexed === 3000, { what: 'acks' })
  assert.equal(backend.okAnswers, 3000, 'no event sent by both')
  assert.ok(a.shipper.stats().indexed > 0 && b.shipper.stats().indexed > 0, 'both took part')
  assert.equal(a.shipper.stats().indexed + b.shipper.stats().indexed, 3000)
})

test('stop: finishes the current batch; with the backend down it gives up after the bound, items stay in flight', async (t) => {
  const r = await startRedis(t)
  const c = client(t, r)
  const backend = createScriptedBackend()
  backend.delayMs = 300
  await produce(c, KEY, events(0, 100))
  const s = await ship(t, r, { backend, cfg: { batch_max_events: 100 } })
  await waitFor(() => s.shipper.stats().inFlight === 100, { what: 'a batch in flight' })
  await s.shipper.stop()
  assert.equal(backend.docs.size, 100, 'the batch in flight was finished')
  assert.equal(await c.llen(`${KEY}:inflight:mx1`), 0, 'and acknowledged')

  // Second run: backend down; stop gives up after stopTimeoutMs and leaves the batch in flight.
  await produce(c, KEY, events(100, 50))
  const down = createScriptedBackend()
  down.unavailable = true
  const s2 = await ship(t, r, { backend: down, stopTimeoutMs: 500 })
  await waitFor(() => !s2.shipper.stats().backendUp, { what: 'backend down' })
  const t0 = Date.now()
  await s2.shipper.stop()
  assert.ok(Date.now() - t0 < 2500, `bounded stop (${Date.now() - t0} ms)`)
  assert.equal(await c.llen(`${KEY}:inflight:mx1`), 50, 'unresolved batch kept in flight')
  assert.equal(await c.exists(`${KEY}:shipper:mx1`), 0, 'heartbeat dropped so a peer can adopt it at once')
  assert.equal(await c.sismember(`${KEY}:shippers`, 'mx1'), 1)

  // Third run: sent again first.
  const s3 = await ship(t, r)
  await waitFor(() => s3.backend.docs.size === 50, { what: 'redelivered' })
  assert.equal(s3.shipper.stats().redelivered, 50)
})

test('Redis restarted (appendonly): the shipper reconnects and loses nothing', async (t) => {
  const r = await startAofRedis(t)
  const c = client(t, r)
  await produce(c, KEY, events(0, 300))
  const backend = createScriptedBackend()
  backend.delayMs = 20
  const s = await ship(t, r, { backend, cfg: { batch_max_events: 20 } })
  await waitFor(() => backend.docs.size >= 40, { what: 'some docs' })
  await r.restart(300)
  await waitFor(() => backend.docs.size === 300, { timeoutMs: 20_000, what: '300 docs after the restart' })
  await produce(c, KEY, events(300, 100))
  await waitFor(() => backend.docs.size === 400, { timeoutMs: 10_000, what: '400 docs' })
  await waitFor(async () => (await s.shipper.queueStatus()).inFlight === 0, { what: 'acked' })
  const q = await s.shipper.queueStatus()
  assert.equal(q.unaccounted, 0)
  assert.equal(q.queued, 0)
  assert.equal(q.totals.indexed, 400, 'the totals survived the restart too')
  assert.ok(
    s.logs.some((l) => l.includes('Redis unavailable')),
    'the outage was seen',
  )
})
