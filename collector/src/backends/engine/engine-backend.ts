// The Backend of both engines (Elasticsearch 8/9, OpenSearch 2/3), written once over EngineClient:
// elasticsearch.ts and opensearch.ts only adapt their official client. Daily indices
// `<prefix>YYYY.MM.DD` under one composable template; reads go to `<prefix>*`.
import type { Logger } from '@vigil/protocol'
import type { AggsRequest, AggsResponse, SearchRequest, SearchResponse } from '../../search/api.ts'
import { withTimeRange } from '../../search/compile-dsl.ts'
import {
  BackendUnavailableError,
  type Backend,
  type BackendHealth,
  type IndexDoc,
  type ItemResult,
} from '../backend.ts'
import { buildAggs, buildPrepassAggs, readAggs, readPrepass } from './aggs.ts'
import { classifyError, type BulkItem, type EngineClient } from './engine-client.ts'
import { buildSearchBody, readSearchResponse } from './search-body.ts'
import { buildIndexTemplate, indexPattern, templateName } from './template.ts'

export interface EngineBackendOptions {
  readonly kind: 'elasticsearch' | 'opensearch'
  readonly client: EngineClient
  readonly indexPrefix: string
  readonly shards: number
  readonly replicas: number
  readonly log?: Logger
}

const DAY_MS = 86_400_000

/** Per-item outcome of a `_bulk` item: 2xx stored; 429 and 5xx transient; any other status final. */
export function itemResult(item: BulkItem | undefined): ItemResult {
  if (!item) return { status: 'retry', code: 0, reason: 'no result for this item in the bulk response' }
  if (item.status >= 200 && item.status < 300) return { status: 'ok' }
  const e = item.error
  const cause = e?.caused_by?.reason ? ` (${[e.caused_by.type, e.caused_by.reason].filter(Boolean).join(': ')})` : ''
  const reason = (e ? [e.type, e.reason].filter(Boolean).join(': ') : `HTTP ${item.status}`) + cause
  if (item.status === 429 || item.status >= 500) return { status: 'retry', code: item.status, reason }
  return { status: 'reject', code: item.status, reason }
}

/** The UTC day (epoch ms of its midnight) a daily index name stands for, or null when it is not `<prefix>YYYY.MM.DD`. */
export function dailyIndexDay(indexPrefix: string, name: string): number | null {
  if (!name.startsWith(indexPrefix)) return null
  const m = /^(\d{4})\.(\d{2})\.(\d{2})$/.exec(name.slice(indexPrefix.length))
  if (!m) return null
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))
  return new Date(t).getUTCDate() === Number(m[3]) ? t : null
}

/** Whether a whole day is past retention: its last millisecond is more than retentionDays before nowMs. */
export function isExpiredDay(dayStartMs: number, nowMs: number, retentionDays: number): boolean {
  return retentionDays > 0 && dayStartMs + DAY_MS <= nowMs - retentionDays * DAY_MS
}

