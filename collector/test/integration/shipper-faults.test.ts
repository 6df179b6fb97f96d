// Faults (issue #10, Acceptance): the standalone shipper process (collector/src/shipper-main.ts)
// against a real redis-server and the real backends: kill -9 mid-batch and restart, Redis
// restarted with its persistence on, poison events, a second shipper started mid-run (and the
// first killed: orphan takeover), the engine down for a while. In every case
// indexed = produced − dead-lettered, 0 duplicates, every dead letter has a reason.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { createServer, connect, type Server, type Socket } from 'node:net'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import {
  createScope,
  freePort,
  redisCommand,
  spawnService,
  startRedis,
  tmpDir,
  waitFor,
  type Owner,
  type ServiceProcess,
} from '../../../test/harness/index.ts'
import { engineRequest, requireEngine, type SearchEngineInstance } from '../../../test/harness/search-engine.ts'
import { createEmbeddedBackend } from '../../src/backends/embedded/store.ts'
import { amavisEvent, events, produce } from '../shipper/events.ts'
import { startAofRedis } from '../shipper/aof-redis.ts'

const ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)))
const KEY = 'amavis-log'
const ENGINE_DOWN_MS = Number(process.env.VIGIL_FAULT_ENGINE_DOWN_MS ?? 60_000)

interface RedisLike {
  host: string
  port: number
  server: string
}

function client(t: Owner, r: RedisLike): Redis {
  const c = new Redis({ host: r.host, port: r.port, maxRetriesPerRequest: 1 })
  c.on('error', () => {})
  t.after(() => c.disconnect())
  return c
}

interface Setup {
  home: string
  config: string
  storePath: string
}

async function setup(
  t: Owner,
  r: RedisLike,
  o: { search?: Record<string, unknown>; shipper?: Record<string, unknown>; geoip?: boolean } = {},
): Promise<Setup> {
  const home = await tmpDir(t, 'shipper-home')
  const storePath = join(home, 'search', 'events.sqlite')
  const cfg = {
    home,
    myhostname: 'mx-test',
    log_level: 'debug',
    storage_redis_dsn: [{ server: r.server, db_id: 0 }],
    redis_logging_key: KEY,
    collector: {
      search: { backend: 'embedded', embedded_vacuum: false, ...o.search },
      shipper: {
        batch_max_events: 100,
        batch_wait_ms: 50,
        retry_min_ms: 50,
        retry_max_ms: 1000,
        orphan_after_secs: 5,
        ...o.shipper,
      },
      geoip: { enabled: o.geoip ?? false },
    },
  }
  const config = join(home, 'vigil.yaml')
  writeFileSync(config, JSON.stringify(cfg, null, 2)) // JSON is YAML
  return { home, config, storePath }
}

let runs = 0
/** Starts shipper-main; ready once its heartbeat key exists in Redis. */
async function runShipper(
  t: Owner,
  s: Setup,
  r: RedisLike,
  id = 'mx-test',
  extra: string[] = [],
): Promise<ServiceProcess> {
  const n = ++runs
  return spawnService({
    t,
    name: `vigil-shipper-${id}-${n}`,
    cmd: process.execPath,
    args: [
      '--import',
      'tsx',
      join(ROOT, 'collector/src/shipper-main.ts'),
      '--config',
      s.config,
      '--home',
      s.home,
      ...extra,
    ],
    cwd: ROOT,
    env: { ...process.env, TZ: 'UTC' },
    logFile: join(s.home, `shipper-${id}-${n}.log`),
    readyTimeoutMs: 30_000,
    graceMs: 15_000,
    ready: async () => (await redisCommand(r.host, r.port, ['EXISTS', `${KEY}:shipper:${id}`], 1000)) === ':1\r\n',
  })
}

/** Reads the Redis totals of the shipper scripts. */
async function totals(c: Redis): Promise<Record<string, number>> {
  const h = await c.hgetall(`${KEY}:stats`)
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Number(v)]))
}

