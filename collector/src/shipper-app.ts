// `vigil shipper`: a standalone shipper, for more shippers on one list than the collector's own, or
// one on another host. Drains @storage_redis_dsn's $redis_logging_key into the configured search
// backend (a drop-in for a Logstash redis input), one shipper per distinct Redis DSN (amavis fails
// over between DSNs, so events may wait in any of them). Component contract: { start, stop, describe }.
import { join } from 'node:path'
import { ErrorCode, VigilError, type CommonConfig, type Logger } from '@vigil/protocol'
import type { CollectorConfig, GeoipConfig } from './config.ts'
import { BackendUnavailableError, type Backend } from './backends/backend.ts'
import { createBackend } from './backends/create.ts'
import { createShipper, type Shipper } from './shipper/shipper.ts'

/** The ship-time Enricher (collector/src/enrich/), or none when disabled or not loadable. */
async function loadEnricher(
  geo: GeoipConfig,
  l: Logger,
  cacheDir: string,
): Promise<{ enrich(d: Record<string, unknown>): void } | undefined> {
  if (!geo.enabled) return undefined
  try {
    const m = await import('./enrich/enricher.ts')
    return await m.createEnricher(geo, l, { cacheDir })
  } catch (err) {
    l.error('GeoIP enrichment unavailable; events are shipped without client_geo.', { err })
    return undefined
  }
}

export function createShipperComponent(common: CommonConfig, c: CollectorConfig, deps: { log: Logger }) {
  const log = deps.log
  // enabled 'on' without a DSN drains amavis's default server, 127.0.0.1:6379 db 0.
  const dsns = common.storage_redis_dsn.length
    ? common.storage_redis_dsn
    : c.shipper.enabled === 'on'
      ? [{ server: '127.0.0.1:6379', db_id: 0, password: undefined }]
      : []
  if (c.shipper.enabled === 'off' || !dsns.length)
    throw new VigilError(
      ErrorCode.CONFIG_INVALID,
      c.shipper.enabled === 'off'
        ? 'collector.shipper.enabled is off: nothing to ship.'
        : 'storage_redis_dsn is empty: set it, or collector.shipper.enabled: on (drains 127.0.0.1:6379).',
    )
  const id = c.shipper.id ?? common.myhostname
  let stopping = false
  let backend: Backend | undefined
  const shippers: Shipper[] = []
  const where = new Set<string>()

  /** backend.init() until it succeeds (an engine may boot after us) or stop() is called. */
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

  return {
    /** The running shippers (tests, status). */
    shippers,
    async start() {
      backend = await createBackend(c.search, common.home, log.child(c.search.backend))
      if (!(await initBackend(backend))) return
      const enricher = await loadEnricher(c.geoip, log.child('geoip'), join(common.home, 'cache'))
      for (const d of dsns) {
        const w = `${d.server}/${d.db_id}`
        if (where.has(w)) continue
        where.add(w)
        const s = createShipper({
          redis: { server: d.server, db: d.db_id, password: d.password },
          key: common.redis_logging_key,
          id,
          backend,
          cfg: c.shipper,
          indexPrefix: c.search.index_prefix,
          deadLetterFile: c.shipper.dead_letter_file || join(common.home, 'shipper-dead-letter.ndjson'),
          enrich: enricher,
          log: dsns.length > 1 ? log.child(w) : log,
        })
        shippers.push(s)
        if (stopping) break
        await s.start()
      }
      log.info('Shipping.', { id, key: common.redis_logging_key, redis: [...where], backend: c.search.backend })
    },
    /** Graceful: the batch in flight is finished and acknowledged (bounded), then the backend closes. */
    async stop() {
      stopping = true
      await Promise.all(shippers.map((s) => s.stop()))
      await backend?.close()
    },
    describe() {
      return [`shipper ${id}: redis ${[...where].join(', ')} list ${common.redis_logging_key} → ${c.search.backend}`]
    },
  }
}
