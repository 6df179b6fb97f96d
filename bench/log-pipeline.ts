// The log pipeline (issue #10, Acceptance → Bench), three parts, each against a baseline measured
// in the same run; everything at the shipped defaults (collector/src/config.ts), loopback only.
//  ship:    events/s from Redis into each backend (embedded, OpenSearch, Elasticsearch) by the
//           shipper, against the backend's own bulk() of the same prepared documents in batches of
//           the shipper's size, sequentially, without Redis or the shipper (goal ≥ 0.8 of raw).
//           The items are RPUSHed first (untimed); the shipper is timed from start() until every
//           item is acknowledged as indexed. Raw and shipped runs alternate, each into fresh
//           storage (a new SQLite file, new daily indices); min and median over the rounds.
//  query:   p50/p95 of a dashboard's query set (hits, date histogram, two terms panels, each with
//           four Lucene queries) on 1 M events over two days, embedded against OpenSearch on the
//           same machine (goal: embedded no slower, ratio ≤ 1). Requests interleaved; the time
//           range moves with the clock as a refreshing dashboard's does, so no engine request
//           cache answers a repeat.
//  latency: the collector's ZMQ forwarding latency (am.st inner → outer PUB) while its pipeline
//           worker ships a Redis backlog into the embedded store at full speed, against idle
//           (goal ≤ 1.2 ×), idle and shipping phases alternating; with the collector's CPU and
//           how long its main thread waited for a CPU (schedstat), which on a shared 2-core host
//           is where the tail comes from. The probe runs at nice -10 (it is the instrument).
//           --worker-nice N adds a tuned phase (not shipped): the pipeline worker thread reniced.
// Engines come from VIGIL_TEST_ES_URL / VIGIL_TEST_OS_URL when set, else private ones are started
// (test/harness/search-engine.ts, --heap, default 1g: OpenSearch's shipped jvm.options) and
// stopped; Redis is a private redis-server. All data lives in temp dirs or bench-only indices that
// are removed at the end. Events: bench/_pipeline-events.ts (amavis JSON, ~1.7 KB, seeded).
//   node --import tsx bench/log-pipeline.ts [--part ship,query,latency] [--backends embedded,opensearch,elasticsearch]
//     [--events 50000] [--embedded-events 100000] [--rounds 3]                     (ship)
//     [--query-events 1000000] [--iterations 20]                                   (query)
//     [--rate 2000] [--seconds 10] [--latency-rounds 2] [--backlog 200000] [--worker-nice N]  (latency)
//     [--heap 1g] [--warmup 5000]
import { fork } from 'node:child_process'
import { readdirSync, readFileSync, rmSync } from 'node:fs'
import { setPriority } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Redis } from 'ioredis'
import { commonConfigSchema, createLogger } from '@vigil/protocol'
import type { Backend, IndexDoc } from '../collector/src/backends/backend.ts'
import { createBackend } from '../collector/src/backends/create.ts'
import { collectorConfigSchema, type SearchConfig } from '../collector/src/config.ts'
import { createEnricher, type Enricher } from '../collector/src/enrich/enricher.ts'
import type { AggsRequest, SearchRequest } from '../collector/src/search/api.ts'
import { parseQuery } from '../collector/src/search/lucene.ts'
import { createPreparer } from '../collector/src/shipper/prepare.ts'
import { createShipper } from '../collector/src/shipper/shipper.ts'
import {
  createScope,
  engineRequest,
  freePort,
  SHARED_ENGINE_ENV,
  startRedis,
  startSearchEngine,
  tmpDir,
  type EngineKind,
  type RedisInstance,
  type SearchEngineInstance,
} from '../test/harness/index.ts'
import { generateEventChunks, generateEvents } from './_pipeline-events.ts'
import { createForwardingProbe, percentile, type LatencyResult } from './_pipeline-zmq.ts'

