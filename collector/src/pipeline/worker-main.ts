// The pipeline worker thread: the search backend, ship-time enrichment, the Redis shipper and the
// direct (ZMQ) intake, off the collector's main event loop so that indexing and searching never
// delay the bus (issue #10: ZMQ forwarding latency while shipping ≤ 1.2 × idle). Started by
// pipeline.ts through worker-boot.mjs; this module's side effects are the worker's own.
import { parentPort, workerData } from 'node:worker_threads'
import { join } from 'node:path'
import { appendFileSync, mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { createLogger, type Logger } from '@vigil/protocol'
import type { Backend } from '../backends/backend.ts'
import { createBackend } from '../backends/create.ts'
import type { AggsRequest, SearchRequest } from '../search/api.ts'
import { createDirectIngest, type DirectIngest } from './direct-ingest.ts'
import {
  SUMMARY_FIELDS,
  toWireError,
  type FromWorker,
  type IndexedEvent,
  type ToWorker,
  type WorkerInit,
} from './messages.ts'
import { createEnricher } from '../enrich/enricher.ts'
import { attributionLines } from '../enrich/attribution.ts'
import { prepareItem } from '../shipper/prepare.ts'
import { createShipper, type Shipper } from '../shipper/shipper.ts'
import { parseRedisServer } from '../shipper/redis-queue.ts'

const port = parentPort!
const init = workerData as WorkerInit
const post = (m: FromWorker) => port.postMessage(m)
const plain = (f?: Record<string, unknown>) =>
  f && Object.fromEntries(Object.entries(f).map(([k, v]) => [k, v instanceof Error ? v.message : (v as unknown)]))
const log: Logger = createLogger({
  name: 'collector/pipeline',
  level: init.common.log_level,
  sink: (e) => post({ t: 'log', level: e.level, name: e.name, msg: e.msg, fields: plain(e.fields) }),
})

const { common, cfg } = init
const HOUR_MS = 3600_000
let backend: Backend | undefined
let direct: DirectIngest | undefined
let shipper: Shipper | undefined
let retentionTimer: NodeJS.Timeout | undefined
const retention = { days: cfg.search.retention_days, lastRunAt: null as string | null, deleted: [] as string[] }

function deadLetterFile(): string {
  return cfg.shipper.dead_letter_file || join(common.home, 'pipeline-dead-letter.ndjson')
}

/** Direct-intake dead letters: one JSON line per event with its reason (the shipper keeps its own, in Redis too). */
function writeDeadLetter(raw: string, reason: string, code?: number): void {
  const MAX = 256 * 1024
  const rec: Record<string, unknown> = { at: new Date().toISOString(), source: 'zmq', reason, code }
  if (raw.length > MAX) rec.truncated = true
  rec.item = raw.length > MAX ? raw.slice(0, MAX) : raw
  try {
    mkdirSync(dirname(deadLetterFile()), { recursive: true })
    appendFileSync(deadLetterFile(), JSON.stringify(rec) + '\n')
  } catch (err) {
    log.error('Dead-letter file not writable; event lost.', { err: err as Error, file: deadLetterFile(), reason })
  }
}

async function runRetention(): Promise<string[]> {
  if (!backend || cfg.search.retention_days === 0) return []
  const deleted = await backend.applyRetention(Date.now(), cfg.search.retention_days)
  retention.lastRunAt = new Date().toISOString()
  if (deleted.length) {
    retention.deleted = deleted
    log.info('Retention deleted old days.', { deleted, retention_days: cfg.search.retention_days })
  }
  return deleted
}

async function status(): Promise<unknown> {
  const health = backend ? await backend.health().catch((e: Error) => ({ up: false, detail: e.message })) : undefined
  return {
    topology: shipper ? 'redis' : 'direct',
    backend: { kind: cfg.search.backend, ...health },
    direct: direct ? { ...direct.stats(), queued: direct.queued } : undefined,
    shipper: shipper
      ? {
          ...shipper.stats(),
          ...(earlyBacklog !== undefined ? { backlogAtStart: earlyBacklog } : {}),
          queue: await shipper.queueStatus().catch(() => undefined),
        }
      : undefined,
    retention,
  }
}

async function call(method: string, arg: unknown): Promise<unknown> {
  if (!backend) throw new Error('pipeline not started')
  switch (method) {
    case 'search':
      return backend.search(arg as SearchRequest)
    case 'aggregate':
      return backend.aggregate(arg as AggsRequest)
    case 'status':
      return status()
    case 'refresh':
      return backend.refresh()
    case 'retention':
      return runRetention()
  }
  throw new Error(`unknown method ${method}`)
}

/**
 * Events already queued (or in flight) when the collector started were produced before it counted
 * anything: measured first thing, before the store and the GeoIP data load, so that events the
 * filters write meanwhile count as produced, not as backlog. undefined when Redis is not reachable
 * (the shipper then measures when it starts).
 */
let earlyBacklog: number | undefined
async function measureBacklog(dsn: { server: string; db_id: number; password?: string }): Promise<void> {
  const { Redis } = await import('ioredis')
  const s = parseRedisServer(dsn.server)
  const r = new Redis({
    ...(s.path ? { path: s.path } : { host: s.host, port: s.port }),
    db: dsn.db_id,
    password: dsn.password,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 1000,
    retryStrategy: () => null,
  })
  r.on('error', () => {})
  try {
    await r.connect()
    const key = common.redis_logging_key
    const [q, f] = await Promise.all([r.llen(key), r.llen(`${key}:inflight:${cfg.shipper.id ?? common.myhostname}`)])
    earlyBacklog = q + f
  } catch {
    earlyBacklog = undefined
  } finally {
    r.disconnect()
  }
}

async function start(): Promise<void> {
  const dsn0 = common.storage_redis_dsn[0]
  if (init.ship && dsn0) await measureBacklog(dsn0)
  backend = await createBackend(cfg.search, common.home, log.child(cfg.search.backend))
  // An engine that is not up yet must not stop the collector: intake queues and retries.
  await backend.init().catch((err) => log.warn('Search backend not initialised yet; will retry.', { err }))
  // the parsed ASN tables are cached in <home>/cache: a restart loads them in ~0.3 s instead of ~1.3 s of CPU
  const enricher = await createEnricher(cfg.geoip, log.child('geoip'), { cacheDir: join(common.home, 'cache') })
  const prepare = (raw: string) =>
    prepareItem(raw, { indexPrefix: cfg.search.index_prefix, enrich: (d) => enricher.enrich(d) })
  direct = createDirectIngest({
    backend,
    prepare,
    deadLetter: writeDeadLetter,
    batchMaxEvents: cfg.shipper.batch_max_events,
    batchMaxBytes: cfg.shipper.batch_max_bytes,
    retryMinMs: cfg.shipper.retry_min_ms,
    retryMaxMs: cfg.shipper.retry_max_ms,
    maxItemAttempts: cfg.shipper.max_item_attempts,
    maxQueued: 100_000,
    log: log.child('direct'),
    onDone: (tokens) => post({ t: 'stored', tokens }),
  })
  for (const m of early.splice(0)) direct.push(m.raws, m.tokens)
  const dsn = common.storage_redis_dsn[0]
  if (init.ship && dsn) {
    shipper = createShipper({
      redis: { server: dsn.server, db: dsn.db_id, password: dsn.password },
      key: common.redis_logging_key,
      id: cfg.shipper.id ?? common.myhostname,
      backend,
      cfg: cfg.shipper,
      indexPrefix: cfg.search.index_prefix,
      deadLetterFile: cfg.shipper.dead_letter_file || join(common.home, 'shipper-dead-letter.ndjson'),
      enrich: (d) => enricher.enrich(d),
      log: log.child('shipper'),
      onIndexed: (docs) => relayIndexed(docs),
    })
    // Redis may be down when the collector starts: the events wait there, the shipper keeps trying.
    void startShipper(shipper)
  }
  await runRetention().catch((err) => log.warn('Retention failed; will retry in an hour.', { err }))
  retentionTimer = setInterval(
    () => void runRetention().catch((err) => log.warn('Retention failed.', { err })),
    HOUR_MS,
  )
  const describe = [`search backend: ${cfg.search.backend}`]
  if (shipper)
    describe.push(
      `shipper: draining redis list ${common.redis_logging_key} (id ${cfg.shipper.id ?? common.myhostname})`,
    )
  post({ t: 'ready', describe, attribution: attributionLines(enricher.attribution) })
}

let stopping = false

/** Shipped events to the main thread in chunks of 100: each chunk is one short task there. */
function relayIndexed(docs: readonly { raw: string; doc: Readonly<Record<string, unknown>> }[]): void {
  for (let i = 0; i < docs.length; i += 100) {
    const events: IndexedEvent[] = docs.slice(i, i + 100).map((d) => {
      const summary: Record<string, unknown> = {}
      for (const f of SUMMARY_FIELDS) if (d.doc[f] !== undefined) summary[f] = d.doc[f]
      return { raw: d.raw, summary }
    })
    post({ t: 'indexed', events })
  }
}

async function startShipper(s: Shipper): Promise<void> {
  for (let waitMs = cfg.shipper.retry_min_ms; !stopping; waitMs = Math.min(waitMs * 2, cfg.shipper.retry_max_ms)) {
    try {
      await s.start()
      return
    } catch (err) {
      log.warn('Shipper cannot reach Redis yet; retrying.', { err: err as Error, retry_in_ms: waitMs })
      await new Promise((r) => setTimeout(r, waitMs))
    }
  }
}

async function stop(drainMs: number): Promise<void> {
  stopping = true
  await started.catch(() => {})
  if (retentionTimer) clearInterval(retentionTimer)
  await shipper?.stop().catch((err) => log.error('Shipper stop failed.', { err }))
  await direct?.stop(drainMs)
  await backend?.close().catch((err) => log.warn('Backend close failed.', { err }))
  post({ t: 'stopped' })
}

/** Events that arrive while the backend and enrichment are still loading wait here. */
const early: { raws: string[]; tokens?: number[] }[] = []
port.on('message', (m: ToWorker) => {
  if (m.t === 'ingest') {
    if (direct) direct.push(m.raws, m.tokens)
    else early.push(m)
  } else if (m.t === 'call')
    call(m.method, m.arg).then(
      (value) => post({ t: 'reply', id: m.id, ok: true, value }),
      (err) => post({ t: 'reply', id: m.id, ok: false, error: toWireError(err) }),
    )
  else if (m.t === 'stop') void stop(m.drainMs)
})

const started = start()
started.catch((err) => post({ t: 'fatal', error: toWireError(err) }))
