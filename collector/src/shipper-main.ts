// Standalone shipper: `node --import tsx collector/src/shipper-main.ts [--config vigil.yaml] [--home DIR]`.
// Drains @storage_redis_dsn's $redis_logging_key into the configured search backend, the drop-in
// for a Logstash redis input. The only shipper module with side effects: argv → config → backend →
// one shipper per Redis DSN (amavis fails over between DSNs, so events may wait in any of them) →
// signals. SIGTERM/SIGINT: graceful drain (the current batch is finished and acknowledged), exit 0.
// It reads the same vigil.yaml as collector/src/main.ts (the `collector` section and the common keys).
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { parse as parseYaml } from 'yaml'
import { EX_CONFIG, commonConfigSchema, createLogger, type Logger } from '@vigil/protocol'
import { collectorConfigSchema, type GeoipConfig } from './config.ts'
import { BackendUnavailableError, type Backend } from './backends/backend.ts'
import { createBackend } from './backends/create.ts'
import { createShipper, type Shipper } from './shipper/shipper.ts'

const { values } = parseArgs({ options: { config: { type: 'string' }, home: { type: 'string' } } })
let doc: Record<string, unknown> = {}
try {
  if (values.config) doc = (parseYaml(readFileSync(values.config, 'utf8')) ?? {}) as Record<string, unknown>
} catch (err) {
  process.stderr.write(`vigil shipper: cannot read ${values.config}: ${(err as Error).message}\n`)
  process.exit(EX_CONFIG)
}
const { collector: section, filter: _f, snmp_agent: _s, status: _st, ...rest } = doc
if (values.home) rest.home = values.home
const common = commonConfigSchema.safeParse(rest)
const cfg = collectorConfigSchema.safeParse(section ?? {})
if (!common.success || !cfg.success) {
  const issues = [
    ...(common.success ? [] : common.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)),
    ...(cfg.success ? [] : cfg.error.issues.map((i) => `collector.${i.path.join('.')}: ${i.message}`)),
  ]
  process.stderr.write(`vigil shipper: invalid configuration:\n  ${issues.join('\n  ')}\n`)
  process.exit(EX_CONFIG)
}
const home = resolve(common.data.home)
const c = cfg.data
const log = createLogger({
  name: 'shipper',
  level: common.data.log_level,
  write: (l) => (common.data.log_to === 'stderr' ? process.stderr : process.stdout).write(l + '\n'),
})

if (c.shipper.enabled === 'off') {
  log.info('collector.shipper.enabled is off: nothing to do.')
  process.exit(0)
}
// enabled 'on' without a DSN drains amavis's default server, 127.0.0.1:6379 db 0.
const dsns = common.data.storage_redis_dsn.length
  ? common.data.storage_redis_dsn
  : c.shipper.enabled === 'on'
    ? [{ server: '127.0.0.1:6379', db_id: 0 }]
    : []
if (!dsns.length) {
  process.stderr.write('vigil shipper: storage_redis_dsn is empty (set it, or collector.shipper.enabled: on)\n')
  process.exit(EX_CONFIG)
}

/** The ship-time Enricher (collector/src/enrich/), or none when disabled or not loadable. */
async function loadEnricher(geo: GeoipConfig, l: Logger): Promise<{ enrich(d: Record<string, unknown>): void } | undefined> {
  if (!geo.enabled) return undefined
  try {
    const m = (await import('./enrich/enricher.ts')) as {
      createEnricher(g: GeoipConfig, l: Logger): Promise<{ enrich(d: Record<string, unknown>): void }>
    }
    return await m.createEnricher(geo, l)
  } catch (err) {
    l.error('GeoIP enrichment unavailable; events are shipped without client_geo.', { err })
    return undefined
  }
}

/** backend.init() until it succeeds (an engine may boot after us) or a signal arrives. */
async function initBackend(b: Backend): Promise<boolean> {
  for (let waitMs = c.shipper.retry_min_ms; !stopping; waitMs = Math.min(waitMs * 2, c.shipper.retry_max_ms)) {
    try {
      await b.init()
      return true
    } catch (err) {
      if (!(err instanceof BackendUnavailableError)) throw err
      log.warn('Search backend not reachable yet; retrying.', { err, retry_in_ms: waitMs })
      await new Promise((r) => setTimeout(r, waitMs))
    }
  }
  return false
}

let stopping = false
let backend: Backend | undefined
const shippers: Shipper[] = []
const shutdown = (sig: string) => {
  if (stopping) return
  stopping = true
  log.info('Stopping: finishing the batch in flight.', { signal: sig })
  Promise.all(shippers.map((s) => s.stop()))
    .then(() => backend?.close())
    .then(
      () => process.exit(0),
      (err) => {
        log.error('Stop failed.', { err })
        process.exit(1)
      },
    )
}
process.on('SIGTERM', () => shutdown('SIGTERM'))
process.on('SIGINT', () => shutdown('SIGINT'))
process.on('SIGHUP', () => log.info('SIGHUP ignored: restart the shipper to apply changes.'))

try {
  backend = await createBackend(c.search, home, log.child(c.search.backend))
  if (!(await initBackend(backend))) process.exit(0)
  const enricher = await loadEnricher(c.geoip, log.child('geoip'))
  const id = c.shipper.id ?? common.data.myhostname
  const seen = new Set<string>()
  for (const d of dsns) {
    const where = `${d.server}/${d.db_id}`
    if (seen.has(where)) continue
    seen.add(where)
    const s = createShipper({
      redis: { server: d.server, db: d.db_id, password: d.password },
      key: common.data.redis_logging_key,
      id,
      backend,
      cfg: c.shipper,
      indexPrefix: c.search.index_prefix,
      deadLetterFile: c.shipper.dead_letter_file || join(home, 'shipper-dead-letter.ndjson'),
      enrich: enricher,
      log: dsns.length > 1 ? log.child(where) : log,
    })
    shippers.push(s)
    if (stopping) break
    await s.start()
  }
  log.info('Shipping.', { id, key: common.data.redis_logging_key, redis: [...seen], backend: c.search.backend })
} catch (err) {
  log.fatal('Cannot start the shipper.', { err })
  process.exit(1)
}