const { values } = parseArgs({
  options: {
    part: { type: 'string', default: 'ship,query,latency' },
    backends: { type: 'string', default: 'embedded,opensearch,elasticsearch' },
    events: { type: 'string', default: '50000' },
    'embedded-events': { type: 'string', default: '100000' },
    rounds: { type: 'string', default: '3' },
    'query-events': { type: 'string', default: '1000000' },
    iterations: { type: 'string', default: '20' },
    rate: { type: 'string', default: '2000' },
    seconds: { type: 'string', default: '10' },
    backlog: { type: 'string', default: '200000' },
    heap: { type: 'string', default: '1g' },
    warmup: { type: 'string', default: '5000' },
    'latency-rounds': { type: 'string', default: '2' },
    'worker-nice': { type: 'string' },
  },
})
const PARTS = new Set(
  values
    .part!.split(',')
    .map((s) => (s === 'all' ? ['ship', 'query', 'latency'] : [s]))
    .flat(),
)
type Kind = 'embedded' | EngineKind
const KINDS = values.backends!.split(',').filter(Boolean) as Kind[]
const ROUNDS = Math.max(1, Number(values.rounds))
const WARMUP = Math.max(1, Number(values.warmup))
/** Shipped defaults: the shipper's batch sizes, the geoip databases, the search section. */
const DEFAULTS = collectorConfigSchema.parse({})
const log = createLogger({ name: 'bench', level: 'warn', write: (l) => process.stderr.write(l + '\n') })
const scope = createScope()
/** Prefix of every index and key this run creates (removed at the end). */
const RUN = `bench${process.pid}`

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const fmt = (n: number, w = 8, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '-').padStart(w)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')

// ---- backends -----------------------------------------------------------------------------------

const engines = new Map<EngineKind, SearchEngineInstance>()

async function engine(kind: EngineKind): Promise<SearchEngineInstance> {
  let e = engines.get(kind)
  if (!e) {
    const shared = process.env[SHARED_ENGINE_ENV[kind]]
    e = shared
      ? { kind, url: shared, pid: null, shared: true, dir: null, stop: async () => {} }
      : await startSearchEngine(kind, scope, { heap: values.heap })
    engines.set(kind, e)
    console.log(
      `${kind}: ${e.shared ? `shared instance at ${e.url}` : `private instance, heap ${values.heap}, pid ${e.pid}`}`,
    )
  }
  return e
}

async function stopEngine(kind: EngineKind): Promise<void> {
  await engines.get(kind)?.stop()
  engines.delete(kind)
}

interface OpenBackend {
  readonly backend: Backend
  /** Closes the backend and removes what it stored (the SQLite file, the indices and template). */
  drop(): Promise<void>
}

/** A backend of `kind` at the shipped search defaults, storing under its own prefix / file. */
async function openBackend(kind: Kind, prefix: string): Promise<OpenBackend> {
  const home = await tmpDir(null, 'vigil-bench-store-')
  const url = kind === 'embedded' ? undefined : (await engine(kind)).url
  const cfg: SearchConfig = collectorConfigSchema.parse({
    search: { backend: kind, index_prefix: prefix, ...(url ? { nodes: [url] } : {}) },
  }).search
  const backend = await createBackend(cfg, home, log)
  await backend.init()
  return {
    backend,
    async drop() {
      await backend.close().catch(() => {})
      if (url) {
        await engineRequest(url, 'DELETE', `/${prefix}*`).catch(() => {})
        await engineRequest(url, 'DELETE', `/_index_template/vigil-${prefix}`).catch(() => {})
      }
      rmSync(home, { recursive: true, force: true })
    },
  }
}

/** Splits documents as the shipper does: at most batch_max_events and batch_max_bytes per bulk. */
function* batches(docs: readonly IndexDoc[]): Generator<IndexDoc[]> {
  const { batch_max_events: maxN, batch_max_bytes: maxB } = DEFAULTS.shipper
  let cur: IndexDoc[] = []
  let bytes = 0
  for (const d of docs) {
    if (cur.length > 0 && (cur.length >= maxN || bytes + d.json.length > maxB)) {
      yield cur
      cur = []
      bytes = 0
    }
    cur.push(d)
    bytes += d.json.length
  }
  if (cur.length) yield cur
}

/** bulk() of every batch, sequentially; items answered 'retry' are sent again. Returns the ms taken. */
async function bulkAll(backend: Backend, docs: readonly IndexDoc[]): Promise<number> {
  const t0 = performance.now()
  for (const b of batches(docs)) {
    let todo = b
    for (let attempt = 0; todo.length > 0; attempt++) {
      if (attempt > 20) throw new Error(`bulk: ${todo.length} items still not stored after 20 attempts`)
      const res = await backend.bulk(todo)
      const rejected = res.find((x) => x.status === 'reject')
      if (rejected) throw new Error(`bulk rejected a bench document: ${JSON.stringify(rejected)}`)
      todo = todo.filter((_, i) => res[i].status === 'retry')
      if (todo.length) await sleep(100)
    }
  }
  return performance.now() - t0
}