/** Waits until the list and every in-flight list are empty and taken = indexed + dead_lettered. */
async function drained(c: Redis, expectTaken: number, timeoutMs = 30_000): Promise<Record<string, number>> {
  return waitFor(
    async () => {
      const q = await c.llen(KEY)
      const ids = await c.smembers(`${KEY}:shippers`)
      let inflight = 0
      for (const id of ids) inflight += await c.llen(`${KEY}:inflight:${id}`)
      const tot = await totals(c)
      return q === 0 &&
        inflight === 0 &&
        tot.taken === expectTaken &&
        tot.taken === (tot.indexed ?? 0) + (tot.dead_lettered ?? 0)
        ? tot
        : undefined
    },
    { timeoutMs, intervalMs: 100, what: `drained (${expectTaken} taken and acknowledged)` },
  )
}

/** Every document of the embedded store: [event_id…] (search_after paging). */
async function embeddedIds(path: string): Promise<{ total: number; ids: string[]; docs: Record<string, unknown>[] }> {
  const b = createEmbeddedBackend({ path, indexPrefix: 'amavis-', maxSizeBytes: 1 << 30, vacuum: false })
  try {
    const ids: string[] = []
    const docs: Record<string, unknown>[] = []
    let total = 0
    let after: string | undefined
    for (;;) {
      const res = await b.search({
        query: { kind: 'all' },
        size: 1000,
        sort: [{ field: '@timestamp', order: 'asc' }],
        searchAfter: after,
      })
      total = res.total
      for (const h of res.hits) {
        ids.push(String(h.event_id))
        docs.push(h)
      }
      if (!res.next || res.hits.length === 0) break
      after = res.next
    }
    return { total, ids, docs }
  } finally {
    await b.close()
  }
}

function assertExact(stored: { total: number; ids: string[] }, expected: number) {
  assert.equal(stored.total, expected, `stored = produced − dead-lettered (${expected})`)
  assert.equal(stored.ids.length, expected)
  assert.equal(new Set(stored.ids).size, expected, '0 duplicates')
}

async function deadLetters(c: Redis): Promise<Record<string, unknown>[]> {
  return (await c.lrange(`${KEY}:dead`, 0, -1)).map((l) => JSON.parse(l) as Record<string, unknown>)
}

test('kill -9 of the shipper mid-batch, restarted: nothing lost, 0 duplicates', async (t) => {
  const r = await startRedis(t)
  const c = client(t, r)
  const N = 3000
  await produce(c, KEY, events(0, N))
  const s = await setup(t, r)
  // Three kills with a batch in flight. Between the check and the signal the shipper may just have
  // acknowledged its batch: such a kill is not mid-batch, so it does not count and is made again.
  let kills = 0
  for (let attempt = 0; kills < 3 && attempt < 10; attempt++) {
    const p = await runShipper(t, s, r)
    // Mid-batch: a batch is in flight and a part of the list is already acknowledged.
    await waitFor(
      async () =>
        (await c.llen(`${KEY}:inflight:mx-test`)) > 0 && ((await totals(c)).indexed ?? 0) >= (kills + 1) * 300,
      { timeoutMs: 20_000, intervalMs: 2, what: 'a batch in flight' },
    )
    process.kill(p.pid, 'SIGKILL')
    await p.exited
    if ((await c.llen(`${KEY}:inflight:mx-test`)) > 0) kills++
  }
  assert.equal(kills, 3, 'killed three times with a batch in flight')
  const p = await runShipper(t, s, r)
  const tot = await drained(c, N)
  assert.ok(tot.redelivered >= kills, 'the batches in flight were sent again')
  assert.equal(tot.dead_lettered ?? 0, 0)
  await p.stop()
  assert.equal(p.child.exitCode, 0, 'graceful stop exits 0')
  assertExact(await embeddedIds(s.storePath), N)
})

