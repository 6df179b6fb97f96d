// The engine backends against real engines: Elasticsearch 9.5.3 and 8.19.21 (on the 9.x and the
// 8.x client) and OpenSearch 3.8.0 and 2.19.6 (the run's shared instances, or private ones when
// this file runs alone). Each suite keeps to its own index
// prefix and deletes it (and its template) at the end, so suites can share an instance.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { collectorConfigSchema, type SearchConfig } from '../../src/config.ts'
import { BackendUnavailableError, type Backend, type IndexDoc } from '../../src/backends/backend.ts'
import { createElasticsearchBackend } from '../../src/backends/engine/elasticsearch.ts'
import { createOpenSearchBackend } from '../../src/backends/engine/opensearch.ts'
import { templateName } from '../../src/backends/engine/template.ts'
import type {
  DateHistogramResult,
  GeoResult,
  PercentilesResult,
  StatsResult,
  TermsResult,
} from '../../src/search/api.ts'
import { QueryError, type Query } from '../../src/search/query.ts'
import {
  createScope,
  engineRequest,
  freePort,
  requireEngine,
  type EngineKind,
  type SearchEngineInstance,
} from '../../../test/harness/index.ts'

const span = { start: 0, end: 0 }
const ALL: Query = { kind: 'all' }
const term = (field: string, value: string): Query => ({ kind: 'term', field, value, span })

function searchConfig(
  kind: EngineKind,
  url: string,
  prefix: string,
  extra: Record<string, unknown> = {},
): SearchConfig {
  return collectorConfigSchema.parse({ search: { backend: kind, nodes: [url], index_prefix: prefix, ...extra } }).search
}

function dayIndex(prefix: string, tsMs: number): string {
  return `${prefix}${new Date(tsMs).toISOString().slice(0, 10).replaceAll('-', '.')}`
}

function indexDoc(prefix: string, doc: Record<string, unknown>): IndexDoc {
  const tsMs = Date.parse(String(doc['@timestamp']))
  return { id: String(doc.event_id), tsMs, index: dayIndex(prefix, tsMs), doc, json: JSON.stringify(doc) }
}

const T0 = Date.parse('2024-03-01T10:00:00.000Z')
const ACTIONS = ['PASS', 'REJECT', 'PASS', 'DISCARD', 'PASS', 'BOUNCE']
const COUNTRIES: Record<string, { lat: number; lon: number }> = {
  DE: { lat: 51.5, lon: 10.5 },
  FR: { lat: 46.0, lon: 2.0 },
}

/** 12 events, one every 10 minutes from T0; sizes 1000..12000; elapsed.Total 0.5..6. */
function corpus(prefix: string): IndexDoc[] {
  return Array.from({ length: 12 }, (_, i) => {
    const cc = i % 3 === 2 ? undefined : i % 3 === 0 ? 'DE' : 'FR'
    return indexDoc(prefix, {
      '@timestamp': new Date(T0 + i * 600_000).toISOString(),
      event_id: `ev-${String(i).padStart(2, '0')}`,
      type: 'amavis',
      action: ACTIONS[i % ACTIONS.length],
      size: (i + 1) * 1000,
      elapsed: { Total: (i + 1) / 2 },
      subject: `Newsletter number ${i}`,
      client_ip: i % 2 ? `2001:db8::${i}` : `192.0.2.${i}`,
      ...(i === 5 ? {} : { content_type: i % 4 === 0 ? 'Clean' : 'Spam' }),
      ...(cc ? { client_geo: { country_code: cc, location: COUNTRIES[cc] } } : {}),
      recipients: [{ rcpt_to: `u${i}@example.org`, action: ACTIONS[i % ACTIONS.length] }],
    })
  })
}

/** The distributions this file runs on (scripts/test-engines.ts starts one of each for the run). */
const DISTS = ['elasticsearch@9.5.3', 'elasticsearch@8.19.21', 'opensearch@3.8.0', 'opensearch@2.19.6'] as const