function prepareAll(items: readonly string[], prefix: string, enricher: Enricher): IndexDoc[] {
  const prepare = createPreparer({ indexPrefix: prefix, enrich: (d) => enricher.enrich(d) })
  return items.map((raw) => {
    const p = prepare(Buffer.from(raw))
    if (!p.ok) throw new Error(`bench event not preparable: ${p.reason}`)
    return p.doc
  })
}

// ---- part 1: shipping rate ----------------------------------------------------------------------

/** User + system CPU ms of a process and all its descendants (an engine's launcher and its JVM). */
function treeCpuMs(pid: number | null | undefined): number {
  if (!pid) return NaN
  const stat = new Map<number, { ppid: number; ms: number }>()
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    try {
      const f = readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1].split(' ')
      stat.set(Number(d), { ppid: Number(f[1]), ms: (Number(f[11]) + Number(f[12])) * 10 })
    } catch {
      // gone meanwhile
    }
  }
  let total = 0
  const todo = [pid]
  while (todo.length) {
    const p = todo.pop()!
    total += stat.get(p)?.ms ?? 0
    for (const [c, v] of stat) if (v.ppid === p) todo.push(c)
  }
  return total
}

/** One timed run: events/s, and CPU µs per event of this process (shipper or raw client), the engine, Redis. */
interface RunResult {
  rate: number
  cpu: { node: number; engine: number; redis: number }
}

/** Measures fn's wall time and the CPU the three parties used meanwhile. */
async function timed(
  n: number,
  pids: { engine: number | null; redis: number },
  fn: () => Promise<number>,
): Promise<RunResult> {
  const n0 = process.cpuUsage()
  const e0 = treeCpuMs(pids.engine)
  const r0 = treeCpuMs(pids.redis)
  const ms = await fn()
  const nd = process.cpuUsage(n0)
  const us = (cpuMs: number) => (cpuMs * 1000) / n
  return {
    rate: n / (ms / 1000),
    cpu: {
      node: (nd.user + nd.system) / n,
      engine: us(treeCpuMs(pids.engine) - e0),
      redis: us(treeCpuMs(pids.redis) - r0),
    },
  }
}

async function enginePid(kind: Kind): Promise<number | null> {
  return kind === 'embedded' ? null : (await engine(kind)).pid
}

async function rawRun(
  kind: Kind,
  items: readonly string[],
  tag: string,
  enricher: Enricher,
  redisPid: number,
): Promise<RunResult> {
  const prefix = `${RUN}-${tag}-raw-`
  const docs = prepareAll(items, prefix, enricher)
  const store = await openBackend(kind, prefix)
  try {
    return await timed(items.length, { engine: await enginePid(kind), redis: redisPid }, () =>
      bulkAll(store.backend, docs),
    )
  } finally {
    await store.drop()
  }
}

async function pushAll(redis: Redis, key: string, items: readonly string[]): Promise<void> {
  for (let i = 0; i < items.length; i += 10_000) {
    const p = redis.pipeline()
    for (let j = i; j < Math.min(items.length, i + 10_000); j += 1000) p.rpush(key, ...items.slice(j, j + 1000))
    await p.exec()
  }
}

async function shipRun(
  kind: Kind,
  items: readonly string[],
  tag: string,
  enricher: Enricher,
  redis: Redis,
  server: RedisInstance,
): Promise<RunResult> {
  const prefix = `${RUN}-${tag}-ship-`
  const key = `${RUN}-${tag}`
  await pushAll(redis, key, items)
  const store = await openBackend(kind, prefix)
  const dir = await tmpDir(null, 'vigil-bench-ship-')
  let indexed = 0
  let doneAt = 0
  const shipper = createShipper({
    redis: { server: server.server },
    key,
    id: 'bench',
    backend: store.backend,
    cfg: DEFAULTS.shipper,
    indexPrefix: prefix,
    deadLetterFile: join(dir, 'dead-letter.ndjson'),
    enrich: enricher,
    log,
    onIndexed(docs) {
      indexed += docs.length
      if (indexed >= items.length && !doneAt) doneAt = performance.now()
    },
  })
  try {
    return await timed(items.length, { engine: await enginePid(kind), redis: server.pid }, async () => {
      const t0 = performance.now()
      await shipper.start()
      const cap = Date.now() + 600_000
      while (!doneAt) {
        const s = shipper.stats()
        if (s.deadLettered > 0) throw new Error(`the shipper dead-lettered ${s.deadLettered} bench events`)
        if (Date.now() > cap) throw new Error(`the shipper indexed ${indexed} of ${items.length} within 600 s`)
        await sleep(5)
      }
      return doneAt - t0
    })
  } finally {
    await shipper.stop()
    await redis.eval(`for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end`, 0, `${key}*`)
    await store.drop()
    rmSync(dir, { recursive: true, force: true })
  }
}