test('Redis restarted with appendonly while shipping: nothing lost, 0 duplicates', async (t) => {
  const r = await startAofRedis(t)
  const c = client(t, r)
  const s = await setup(t, r, { shipper: { batch_max_events: 50 } })
  await produce(c, KEY, events(0, 1500))
  const p = await runShipper(t, s, r)
  await waitFor(async () => ((await totals(c)).indexed ?? 0) >= 200, { what: 'shipping' })
  await r.restart(1000)
  await produce(c, KEY, events(1500, 500))
  await drained(c, 2000)
  await p.stop()
  assert.equal(p.child.exitCode, 0)
  assertExact(await embeddedIds(s.storePath), 2000)
  assert.equal((await deadLetters(c)).length, 0)
})

test('poison events: invalid JSON and a mapping conflict are dead-lettered with reasons; a 1 MiB subject is indexed', async (t) => {
  const r = await startRedis(t)
  const c = client(t, r)
  const s = await setup(t, r, { geoip: true })
  const bigSubject = JSON.stringify(amavisEvent(5000, { subject: 'S'.repeat(1024 * 1024) }))
  const poison = [
    '{"@timestamp":"2025-10-09T08:53:20.250Z", "type": "amavis", ',
    'not json at all',
    JSON.stringify(amavisEvent(5001, { size: 'abc' })),
    JSON.stringify({ type: 'amavis', message: 'no time' }),
  ]
  const good = events(0, 500)
  const all = [
    ...good.slice(0, 200),
    ...poison.slice(0, 2),
    bigSubject,
    ...good.slice(200, 400),
    ...poison.slice(2),
    ...good.slice(400),
  ]
  await produce(c, KEY, all)
  const p = await runShipper(t, s, r)
  const tot = await drained(c, all.length)
  await p.stop()
  const dead = await deadLetters(c)
  assert.equal(tot.dead_lettered, dead.length)
  for (const d of dead)
    assert.ok(typeof d.reason === 'string' && (d.reason as string).length > 0, 'every dead letter has a reason')
  const reasons = dead.map((d) => d.reason as string)
  assert.equal(reasons.filter((x) => x.startsWith('invalid JSON')).length, 2)
  assert.ok(reasons.some((x) => x.startsWith('no usable @timestamp')))
  const conflict = dead.find((d) => (d.item as string).includes('"size":"abc"'))
  assert.ok(conflict, 'the mapping conflict is a dead letter')
  assert.match(conflict.reason as string, /mapper_parsing_exception/)
  assert.equal(conflict.code, 400)
  assert.equal(dead.length, 4)
  const stored = await embeddedIds(s.storePath)
  assertExact(stored, all.length - dead.length)
  const big = stored.docs.find((d) => typeof d.subject === 'string' && (d.subject as string).length === 1024 * 1024)
  assert.ok(big, 'the 1 MiB subject is indexed, whole')
  // The same dead letters in the file.
  const { readFile } = await import('node:fs/promises')
  const file = (await readFile(join(s.home, 'shipper-dead-letter.ndjson'), 'utf8')).trim().split('\n')
  assert.equal(file.length, 4)
})

test('a second shipper started mid-run, then the first killed: its batch is adopted, nothing lost', async (t) => {
  const r = await startRedis(t)
  const c = client(t, r)
  const s = await setup(t, r, { shipper: { batch_max_events: 50 } })
  const sB = { ...s, config: join(s.home, 'vigil-b.yaml') }
  const cfgB = JSON.parse((await import('node:fs')).readFileSync(s.config, 'utf8'))
  cfgB.collector.shipper.id = 'mx-b'
  writeFileSync(sB.config, JSON.stringify(cfgB))
  const N = 4000
  await produce(c, KEY, events(0, N / 2))
  const a = await runShipper(t, s, r)
  await waitFor(async () => ((await totals(c)).indexed ?? 0) >= 300, { what: 'A shipping' })
  const b = await runShipper(t, sB, r, 'mx-b')
  await produce(c, KEY, events(N / 2, N / 2))
  await waitFor(async () => (await c.llen(`${KEY}:inflight:mx-b`)) > 0, { intervalMs: 2, what: 'B shipping' })
  await waitFor(async () => (await c.llen(`${KEY}:inflight:mx-test`)) > 0, { intervalMs: 2, what: 'A mid-batch' })
  process.kill(a.pid, 'SIGKILL')
  await a.exited
  const orphaned = await c.llen(`${KEY}:inflight:mx-test`)
  const tot = await drained(c, N, 40_000)
  assert.equal(await c.exists(`${KEY}:inflight:mx-test`), 0, 'A’s in-flight list was adopted')
  assert.equal(await c.sismember(`${KEY}:shippers`, 'mx-test'), 0)
  if (orphaned > 0) assert.ok(tot.taken_over >= orphaned)
  await b.stop()
  assert.equal(b.child.exitCode, 0)
  assertExact(await embeddedIds(s.storePath), N)
})

