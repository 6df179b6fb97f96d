// OpenSearch 2.x and 3.x through @opensearch-project/opensearch 3.9 (the Elastic clients refuse
// OpenSearch). Its API returns {body, statusCode, headers} and takes request bodies as `body`.
import { Client } from '@opensearch-project/opensearch'
import type { Logger } from '@vigil/protocol'
import type { SearchConfig } from '../../config.ts'
import type { Backend } from '../backend.ts'
import { createEngineBackend } from './engine-backend.ts'
import type { BulkItem, EngineClient } from './engine-client.ts'

/** The calls used, with the request shapes loosened (the DSL bodies are built, not typed). */
interface OpenSearchClient {
  bulk(req: Record<string, unknown>): Promise<{ body: any }>
  search(req: Record<string, unknown>): Promise<{ body: any }>
  indices: {
    putIndexTemplate(req: Record<string, unknown>): Promise<unknown>
    putMapping(req: Record<string, unknown>): Promise<unknown>
    refresh(req: Record<string, unknown>): Promise<unknown>
    delete(req: Record<string, unknown>): Promise<unknown>
    stats(req: Record<string, unknown>): Promise<{ body: any }>
  }
  cat: { indices(req: Record<string, unknown>): Promise<{ body: any }> }
  cluster: { health(req?: Record<string, unknown>): Promise<{ body: any }> }
  close(): Promise<void>
}

const LENIENT = { ignore_unavailable: true, allow_no_indices: true } as const

/** EngineClient over the OpenSearch client. */
export function openSearchEngineClient(os: OpenSearchClient): EngineClient {
  return {
    async putIndexTemplate(name, body) {
      await os.indices.putIndexTemplate({ name, body })
    },
    async putMapping(pattern, mappings) {
      await os.indices.putMapping({ index: pattern, ...LENIENT, body: mappings })
    },
    async bulk(lines) {
      const res = await os.bulk({ body: lines, filter_path: 'errors,items.*.status,items.*.error' })
      return (res.body?.items ?? []).map((it: Record<string, BulkItem>) => Object.values(it)[0])
    },
    async search(pattern, body) {
      return (await os.search({ index: pattern, ...LENIENT, body })).body
    },
    async refresh(pattern) {
      await os.indices.refresh({ index: pattern, ...LENIENT })
    },
    async listIndices(pattern) {
      const res = await os.cat.indices({ index: pattern, format: 'json', h: 'index', expand_wildcards: 'open,closed' })
      return (res.body as { index: string }[]).map((r) => r.index)
    },
    async deleteIndices(names) {
      await os.indices.delete({ index: [...names], ignore_unavailable: true })
    },
    clusterHealth: async () => (await os.cluster.health()).body,
    async stats(pattern) {
      const s = (await os.indices.stats({ index: pattern, metric: ['docs', 'store'], ...LENIENT })).body
      return { docs: s?._all?.primaries?.docs?.count ?? 0, sizeBytes: s?._all?.total?.store?.size_in_bytes ?? 0 }
    },
    close: () => os.close(),
  }
}

/** The opensearch Backend for the configured nodes; connects lazily (init() is the first call). */
export function createOpenSearchBackend(cfg: SearchConfig, log?: Logger): Backend {
  const os = new Client({
    nodes: cfg.nodes,
    requestTimeout: cfg.request_timeout_ms,
    // The shipper retries with its own backoff; a client retry would only hide an outage longer.
    maxRetries: 0,
    ...(cfg.username !== undefined ? { auth: { username: cfg.username, password: cfg.password ?? '' } } : {}),
  }) as unknown as OpenSearchClient
  return createEngineBackend({
    kind: 'opensearch',
    client: openSearchEngineClient(os),
    indexPrefix: cfg.index_prefix,
    shards: cfg.number_of_shards,
    replicas: cfg.number_of_replicas,
    log: log?.child('search/opensearch'),
  })
}