export function createEngineBackend(opts: EngineBackendOptions): Backend {
  const { client, indexPrefix, log } = opts
  const pattern = indexPattern(indexPrefix)

  /** Rethrows an engine failure: unreachable, 5xx, 429 and auth failures as BackendUnavailableError. */
  function rethrow(what: string, err: unknown): never {
    const c = classifyError(err)
    if (c.unreachable || (c.status ?? 0) >= 500 || c.status === 429 || c.status === 401 || c.status === 403)
      throw new BackendUnavailableError(`${opts.kind} ${what}: ${c.status ? `HTTP ${c.status} ` : ''}${c.reason}`, {
        cause: err,
      })
    throw new Error(`${opts.kind} ${what}: HTTP ${c.status} ${c.reason}`, { cause: err })
  }

  async function sendBulk(docs: readonly IndexDoc[]): Promise<ItemResult[]> {
    const lines: (string | Record<string, unknown>)[] = []
    for (const d of docs) {
      lines.push({ index: { _index: d.index, _id: d.id } })
      // The prepared JSON goes out as is (no second stringify), unless it is not one ndjson line.
      lines.push(d.json.includes('\n') ? (d.doc as Record<string, unknown>) : d.json)
    }
    let items: BulkItem[]
    try {
      items = await client.bulk(lines)
    } catch (err) {
      const c = classifyError(err)
      // Too large for the engine's http.max_content_length: halve until it fits (one doc: final).
      if (c.status === 413 && docs.length > 1) {
        const half = Math.ceil(docs.length / 2)
        return [...(await sendBulk(docs.slice(0, half))), ...(await sendBulk(docs.slice(half)))]
      }
      if (c.status === 429) return docs.map(() => ({ status: 'retry', code: 429, reason: c.reason }))
      if (c.status !== undefined && c.status < 500 && c.status !== 401 && c.status !== 403)
        return docs.map(() => ({ status: 'reject', code: c.status!, reason: c.reason }))
      rethrow('bulk', err)
    }
    return docs.map((_, i) => itemResult(items[i]))
  }

  async function searchBody(body: Record<string, unknown>): Promise<any> {
    try {
      return await client.search(pattern, body)
    } catch (err) {
      rethrow('search', err)
    }
  }

  return {
    kind: opts.kind,

    async init() {
      try {
        const template = buildIndexTemplate({ indexPrefix, shards: opts.shards, replicas: opts.replicas })
        await client.putIndexTemplate(templateName(indexPrefix), template)
        const mappings = (template.template as { mappings: Record<string, unknown> }).mappings
        // Indices created before a catalogue change get its new fields (additions only).
        await client.putMapping(pattern, mappings).catch((err: unknown) => {
          log?.warn('Existing daily indices keep their old mapping.', { pattern, reason: classifyError(err).reason })
        })
      } catch (err) {
        rethrow('init', err)
      }
    },

    async bulk(docs) {
      if (!docs.length) return []
      return sendBulk(docs)
    },

    async refresh() {
      try {
        await client.refresh(pattern)
      } catch (err) {
        rethrow('refresh', err)
      }
    },

    async search(req: SearchRequest): Promise<SearchResponse> {
      return readSearchResponse(req, await searchBody(buildSearchBody(req)))
    },

    async aggregate(req: AggsRequest): Promise<AggsResponse> {
      const query = withTimeRange(req.query, req.fromMs, req.toMs)
      const prepassAggs = buildPrepassAggs(req)
      const prepass = readPrepass(
        req,
        prepassAggs ? (await searchBody({ query, size: 0, aggs: prepassAggs })).aggregations : undefined,
      )
      const plan = buildAggs(req, prepass)
      const body = await searchBody({
        query,
        size: 0,
        track_total_hits: true,
        ...(Object.keys(plan.aggs).length ? { aggs: plan.aggs } : {}),
      })
      const total = body?.hits?.total?.value ?? 0
      return { total, aggs: readAggs(req, plan, body?.aggregations) }
    },

    async applyRetention(nowMs, retentionDays) {
      if (retentionDays <= 0) return []
      let names: string[]
      try {
        names = await client.listIndices(pattern)
      } catch (err) {
        rethrow('retention', err)
      }
      const expired = names
        .filter((n) => {
          const day = dailyIndexDay(indexPrefix, n)
          return day !== null && isExpiredDay(day, nowMs, retentionDays)
        })
        .sort()
      // Small batches keep the DELETE URL short.
      for (let i = 0; i < expired.length; i += 50) {
        try {
          await client.deleteIndices(expired.slice(i, i + 50))
        } catch (err) {
          rethrow('retention', err)
        }
      }
      if (expired.length) log?.info('Retention deleted whole days.', { indices: expired.length, first: expired[0] })
      return expired
    },

    async health(): Promise<BackendHealth> {
      try {
        const h = await client.clusterHealth()
        const st = await client.stats(pattern).catch(() => undefined)
        return {
          up: h.status === 'green' || h.status === 'yellow',
          detail: `${opts.kind} cluster ${h.cluster_name ?? ''} ${h.status}`.replace(/\s+/g, ' '),
          ...(st ? { docs: st.docs, sizeBytes: st.sizeBytes } : {}),
        }
      } catch (err) {
        return { up: false, detail: `${opts.kind}: ${classifyError(err).reason}` }
      }
    },

    async close() {
      await client.close()
    },
  }
}