for (const id of DISTS) {
  const [kind, version] = id.split('@') as [EngineKind, string]
  const major = Number(version.split('.')[0])
  // Elasticsearch 8 servers are driven by the 8.x client (elasticsearch_major: 8), as users of ES 8 configure it
  const clientOpts = kind === 'elasticsearch' && major === 8 ? { elasticsearch_major: 8 } : {}
  describe(`${kind} backend against a real ${kind === 'elasticsearch' ? 'Elasticsearch' : 'OpenSearch'} ${version}`, () => {
    const scope = createScope()
    const prefix = `vigil-t-${randomUUID().slice(0, 8)}-`
    let engine: SearchEngineInstance
    let backend: Backend
    const create = (cfg: SearchConfig) =>
      kind === 'elasticsearch' ? createElasticsearchBackend(cfg) : createOpenSearchBackend(cfg)

    before(async () => {
      engine = await requireEngine(kind, scope, { version })
      backend = create(searchConfig(kind, engine.url, prefix, clientOpts))
    })
    after(async () => {
      await backend?.close()
      if (engine) {
        await engineRequest(engine.url, 'DELETE', `/${prefix}*`)
        await engineRequest(engine.url, 'DELETE', `/_index_template/${templateName(prefix)}`)
      }
      await scope.close()
    })

    test('init() puts one composable template with the catalogue mapping, and is idempotent', async () => {
      await backend.init()
      await backend.init()
      const r = await engineRequest(engine.url, 'GET', `/_index_template/${templateName(prefix)}`)
      assert.equal(r.status, 200)
      const t = r.body.index_templates[0].index_template
      assert.deepEqual(t.index_patterns, [`${prefix}*`])
      const m = t.template.mappings
      assert.equal(String(m.dynamic), 'false')
      assert.equal(m.properties.subject.fields.keyword.type, 'keyword')
      assert.equal(m.properties.client_ip.type, 'ip')
      assert.equal(m.properties.elapsed.properties.Total.type, 'float')
      assert.equal(m.properties.time_unix.type, 'double')
      assert.equal(m.properties.client_geo.properties.location.type, 'geo_point')
      assert.equal(m.properties.recipients.properties.action.type, 'keyword')
    })

    test('bulk() stores every event once: a re-sent event overwrites itself', async () => {
      const docs = corpus(prefix)
      const first = await backend.bulk(docs)
      assert.deepEqual(
        first,
        docs.map(() => ({ status: 'ok' })),
      )
      const changed = docs.map((d) => (d.id === 'ev-03' ? indexDoc(prefix, { ...d.doc, subject: 'Changed' }) : d))
      assert.deepEqual(
        await backend.bulk(changed),
        docs.map(() => ({ status: 'ok' })),
      )
      await backend.refresh()
      const count = await engineRequest(engine.url, 'GET', `/${prefix}*/_count`)
      assert.equal(count.body.count, 12)
      const hit = await backend.search({ query: term('event_id', 'ev-03'), size: 10, sort: [] })
      assert.equal(hit.total, 1)
      assert.equal(hit.hits[0].subject, 'Changed')
      // Restore the corpus for the tests below.
      await backend.bulk([docs[3]])
      await backend.refresh()
    })

    test('bulk() rejects a mapping conflict with the engine reason and stores the rest', async () => {
      const ok = indexDoc(prefix, { '@timestamp': '2024-03-02T00:00:00Z', event_id: 'x-ok', type: 'amavis' })
      const badSize = indexDoc(prefix, { '@timestamp': '2024-03-02T00:00:00Z', event_id: 'x-size', size: 'large' })
      const badSubject = indexDoc(prefix, {
        '@timestamp': '2024-03-02T00:00:00Z',
        event_id: 'x-subj',
        subject: { a: 1 },
      })
      const res = await backend.bulk([ok, badSize, badSubject])
      assert.deepEqual(res[0], { status: 'ok' })
      for (const r of res.slice(1)) {
        assert.equal(r.status, 'reject')
        assert.equal((r as { code: number }).code, 400)
      }
      assert.match(
        (res[1] as { reason: string }).reason,
        /^(mapper_parsing_exception|document_parsing_exception): .*\[size\]/,
      )
      assert.match((res[2] as { reason: string }).reason, /\[subject\]/)
      await backend.refresh()
      const r = await backend.search({ query: ALL, fromMs: Date.parse('2024-03-02T00:00:00Z'), size: 10, sort: [] })
      assert.deepEqual(
        r.hits.map((h) => h.event_id),
        ['x-ok'],
      )
      await engineRequest(engine.url, 'DELETE', `/${prefix}2024.03.02`)
    })

    test('search() answers an exact total, sorts with the event_id tie-breaker, pages with search_after', async () => {
      const all = await backend.search({ query: ALL, size: 50, sort: [] })
      assert.equal(all.total, 12)
      assert.equal(all.next, undefined)
      assert.equal(all.hits[0].event_id, 'ev-11', 'newest first by default')
      const byAction = await backend.search({ query: ALL, size: 50, sort: [{ field: 'action', order: 'asc' }] })
      assert.deepEqual(byAction.hits.map((h) => `${h.action}/${h.event_id}`).slice(0, 4), [
        'BOUNCE/ev-05',
        'BOUNCE/ev-11',
        'DISCARD/ev-03',
        'DISCARD/ev-09',
      ])
      const seen: string[] = []
      let token: string | undefined
      let pages = 0
      do {
        const page = await backend.search({
          query: ALL,
          size: 5,
          sort: [{ field: 'size', order: 'asc' }],
          searchAfter: token,
        })
        assert.equal(page.total, 12)
        seen.push(...page.hits.map((h) => String(h.event_id)))
        token = page.next
        pages++
      } while (token && pages < 10)
      assert.equal(pages, 3)
      assert.deepEqual(
        seen,
        corpus(prefix).map((d) => d.id),
      )
      // Sorted on a field some events lack: those come last, on every page.
      const ct = await backend.search({ query: ALL, size: 12, sort: [{ field: 'content_type', order: 'desc' }] })
      assert.equal(ct.hits[11].event_id, 'ev-05')
    })

    test('search() filters on the time range and returns only the requested fields', async () => {
      const r = await backend.search({
        query: term('action', 'PASS'),
        fromMs: T0 + 600_000,
        toMs: T0 + 6 * 600_000,
        size: 10,
        sort: [{ field: '@timestamp', order: 'asc' }],
        fields: ['event_id', 'elapsed.Total'],
      })
      assert.equal(r.total, 3)
      assert.deepEqual(r.hits, [
        { event_id: 'ev-02', elapsed: { Total: 1.5 } },
        { event_id: 'ev-04', elapsed: { Total: 2.5 } },
        { event_id: 'ev-06', elapsed: { Total: 3.5 } },
      ])
    })

    test('a token that is not ours is a QueryError (400), as on the embedded store', async () => {
      await assert.rejects(backend.search({ query: ALL, size: 1, sort: [], searchAfter: 'bm9wZQ' }), QueryError)
    })

    test('aggregate(): date_histogram with a fixed interval covers the whole range, empty buckets included', async () => {
      const r = await backend.aggregate({
        query: ALL,
        fromMs: T0 - 3_600_000,
        toMs: T0 + 3 * 3_600_000 - 1,
        aggs: {
          h: { type: 'date_histogram', interval: '1h', metric: { op: 'max', field: 'elapsed.Total' } },
        },
      })
      assert.equal(r.total, 12)
      const h = r.aggs.h as DateHistogramResult
      assert.equal(h.interval_ms, 3_600_000)
      assert.deepEqual(
        h.buckets.map((b) => [b.key_as_string, b.doc_count, b.metric]),
        [
          ['2024-03-01T09:00:00.000Z', 0, null],
          ['2024-03-01T10:00:00.000Z', 6, 3],
          ['2024-03-01T11:00:00.000Z', 6, 6],
          ['2024-03-01T12:00:00.000Z', 0, null],
        ],
      )
    })

    test('aggregate(): auto interval, with and without a range; split and series count within each bucket', async () => {
      const ranged = await backend.aggregate({
        query: ALL,
        fromMs: T0,
        toMs: T0 + 2 * 3_600_000 - 1,
        aggs: { h: { type: 'date_histogram', interval: 'auto', buckets: 10 } },
      })
      // 2 h in ≤ 10 buckets: 30 min is the smallest interval of the ladder that fits (4 buckets).
      assert.equal((ranged.aggs.h as DateHistogramResult).interval_ms, 30 * 60_000)
      assert.equal((ranged.aggs.h as DateHistogramResult).buckets.length, 4)
      const open = await backend.aggregate({
        query: ALL,
        aggs: {
          h: {
            type: 'date_histogram',
            interval: 'auto',
            buckets: 12,
            split: { field: 'action', size: 2 },
            series: [
              { name: 'big', query: { kind: 'range', field: 'size', gte: '6000', span } },
              { name: 'rejects', query: term('action', 'REJECT') },
            ],
          },
        },
      })
      const h = open.aggs.h as DateHistogramResult
      // Data span 10:00–11:50: 110 min in ≤ 12 buckets → 10 min.
      assert.equal(h.interval_ms, 600_000)
      assert.equal(h.buckets.length, 12)
      assert.deepEqual(h.buckets[0].split, { PASS: 1, BOUNCE: 0 })
      assert.deepEqual(h.buckets[1].split, { PASS: 0, BOUNCE: 0 })
      assert.deepEqual(h.buckets[5].split, { PASS: 0, BOUNCE: 1 })
      const sum = (k: 'big' | 'rejects') => h.buckets.reduce((n, b) => n + (b.series?.[k] ?? 0), 0)
      assert.equal(sum('big'), 7)
      assert.equal(sum('rejects'), 2)
    })

    test('aggregate(): terms over the whole result with the rest and the missing counted', async () => {
      const r = await backend.aggregate({
        query: ALL,
        aggs: {
          a: { type: 'terms', field: 'action', size: 2 },
          c: { type: 'terms', field: 'content_type', size: 10 },
          ip: { type: 'terms', field: 'client_ip', size: 1 },
          r: { type: 'terms', field: 'recipients.action', size: 1 },
        },
      })
      assert.deepEqual(r.aggs.a, {
        buckets: [
          { key: 'PASS', doc_count: 6 },
          { key: 'BOUNCE', doc_count: 2 },
        ],
        other_doc_count: 4,
        missing_doc_count: 0,
      } satisfies TermsResult)
      assert.deepEqual(r.aggs.c, {
        buckets: [
          { key: 'Spam', doc_count: 8 },
          { key: 'Clean', doc_count: 3 },
        ],
        other_doc_count: 0,
        missing_doc_count: 1,
      })
      assert.equal((r.aggs.ip as TermsResult).buckets[0].key, '192.0.2.0')
      assert.deepEqual((r.aggs.r as TermsResult).buckets, [{ key: 'PASS', doc_count: 6 }])
    })

    test('aggregate(): stats, percentiles and the geo breakdown', async () => {
      const r = await backend.aggregate({
        query: ALL,
        aggs: {
          s: { type: 'stats', field: 'elapsed.Total' },
          none: { type: 'stats', field: 'spam_score' },
          p: { type: 'percentiles', field: 'size', percents: [50, 99.9] },
          g: { type: 'geo', size: 10 },
        },
      })
      assert.deepEqual(r.aggs.s, { count: 12, min: 0.5, max: 6, avg: 3.25, sum: 39 } satisfies StatsResult)
      assert.deepEqual(r.aggs.none, { count: 0, min: null, max: null, avg: null, sum: 0 })
      const p = (r.aggs.p as PercentilesResult).values
      assert.deepEqual(Object.keys(p), ['50.0', '99.9'])
      assert.ok(p['50.0']! >= 6000 && p['50.0']! <= 7000, `median of 1000..12000: ${p['50.0']}`)
      assert.ok(p['99.9']! > 11000 && p['99.9']! <= 12000)
      assert.deepEqual((r.aggs.g as GeoResult).buckets, [
        { country_code: 'DE', doc_count: 4, location: COUNTRIES.DE },
        { country_code: 'FR', doc_count: 4, location: COUNTRIES.FR },
      ])
    })

    test('aggregate() over a range with no index at all still answers every bucket', async () => {
      const r = await backend.aggregate({
        query: ALL,
        fromMs: Date.parse('2020-01-01T00:00:00Z'),
        toMs: Date.parse('2020-01-01T00:59:59Z'),
        aggs: { h: { type: 'date_histogram', interval: '30m' }, t: { type: 'terms', field: 'action', size: 3 } },
      })
      assert.equal(r.total, 0)
      assert.deepEqual(
        (r.aggs.h as DateHistogramResult).buckets.map((b) => b.doc_count),
        [0, 0],
      )
      assert.deepEqual(r.aggs.t, { buckets: [], other_doc_count: 0, missing_doc_count: 0 })
    })

    test('health() reports the cluster up with the stored documents', async () => {
      const h = await backend.health()
      assert.equal(h.up, true, h.detail)
      assert.equal(h.docs, 12)
      assert.ok((h.sizeBytes ?? 0) > 0, `sizeBytes ${h.sizeBytes}`)
    })

    test('applyRetention() deletes whole days past retention and nothing else', async () => {
      const now = Date.parse('2024-03-31T10:00:00Z')
      const old = ['2024-02-28', '2024-02-29', '2024-03-01T05:00:00Z'].map((d, i) =>
        indexDoc(prefix, { '@timestamp': d.length === 10 ? `${d}T12:00:00Z` : d, event_id: `old-${i}` }),
      )
      assert.ok((await backend.bulk(old)).every((r) => r.status === 'ok'))
      // 30 days before now is 2024-03-01T10:00: the 1st still has younger events, so it stays.
      const deleted = await backend.applyRetention(now, 30)
      assert.deepEqual(deleted, [`${prefix}2024.02.28`, `${prefix}2024.02.29`])
      const left = await engineRequest(engine.url, 'GET', `/_cat/indices/${prefix}*?h=index&format=json`)
      assert.deepEqual(
        left.body.map((r: { index: string }) => r.index),
        [`${prefix}2024.03.01`],
      )
      assert.deepEqual(await backend.applyRetention(now, 0), [], '0 keeps everything')
    })

    test('an unreachable engine is BackendUnavailableError for writes and reads, and down in health()', async () => {
      const port = await freePort()
      const down = create(
        searchConfig(kind, `http://127.0.0.1:${port}`, prefix, { ...clientOpts, request_timeout_ms: 2000 }),
      )
      try {
        await assert.rejects(down.init(), BackendUnavailableError)
        await assert.rejects(down.bulk(corpus(prefix).slice(0, 1)), BackendUnavailableError)
        await assert.rejects(down.search({ query: ALL, size: 1, sort: [] }), BackendUnavailableError)
        const h = await down.health()
        assert.equal(h.up, false)
        assert.match(h.detail ?? '', /ConnectionError/)
      } finally {
        await down.close()
      }
    })

    if (kind === 'elasticsearch' && major === 9)
      test('the 8.x client (elasticsearch_major: 8) works too, through the server’s REST compatibility', async () => {
        const es8 = createElasticsearchBackend(searchConfig(kind, engine.url, prefix, { elasticsearch_major: 8 }))
        try {
          await es8.init()
          const r = await es8.search({ query: term('action', 'REJECT'), size: 5, sort: [] })
          assert.equal(r.total, 2)
          const a = await es8.aggregate({ query: ALL, aggs: { t: { type: 'terms', field: 'action', size: 1 } } })
          assert.deepEqual((a.aggs.t as TermsResult).buckets, [{ key: 'PASS', doc_count: 6 }])
        } finally {
          await es8.close()
        }
      })
  })
}
