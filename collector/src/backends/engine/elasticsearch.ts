// Elasticsearch 9 (client @elastic/elasticsearch 9.4) and 8 (@elastic/elasticsearch8, the 8.19
// client): each refuses the other's server (compatible-with headers), so search.elasticsearch_major
// picks one. Both take the same flat request shapes used here. The ES integ-test builds lack
// rest-root (`GET /`, ping() and info() answer 405), so nothing here calls them.
import { Client as Client9 } from '@elastic/elasticsearch'
import { Client as Client8 } from '@elastic/elasticsearch8'
import type { Logger } from '@vigil/protocol'
import type { SearchConfig } from '../../config.ts'
import type { Backend } from '../backend.ts'
import { createEngineBackend } from './engine-backend.ts'
import type { BulkItem, EngineClient } from './engine-client.ts'

/** The calls used, as both Elastic clients declare them (their request types are looser here on purpose). */
interface ElasticClient {
  bulk(req: Record<string, unknown>): Promise<any>
  search(req: Record<string, unknown>): Promise<any>
  indices: {
    putIndexTemplate(req: Record<string, unknown>): Promise<unknown>
    putMapping(req: Record<string, unknown>): Promise<unknown>
    refresh(req: Record<string, unknown>): Promise<unknown>
    delete(req: Record<string, unknown>): Promise<unknown>
    stats(req: Record<string, unknown>): Promise<any>
  }
  cat: { indices(req: Record<string, unknown>): Promise<any> }
  cluster: { health(req?: Record<string, unknown>): Promise<any> }
  close(): Promise<void>
}

const LENIENT = { ignore_unavailable: true, allow_no_indices: true } as const

/** EngineClient over an Elastic client (either major: both return the response body). */
export function elasticEngineClient(es: ElasticClient): EngineClient {
  return {
    async putIndexTemplate(name, body) {
      await es.indices.putIndexTemplate({ name, ...body })
    },
    async putMapping(pattern, mappings) {
      await es.indices.putMapping({ index: pattern, ...LENIENT, ...mappings })
    },
    async bulk(lines) {
      const res = await es.bulk({ operations: lines, filter_path: 'errors,items.*.status,items.*.error' })
      return (res.items ?? []).map((it: Record<string, BulkItem>) => Object.values(it)[0])
    },
    search(pattern, body) {
      return es.search({ index: pattern, ...LENIENT, ...body })
    },
    async refresh(pattern) {
      await es.indices.refresh({ index: pattern, ...LENIENT })
    },
    async listIndices(pattern) {
      const rows = await es.cat.indices({ index: pattern, format: 'json', h: 'index', expand_wildcards: 'open,closed' })
      return (rows as { index: string }[]).map((r) => r.index)
    },
    async deleteIndices(names) {
      await es.indices.delete({ index: [...names], ignore_unavailable: true })
    },
    clusterHealth: () => es.cluster.health(),
    async stats(pattern) {
      const s = await es.indices.stats({ index: pattern, metric: ['docs', 'store'], ...LENIENT })
      return { docs: s?._all?.primaries?.docs?.count ?? 0, sizeBytes: s?._all?.total?.store?.size_in_bytes ?? 0 }
    },
    close: () => es.close(),
  }
}

/** The elasticsearch Backend for the configured nodes and major version; connects lazily (init() is the first call). */
export function createElasticsearchBackend(cfg: SearchConfig, log?: Logger): Backend {
  const options = {
    nodes: cfg.nodes,
    requestTimeout: cfg.request_timeout_ms,
    // The shipper retries with its own backoff; a client retry would only hide an outage longer.
    maxRetries: 0,
    ...(cfg.username !== undefined ? { auth: { username: cfg.username, password: cfg.password ?? '' } } : {}),
  }
  const es = (cfg.elasticsearch_major === 8 ? new Client8(options) : new Client9(options)) as unknown as ElasticClient
  return createEngineBackend({
    kind: 'elasticsearch',
    client: elasticEngineClient(es),
    indexPrefix: cfg.index_prefix,
    shards: cfg.number_of_shards,
    replicas: cfg.number_of_replicas,
    log: log?.child('search/elasticsearch'),
  })
}