async function partShip(): Promise<void> {
  const server = await startRedis(scope)
  const redis = new Redis({ host: server.host, port: server.port, lazyConnect: true })
  await redis.connect()
  const enricher = await createEnricher(DEFAULTS.geoip, log)
  const nEngines = Number(values.events)
  const nEmbedded = Number(values['embedded-events'])
  const now = Date.now()
  const all = generateEvents({ count: Math.max(nEngines, nEmbedded), seed: 1, startMs: now - 3600_000, endMs: now })
  const avgBytes = all.reduce((a, s) => a + Buffer.byteLength(s), 0) / all.length
  const { batch_max_events, batch_max_bytes, batch_wait_ms } = DEFAULTS.shipper
  console.log(
    `\n# 1. Shipping rate: Redis → shipper → backend, against the backend's raw bulk() of the same prepared documents`,
  )
  console.log(
    `shipper at its shipped defaults (batch_max_events ${batch_max_events}, batch_max_bytes ${batch_max_bytes}, batch_wait_ms ${batch_wait_ms}, geoip on); raw: sequential bulk() in the same batches, no Redis`,
  )
  console.log(
    `events ~${avgBytes.toFixed(0)} bytes each; ${ROUNDS} alternating rounds, fresh storage each; load average ${loadavg()}`,
  )
  try {
    for (const kind of KINDS) if (kind !== 'embedded') await engine(kind)
    // A fresh JVM (and V8) is several times slower for its first few thousand documents: one
    // untimed raw and shipped run per backend first, so the rounds measure steady state.
    const warm = all.slice(0, WARMUP)
    for (const kind of KINDS) {
      await rawRun(kind, warm, `${kind.slice(0, 2)}w`, enricher, server.pid)
      await shipRun(kind, warm, `${kind.slice(0, 2)}w`, enricher, redis, server)
    }
    console.log(`warm-up: ${WARMUP} events raw and shipped per backend (untimed)`)
    console.log('backend          events   raw ev/s (min / median)   shipped ev/s (min / median)   ratio (median)')
    for (const kind of KINDS) {
      const items = all.slice(0, kind === 'embedded' ? nEmbedded : nEngines)
      const rawRuns: RunResult[] = []
      const shipRuns: RunResult[] = []
      for (let r = 0; r < ROUNDS; r++) {
        const tag = `${kind.slice(0, 2)}${r}`
        if (r % 2 === 0) {
          rawRuns.push(await rawRun(kind, items, tag, enricher, server.pid))
          shipRuns.push(await shipRun(kind, items, tag, enricher, redis, server))
        } else {
          shipRuns.push(await shipRun(kind, items, tag, enricher, redis, server))
          rawRuns.push(await rawRun(kind, items, tag, enricher, server.pid))
        }
      }
      const raw = rawRuns.map((x) => x.rate)
      const shipped = shipRuns.map((x) => x.rate)
      const ratio = median(shipped) / median(raw)
      const cpu = (rs: RunResult[], k: keyof RunResult['cpu']) => fmt(median(rs.map((x) => x.cpu[k])), 0)
      console.log(
        `${kind.padEnd(14)} ${fmt(items.length, 8)}   ${fmt(Math.min(...raw), 9)} / ${fmt(median(raw), 8)}      ${fmt(Math.min(...shipped), 11)} / ${fmt(median(shipped), 8)}        ${ratio.toFixed(2)} ${ratio >= 0.8 ? '' : '(below 0.8)'}`,
      )
      console.log(
        `               rounds: raw ${raw.map((x) => x.toFixed(0)).join(' ')} | shipped ${shipped.map((x) => x.toFixed(0)).join(' ')}; load average ${loadavg()}`,
      )
      console.log(
        `               CPU µs per event (median), raw | shipped: bench process (client${kind === 'embedded' ? ' + SQLite' : ''}; + shipper)${cpu(rawRuns, 'node')} |${cpu(shipRuns, 'node')}, engine${cpu(rawRuns, 'engine')} |${cpu(shipRuns, 'engine')}, redis-server${cpu(rawRuns, 'redis')} |${cpu(shipRuns, 'redis')}`,
      )
    }
    console.log(
      'goal: shipped ≥ 0.8 × raw. Reference points (the talk): amavis → Elasticsearch 500 events/s sustained;',
    )
    console.log("  Logstash's redis input with batching ~3,000 events/s.")
  } finally {
    enricher.close()
    redis.disconnect()
    await server.stop()
  }
}