// ---- a real engine ------------------------------------------------------------------------------

/** A TCP relay in front of the engine, to take it away (connections refused) and bring it back. */
async function createRelay(
  t: Owner,
  target: URL,
): Promise<{ url: string; down(): Promise<void>; up(): Promise<void> }> {
  const port = await freePort('127.0.0.1')
  const sockets = new Set<Socket>()
  let server: Server | undefined
  const up = () =>
    new Promise<void>((res, rej) => {
      server = createServer((inbound) => {
        const outbound = connect(Number(target.port), target.hostname)
        for (const s of [inbound, outbound]) {
          sockets.add(s)
          s.on('close', () => sockets.delete(s))
          s.on('error', () => s.destroy())
        }
        inbound.pipe(outbound).pipe(inbound)
      })
      server.once('error', rej)
      server.listen(port, '127.0.0.1', () => res())
    })
  const down = async () => {
    const s = server
    server = undefined
    for (const x of sockets) x.destroy()
    if (s) await new Promise<void>((res) => s.close(() => res()))
  }
  await up()
  t.after(down)
  return { url: `http://127.0.0.1:${port}`, down, up }
}

const engineScope = createScope()
let engine: SearchEngineInstance | undefined
let engineError: unknown
let openSearch: SearchEngineInstance | undefined
let openSearchError: unknown
before(async () => {
  ;[engine, openSearch] = await Promise.all([
    requireEngine('elasticsearch', engineScope).catch((err) => void (engineError = err)),
    requireEngine('opensearch', engineScope).catch((err) => void (openSearchError = err)),
  ])
})
after(() => engineScope.close())

async function engineDocs(url: string, prefix: string): Promise<{ total: number; ids: string[] }> {
  await engineRequest(url, 'POST', `/${prefix}*/_refresh`)
  const res = await engineRequest(url, 'POST', `/${prefix}*/_search`, {
    size: 10000,
    track_total_hits: true,
    _source: ['event_id'],
    query: { match_all: {} },
  })
  assert.equal(res.status, 200, JSON.stringify(res.body).slice(0, 500))
  return {
    total: res.body.hits.total.value as number,
    ids: (res.body.hits.hits as { _id: string; _source: { event_id: string } }[]).map((h) => h._source.event_id),
  }
}

async function dropPrefix(url: string, prefix: string) {
  await engineRequest(url, 'DELETE', `/${prefix}*`)
  await engineRequest(url, 'DELETE', `/_index_template/vigil-${prefix}`)
}