// ---- part 2: query latency ----------------------------------------------------------------------

const DAY_MS = 86_400_000
const QUERIES = ['', 'NOT action:(REJECT DISCARD BOUNCE)', 'subject:newsletter*', 'size:[9000 TO *]']
type Panel = 'hits' | 'histogram' | 'terms action' | 'terms country'
const PANELS: Panel[] = ['hits', 'histogram', 'terms action', 'terms country']

/** One dashboard panel over the last 24 h (ending now) with query `q`; returns a summary to compare backends. */
async function runPanel(backend: Backend, panel: Panel, q: string): Promise<string> {
  const toMs = Date.now()
  const base = { query: parseQuery(q, toMs), fromMs: toMs - DAY_MS, toMs }
  if (panel === 'hits') {
    const req: SearchRequest = { ...base, size: 50, sort: [{ field: '@timestamp', order: 'desc' }] }
    const r = await backend.search(req)
    return `total ${r.total}, ${r.hits.length} hits`
  }
  const aggs: AggsRequest['aggs'] =
    panel === 'histogram'
      ? { a: { type: 'date_histogram', interval: 'auto', buckets: 100 } }
      : { a: { type: 'terms', field: panel === 'terms action' ? 'action' : 'client_geo.country_code', size: 10 } }
  const r = await backend.aggregate({ ...base, aggs })
  const a = r.aggs.a as { buckets: readonly { doc_count: number }[] }
  return `total ${r.total}, ${a.buckets.length} buckets, top ${a.buckets[0]?.doc_count ?? 0}`
}

async function partQuery(): Promise<void> {
  const kinds = KINDS.filter((k) => k !== 'elasticsearch')
  if (kinds.length === 0) return
  const n = Number(values['query-events'])
  const iterations = Math.max(1, Number(values.iterations))
  console.log(`\n# 2. Query latency: a dashboard's panels on ${n} events over 2 days (${kinds.join(' vs ')})`)
  const enricher = await createEnricher(DEFAULTS.geoip, log)
  const prefix = `${RUN}-q-`
  const stores = new Map<Kind, OpenBackend>()
  try {
    for (const k of kinds) stores.set(k, await openBackend(k, prefix))
    const endMs = Date.now()
    const loadMs = new Map<Kind, number>(kinds.map((k) => [k, 0]))
    const prepare = createPreparer({ indexPrefix: prefix, enrich: (d) => enricher.enrich(d) })
    const t0 = performance.now()
    let done = 0
    for (const chunk of generateEventChunks({ count: n, seed: 2, startMs: endMs - 2 * DAY_MS, endMs }, 10_000)) {
      const docs = chunk.map((raw) => {
        const p = prepare(Buffer.from(raw))
        if (!p.ok) throw new Error(p.reason)
        return p.doc
      })
      // Both stores load at once (the engine works in its own process): half the wall time of 1 M.
      const ms = await Promise.all(kinds.map((k) => bulkAll(stores.get(k)!.backend, docs)))
      kinds.forEach((k, i) => loadMs.set(k, loadMs.get(k)! + ms[i]))
      done += docs.length
      if (done % 200_000 === 0) console.log(`  loaded ${done} (${((performance.now() - t0) / 1000).toFixed(0)} s)`)
    }
    for (const k of kinds) await stores.get(k)!.backend.refresh()
    for (const k of kinds) {
      const h = await stores.get(k)!.backend.health()
      const size = h.sizeBytes !== undefined ? `, ${(h.sizeBytes / 1024 ** 3).toFixed(2)} GB on disk` : ''
      console.log(`load (untimed, both at once): ${k} ${fmt(n / (loadMs.get(k)! / 1000), 0)} events/s bulk()${size}`)
    }
    // The same answers on both, or the latencies compare different work.
    for (const q of QUERIES)
      for (const p of PANELS) {
        const got = await Promise.all(kinds.map((k) => runPanel(stores.get(k)!.backend, p, q)))
        if (new Set(got).size > 1) console.log(`  (warning: answers differ for ${p} "${q}": ${got.join(' | ')})`)
      }
    const times = new Map<string, number[]>()
    const key = (k: Kind, p: Panel, q: string) => `${k}|${p}|${q}`
    for (let it = -2; it < iterations; it++) {
      for (const q of QUERIES)
        for (const p of PANELS) {
          const order = it % 2 === 0 ? kinds : [...kinds].reverse()
          for (const k of order) {
            const s = performance.now()
            await runPanel(stores.get(k)!.backend, p, q)
            const ms = performance.now() - s
            if (it < 0) continue
            const kk = key(k, p, q)
            times.set(kk, [...(times.get(kk) ?? []), ms])
          }
        }
    }
    const [a, b] = kinds
    console.log(`${iterations} interleaved iterations (2 warm-up), last 24 h ending now; ms; load average ${loadavg()}`)
    console.log(
      `panel          query                                 ${kinds.map((k) => `${k} p50 / p95`.padStart(22)).join('')}${b ? `   ratio p50  ratio p95 (${a}/${b})` : ''}`,
    )
    const ratios50: number[] = []
    const ratios95: number[] = []
    for (const p of PANELS)
      for (const q of QUERIES) {
        const cols = kinds.map((k) => {
          const t = [...times.get(key(k, p, q))!].sort((x, y) => x - y)
          return [percentile(t, 50), percentile(t, 95)]
        })
        let line = `${p.padEnd(14)} ${(q === '' ? '(all)' : q).padEnd(37)} ${cols.map(([x, y]) => `${fmt(x, 10, 1)} / ${fmt(y, 7, 1)}`.padStart(22)).join('')}`
        if (b) {
          const r50 = cols[0][0] / cols[1][0]
          const r95 = cols[0][1] / cols[1][1]
          ratios50.push(r50)
          ratios95.push(r95)
          line += `   ${fmt(r50, 9, 2)}  ${fmt(r95, 9, 2)}`
        }
        console.log(line)
      }
    // A whole dashboard refresh: the four panels of one query, one after another.
    const refresh = (k: Kind) =>
      QUERIES.flatMap((q) =>
        Array.from({ length: iterations }, (_, i) => PANELS.reduce((s, p) => s + times.get(key(k, p, q))![i], 0)),
      ).sort((x, y) => x - y)
    const rs = kinds.map((k) => refresh(k))
    console.log(
      `dashboard refresh (4 panels, sequential)              ${rs.map((t) => `${fmt(percentile(t, 50), 10, 1)} / ${fmt(percentile(t, 95), 7, 1)}`.padStart(22)).join('')}${b ? `   ${fmt(percentile(rs[0], 50) / percentile(rs[1], 50), 9, 2)}  ${fmt(percentile(rs[0], 95) / percentile(rs[1], 95), 9, 2)}` : ''}`,
    )
    if (b)
      console.log(
        `geometric mean of the per-panel ratios: p50 ${geomean(ratios50).toFixed(2)}, p95 ${geomean(ratios95).toFixed(2)}; goal: ${a}/${b} ≤ 1 (${a} no slower)`,
      )
  } finally {
    enricher.close()
    for (const s of stores.values()) await s.drop()
  }
}

const geomean = (xs: number[]) => Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length)

// ---- part 3: ZMQ forwarding latency while shipping ----------------------------------------------

/** User + system CPU ms of a process (all its threads), or of one thread with `tid`. */
function cpuMs(pid: number, tid?: number): number {
  try {
    const path = tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`
    const f = readFileSync(path, 'utf8').split(') ')[1].split(' ')
    return (Number(f[11]) + Number(f[12])) * 10
  } catch {
    return 0
  }
}

/** ms a thread spent runnable but waiting for a CPU (/proc/.../schedstat, field 2): contention, not work. */
function runDelayMs(pid: number, tid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[1]) / 1e6
  } catch {
    return NaN
  }
}

interface PhaseResult {
  label: string
  r: LatencyResult
  /** Collector CPU, % of one core: all threads, and the main (bus) thread. */
  cpu: number
  main: number
  /** ms per s the collector's main thread waited for a CPU while runnable. */
  mainWait: number
  /** The same for the probe's own JS thread. */
  probeWait: number
  /** Events indexed during the phase, and still queued at its end. */
  shipped: number
  left: number
  wall: number
}

/** Pools the rounds of one kind of phase: latencies merged, CPU weighted by wall time. */
function pool(label: string, ps: PhaseResult[]): PhaseResult {
  const wall = ps.reduce((a, p) => a + p.wall, 0)
  const w = (f: (p: PhaseResult) => number) => ps.reduce((a, p) => a + f(p) * p.wall, 0) / wall
  const lat = Float64Array.from(ps.flatMap((p) => [...p.r.latenciesMs])).sort()
  return {
    label,
    r: {
      sent: ps.reduce((a, p) => a + p.r.sent, 0),
      received: ps.reduce((a, p) => a + p.r.received, 0),
      latenciesMs: lat,
      sendRate: w((p) => p.r.sendRate),
    },
    cpu: w((p) => p.cpu),
    main: w((p) => p.main),
    mainWait: w((p) => p.mainWait),
    probeWait: w((p) => p.probeWait),
    shipped: ps.reduce((a, p) => a + p.shipped, 0),
    left: Math.min(...ps.map((p) => p.left)),
    wall,
  }
}

function latencyLine(p: PhaseResult): string {
  const l = p.r.latenciesMs
  return `${p.label.padEnd(22)} ${fmt(p.r.sent, 7)} ${fmt(p.r.received, 9)} ${fmt(percentile(l, 50), 8, 3)} ${fmt(percentile(l, 95), 8, 3)} ${fmt(percentile(l, 99), 8, 3)} ${fmt(l[l.length - 1], 8, 1)}   ${fmt(p.cpu, 4)} % (main thread ${fmt(p.main, 0)} %, waited for a CPU ${fmt(p.mainWait, 0)} ms/s; probe waited ${fmt(p.probeWait, 0)} ms/s)`
}

/** The collector's busiest thread other than the main one over `ms`: the pipeline worker while it ships. */
async function busiestOtherThread(pid: number, ms: number): Promise<number | undefined> {
  const tids = () =>
    readdirSync(`/proc/${pid}/task`)
      .map(Number)
      .filter((t) => t !== pid)
  const before = new Map(tids().map((t) => [t, cpuMs(pid, t)]))
  await sleep(ms)
  let best: number | undefined
  let most = 0
  for (const t of tids()) {
    const d = cpuMs(pid, t) - (before.get(t) ?? 0)
    if (d > most) [best, most] = [t, d]
  }
  return best
}

async function partLatency(): Promise<void> {
  const rate = Number(values.rate)
  const seconds = Number(values.seconds)
  const backlog = Number(values.backlog)
  const rounds = Math.max(1, Number(values['latency-rounds']))
  const workerNice = values['worker-nice'] === undefined ? undefined : Number(values['worker-nice'])
  console.log(
    `\n# 3. ZMQ forwarding latency (am.st inner → outer) while the collector ships Redis → embedded, against idle`,
  )
  const server = await startRedis(scope)
  const redis = new Redis({ host: server.host, port: server.port, lazyConnect: true })
  await redis.connect()
  const home = await tmpDir(scope, 'vigil-bench-collector-')
  const outer = `tcp://127.0.0.1:${await freePort()}`
  const child = fork(
    fileURLToPath(new URL('./_pipeline-collector.ts', import.meta.url)),
    ['--home', home, '--outer', outer, '--snmp', `tcp://127.0.0.1:${await freePort()}`, '--redis', server.server],
    { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  )
  const exited = new Promise<void>((r) => child.once('exit', () => r()))
  let probe: Awaited<ReturnType<typeof createForwardingProbe>> | undefined
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve())
      child.once('exit', (c) => reject(new Error(`collector exited (${c}) before it was ready`)))
    })
    const pid = child.pid!
    probe = await createForwardingProbe(`ipc://${home}/amavisd-zmq.sock`, outer)
    // The probe (this process: its JS thread and its ZMQ I/O thread) is the instrument, so it runs
    // ahead of everything else on the machine: its own scheduling delays are not the collector's.
    for (const t of readdirSync('/proc/self/task').map(Number))
      try {
        setPriority(t, -10)
      } catch {
        // not root: the probe's own delays stay in the figures (then its wait column says how much)
      }
    // The backlog is generated and pushed to a side key before any timing. RENAME moves it into
    // the amavis list at once (the shipper runs flat out from the phase's start) and out again
    // for the next idle phase (once the batch in flight is acknowledged), so idle and shipping
    // phases alternate over the same minutes of machine load.
    const key = commonConfigSchema.parse({}).redis_logging_key
    const staging = `${RUN}-staging`
    const inflight = `${key}:inflight:bench.test`
    const now = Date.now()
    await pushAll(redis, staging, generateEvents({ count: backlog, seed: 3, startMs: now - 3600_000, endMs: now }))
    await sleep(3000) // the pipeline worker's start (GeoIP, SQLite) out of the way
    const phase = async (label: string, ship: boolean, beforeMeasure?: () => Promise<void>): Promise<PhaseResult> => {
      if (ship) {
        if ((await redis.exists(key)) === 0) {
          // (a list still there: the previous phase shipped too, and shipping goes on)
          if ((await redis.exists(staging)) === 0) throw new Error('the backlog ran out: raise --backlog')
          await redis.rename(staging, key)
          await sleep(500) // the shipper's first batch under way
        }
      } else {
        if ((await redis.exists(key)) === 1) await redis.rename(key, staging)
        const until = Date.now() + 60_000
        while ((await redis.llen(inflight)) > 0 && Date.now() < until) await sleep(50)
        await sleep(300)
      }
      await beforeMeasure?.()
      const indexed0 = Number((await redis.hget(`${key}:stats`, 'indexed')) ?? 0)
      const c0 = cpuMs(pid)
      const m0 = cpuMs(pid, pid)
      const w0 = runDelayMs(pid, pid)
      const pw0 = runDelayMs(process.pid, process.pid)
      const t0 = performance.now()
      const r = await probe!.measure(rate, seconds)
      const wall = performance.now() - t0
      const cpu = ((cpuMs(pid) - c0) / wall) * 100
      const main = ((cpuMs(pid, pid) - m0) / wall) * 100
      const mainWait = (runDelayMs(pid, pid) - w0) / (wall / 1000)
      const probeWait = (runDelayMs(process.pid, process.pid) - pw0) / (wall / 1000)
      const shipped = Number((await redis.hget(`${key}:stats`, 'indexed')) ?? 0) - indexed0
      const left = ship ? await redis.llen(key) : 0
      return { label, r, cpu, main, mainWait, probeWait, shipped, left, wall }
    }
    const idle: PhaseResult[] = []
    const busy: PhaseResult[] = []
    const tuned: PhaseResult[] = []
    let workerTid: number | undefined
    for (let i = 0; i < rounds; i++) {
      idle.push(await phase('idle', false))
      busy.push(await phase('shipping', true))
      if (workerNice !== undefined)
        tuned.push(
          await phase(`shipping, worker nice ${workerNice}`, true, async () => {
            // Tuned, not shipped: the pipeline worker thread at another priority than the bus.
            workerTid ??= await busiestOtherThread(pid, 500)
            if (workerTid !== undefined) setPriority(workerTid, workerNice)
          }),
        )
      if (workerTid !== undefined) setPriority(workerTid, 0)
    }
    const [pi, pb] = [pool('idle', idle), pool(`shipping (default)`, busy)]
    console.log(
      `${rate} frames/s, ${rounds} × ${seconds} s per phase kind, alternating; 1,000 PIDs; collector at its defaults (js forwarder), shipper into embedded; load average ${loadavg()}`,
    )
    console.log(
      'phase                     sent  received   p50 ms   p95 ms   p99 ms   max ms   collector CPU (% of a core)',
    )
    const all = [pi, pb, ...(tuned.length ? [pool(tuned[0].label + ' (tuned)', tuned)] : [])]
    for (const p of all) console.log(latencyLine(p))
    for (const p of all.slice(1))
      console.log(
        `${p.label}: ${p.shipped} events indexed during the phases (${fmt(p.shipped / (p.wall / 1000), 0)} events/s), ≥ ${p.left} still queued at each phase's end${p.left === 0 ? ' (warning: the backlog ran out during a phase; raise --backlog)' : ''}`,
      )
    for (const p of all.slice(1)) {
      const q = (x: number) => percentile(p.r.latenciesMs, x) / percentile(pi.r.latenciesMs, x)
      console.log(
        `ratio ${p.label}/idle: p50 ${q(50).toFixed(2)}, p95 ${q(95).toFixed(2)}, p99 ${q(99).toFixed(2)}; goal ≤ 1.2`,
      )
    }
    if (all.some((p) => p.r.received < p.r.sent))
      console.log('  (warning: frames were lost between the inner socket and the outer PUB)')
  } finally {
    probe?.close()
    child.send('stop')
    const kill = setTimeout(() => child.kill('SIGKILL'), 30_000)
    await exited
    clearTimeout(kill)
    redis.disconnect()
    await server.stop()
  }
}

async function main(): Promise<void> {
  console.log(
    `log pipeline bench: parts ${[...PARTS].join(', ')}; backends ${KINDS.join(', ')}; ${new Date().toISOString()}`,
  )
  try {
    if (PARTS.has('ship')) {
      await partShip()
      if (!PARTS.has('query') || !KINDS.includes('opensearch')) await stopEngine('opensearch')
      await stopEngine('elasticsearch')
    }
    if (PARTS.has('query')) {
      await partQuery()
      await stopEngine('opensearch')
    }
    if (PARTS.has('latency')) await partLatency()
  } finally {
    await scope.close()
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e)
    process.exit(1)
  },
)