for (const kind of ['elasticsearch', 'opensearch'] as const)
  test(`${kind} down for ${ENGINE_DOWN_MS / 1000} s: events wait queued and in flight, none dead-lettered, then all indexed once`, async (t) => {
    const e = kind === 'elasticsearch' ? engine : openSearch
    assert.ok(
      e,
      `no ${kind} (npm test provisions one): ${((kind === 'elasticsearch' ? engineError : openSearchError) as Error)?.message}`,
    )
    const r = await startRedis(t)
    const c = client(t, r)
    const relay = await createRelay(t, new URL(e.url))
    const prefix = `shipfault-${process.pid}-down-${kind}-`
    t.after(() => dropPrefix(e.url, prefix))
    const s = await setup(t, r, {
      search: { backend: kind, nodes: [relay.url], index_prefix: prefix, request_timeout_ms: 5000 },
      shipper: { retry_max_ms: 5000 },
    })
    await produce(c, KEY, events(0, 1000))
    const p = await runShipper(t, s, r)
    await waitFor(async () => ((await totals(c)).indexed ?? 0) >= 300, { timeoutMs: 30_000, what: 'shipping' })
    await relay.down()
    await produce(c, KEY, events(1000, 1000))
    const downAt = Date.now()
    while (Date.now() - downAt < ENGINE_DOWN_MS) {
      await new Promise((res) => setTimeout(res, Math.min(5000, ENGINE_DOWN_MS)))
      assert.equal(await c.llen(`${KEY}:dead`), 0, 'nothing dead-lettered during the outage')
      const queued = await c.llen(KEY)
      const inflight = await c.llen(`${KEY}:inflight:mx-test`)
      const tot = await totals(c)
      assert.equal(queued + inflight + tot.indexed, 2000, 'every event is queued, in flight or indexed')
    }
    await relay.up()
    const tot = await drained(c, 2000, 120_000)
    assert.equal(tot.dead_lettered ?? 0, 0)
    await p.stop()
    assert.equal(p.child.exitCode, 0)
    const docs = await engineDocs(e.url, prefix)
    assertExact(docs, 2000)
    const log = await p.logTail(10_000)
    assert.match(log, /Backend unavailable/)
    assert.match(log, /Backend reachable again/)
  })

test('poison events on Elasticsearch: the mapping conflict is rejected by the engine and dead-lettered; a 1 MiB subject and a key written twice are indexed', async (t) => {
  assert.ok(engine, `no Elasticsearch (npm test provisions one): ${(engineError as Error)?.message}`)
  const r = await startRedis(t)
  const c = client(t, r)
  const prefix = `shipfault-${process.pid}-poison-`
  t.after(() => dropPrefix(engine!.url, prefix))
  const s = await setup(t, r, { search: { backend: 'elasticsearch', nodes: [engine.url], index_prefix: prefix } })
  const all = [
    ...events(0, 100),
    '{"broken": ',
    JSON.stringify(amavisEvent(7001, { size: 'abc' })),
    JSON.stringify(amavisEvent(7002, { subject: 'S'.repeat(1024 * 1024) })),
    // A key twice: JSON.parse keeps the last, Elasticsearch rejects the text (duplicate field), so
    // the shipper's verbatim form is refused and the serialised one stored.
    JSON.stringify(amavisEvent(7005, { subject: 'second' })).replace(/^\{/, '{"subject":"first",'),
    ...events(100, 100),
  ]
  await produce(c, KEY, all)
  const p = await runShipper(t, s, r)
  const tot = await drained(c, all.length, 60_000)
  await p.stop()
  const dead = await deadLetters(c)
  assert.equal(dead.length, 2)
  assert.equal(tot.dead_lettered, 2)
  for (const d of dead) assert.ok((d.reason as string).length > 0)
  const conflict = dead.find((d) => (d.item as string).includes('"size":"abc"'))
  assert.ok(conflict)
  assert.equal(conflict.code, 400)
  assert.match(conflict.reason as string, /mapper_parsing_exception|document_parsing_exception/)
  assertExact(await engineDocs(engine.url, prefix), all.length - 2)
  const twice = await engineRequest(engine.url, 'POST', `/${prefix}*/_search`, {
    query: { term: { mail_id: amavisEvent(7005).mail_id } },
  })
  assert.deepEqual(
    (twice.body.hits.hits as { _source: { subject: string } }[]).map((h) => h._source.subject),
    ['second'],
    'the key written twice is stored once, with the value JSON.parse keeps',
  )
  const first = await engineRequest(engine.url, 'POST', `/${prefix}*/_search`, {
    query: { bool: { filter: [{ term: { mail_id: amavisEvent(7005).mail_id } }, { match: { subject: 'first' } }] } },
  })
  assert.equal(first.body.hits.total.value, 0, 'the first value is not indexed: the text itself was not stored')
})
