// Sorting, paging, projection and every aggregation of the embedded store, on a real SQLite file,
// with expected values computed by hand from the generated corpus.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { createScope, tmpDir } from '../../../../test/harness/index.ts'
import type { Backend } from '../../../src/backends/backend.ts'
import { createEmbeddedBackend } from '../../../src/backends/embedded/store.ts'
import type {
  DateHistogramResult,
  GeoResult,
  PercentilesResult,
  StatsResult,
  TermsResult,
} from '../../../src/search/api.ts'
import type { Query } from '../../../src/search/query.ts'
import { amavisEvent, BASE_MS } from './events.ts'

const N = 40
const all: Query = { kind: 'all' }
const span = { start: 0, end: 0 }

describe('embedded store search and aggregations', () => {
  const scope = createScope()
  let b: Backend
  before(async () => {
    const dir = await tmpDir(scope, 'vigil-embedded-aggs-')
    b = createEmbeddedBackend({
      path: join(dir, 'a.sqlite'),
      indexPrefix: 'amavis-',
      maxSizeBytes: 1 << 30,
      vacuum: false,
    })
    scope.after(() => b.close())
    // One event a minute from BASE_MS; event 7 has no size, event 8 no country.
    const docs = Array.from({ length: N }, (_, n) =>
      amavisEvent(n, n === 7 ? { size: null } : n === 8 ? { client_geo: { ip: '10.0.0.1', label: 'private' } } : {}),
    )
    await b.bulk(docs)
  })
  after(() => scope.close())

  it('sorts by @timestamp descending by default and pages with search_after to the end', async () => {
    const seen: string[] = []
    let next: string | undefined
    for (let page = 0; page < 10; page++) {
      const r = await b.search({ query: all, size: 15, sort: [], searchAfter: next })
      assert.equal(r.total, N)
      seen.push(...r.hits.map((h) => String(h.event_id)))
      next = r.next
      if (!next) break
    }
    assert.deepEqual(
      seen,
      Array.from({ length: N }, (_, i) => `ev-${N - 1 - i}`),
    )
  })

  it('sorts on a keyword field with event_id as tie-breaker, missing values last in both orders', async () => {
    for (const order of ['asc', 'desc'] as const) {
      const hits: Record<string, unknown>[] = []
      let next: string | undefined
      do {
        const r = await b.search({
          query: all,
          size: 7,
          sort: [{ field: 'client_geo.country_code', order }],
          searchAfter: next,
        })
        hits.push(...r.hits)
        next = r.next
      } while (next)
      const codes = hits.map((h) => (h.client_geo as { country_code?: string }).country_code ?? null)
      const present = codes.filter((c) => c !== null) as string[]
      const sorted = [...present].sort()
      assert.deepEqual(present, order === 'asc' ? sorted : sorted.reverse())
      assert.equal(codes[codes.length - 1], null, 'the document without a country comes last')
      assert.equal(hits.length, N)
      const ids = hits
        .filter((h) => (h.client_geo as { country_code?: string }).country_code === 'US')
        .map((h) => String(h.event_id))
      assert.deepEqual(
        ids,
        [...ids].sort((x, y) => (order === 'asc' ? (x < y ? -1 : 1) : x < y ? 1 : -1)),
      )
    }
  })

  it('sorts on a numeric field', async () => {
    const r = await b.search({ query: all, size: 3, sort: [{ field: 'size', order: 'desc' }] })
    const sizes = Array.from({ length: N }, (_, n) => (n === 7 ? -1 : 1000 + ((n * 37) % 20000))).sort((x, y) => y - x)
    assert.deepEqual(
      r.hits.map((h) => h.size),
      sizes.slice(0, 3),
    )
  })

  it('projects the requested fields, keeping the structure of object arrays', async () => {
    const r = await b.search({
      query: { kind: 'term', field: 'event_id', value: 'ev-3', span },
      size: 1,
      sort: [],
      fields: ['log_id', 'recipients.action', 'client_geo.country_code'],
    })
    assert.deepEqual(r.hits[0], {
      log_id: '04003-04',
      recipients: [{ action: 'REJECT' }, { action: 'PASS' }],
      client_geo: { country_code: 'FR' },
    })
  })

  it('restricts hits and aggregations to the time range', async () => {
    const fromMs = BASE_MS + 10 * 60000
    const toMs = BASE_MS + 19 * 60000
    const r = await b.search({ query: all, fromMs, toMs, size: 0, sort: [] })
    assert.equal(r.total, 10)
    const a = await b.aggregate({ query: all, fromMs, toMs, aggs: { t: { type: 'terms', field: 'action', size: 1 } } })
    assert.equal(a.total, 10)
    const t = a.aggs.t as TermsResult
    assert.equal(t.buckets[0].doc_count + t.other_doc_count, 10)
  })

  for (const [name, query] of [
    ['with no query (side-row time filter)', all],
    [
      'with a query (matching rids joined)',
      { kind: 'bool', must: [], should: [], mustNot: [{ kind: 'none' }], minimumShould: 0 },
    ],
  ] as [string, Query][])
    it(`terms counts documents per value, desc count then asc key, with the rest and the missing ${name}`, async () => {
      const a = await b.aggregate({
        query,
        aggs: {
          t: { type: 'terms', field: 'action', size: 3 },
          c: { type: 'terms', field: 'client_geo.country_code', size: 10 },
        },
      })
      const counts = new Map<string, number>()
      for (let n = 0; n < N; n++) {
        const act = ['PASS', 'PASS', 'PASS', 'REJECT', 'DISCARD', 'BOUNCE', 'TEMPFAIL'][n % 7]
        counts.set(act, (counts.get(act) ?? 0) + 1)
      }
      const expected = [...counts].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))
      assert.deepEqual(a.aggs.t, {
        buckets: expected.slice(0, 3).map(([key, doc_count]) => ({ key, doc_count })),
        other_doc_count: expected.slice(3).reduce((s, e) => s + e[1], 0),
        missing_doc_count: 0,
      })
      const c = a.aggs.c as TermsResult
      assert.equal(c.missing_doc_count, 1)
      assert.deepEqual(
        c.buckets.map((x) => x.key),
        ['CN', 'DE', 'FR', 'US'],
      )
      assert.deepEqual(
        c.buckets.map((x) => x.doc_count),
        [10, 10, 10, 9],
      )
    })

  it('terms on a multi-valued field counts each document once per value', async () => {
    const a = await b.aggregate({ query: all, aggs: { r: { type: 'terms', field: 'rcpt_to', size: 20 } } })
    const t = a.aggs.r as TermsResult
    assert.equal(t.buckets.find((x) => x.key === 'carol@example.org')?.doc_count, Math.ceil(N / 3))
  })

  it('terms keys of booleans and ips are typed as the engines return them', async () => {
    const a = await b.aggregate({
      query: all,
      aggs: { o: { type: 'terms', field: 'originating', size: 2 }, i: { type: 'terms', field: 'dst_ip', size: 2 } },
    })
    assert.deepEqual((a.aggs.o as TermsResult).buckets, [
      { key: false, doc_count: 30 },
      { key: true, doc_count: 10 },
    ])
    assert.deepEqual((a.aggs.i as TermsResult).buckets, [{ key: '127.0.0.1', doc_count: N }])
  })

  it('stats counts values, not documents, and percentiles interpolate between closest ranks', async () => {
    const a = await b.aggregate({
      query: all,
      aggs: {
        s: { type: 'stats', field: 'recipients.spam_score' },
        p: { type: 'percentiles', field: 'size', percents: [0, 50, 99.5, 100] },
        e: { type: 'stats', field: 'size' },
      },
    })
    const scores: number[] = []
    for (let n = 0; n < N; n++) for (let r = 0; r < (n % 3 === 0 ? 2 : 1); r++) scores.push((n % 20) - 5)
    const s = a.aggs.s as StatsResult
    assert.equal(s.count, scores.length)
    assert.equal(s.min, -5)
    assert.equal(s.max, 14)
    assert.equal(
      s.sum,
      scores.reduce((x, y) => x + y, 0),
    )
    const sizes = Array.from({ length: N }, (_, n) => 1000 + ((n * 37) % 20000))
      .filter((_, n) => n !== 7)
      .sort((x, y) => x - y)
    const pct = (p: number) => {
      const rank = (p / 100) * (sizes.length - 1)
      const lo = Math.floor(rank)
      return sizes[lo] + (sizes[Math.ceil(rank)] - sizes[lo]) * (rank - lo)
    }
    assert.deepEqual((a.aggs.p as PercentilesResult).values, {
      '0.0': sizes[0],
      '50.0': pct(50),
      '99.5': pct(99.5),
      '100.0': sizes[sizes.length - 1],
    })
    assert.equal((a.aggs.e as StatsResult).count, N - 1)
  })

  it('stats and percentiles of no values are null', async () => {
    const a = await b.aggregate({
      query: { kind: 'none' },
      aggs: { s: { type: 'stats', field: 'size' }, p: { type: 'percentiles', field: 'size', percents: [50] } },
    })
    assert.deepEqual(a.aggs.s, { count: 0, min: null, max: null, avg: null, sum: 0 })
    assert.deepEqual(a.aggs.p, { values: { '50.0': null } })
  })

  it('date_histogram returns every UTC-aligned bucket of the range, empty ones included', async () => {
    const fromMs = BASE_MS - 7 * 60000
    const toMs = BASE_MS + 50 * 60000
    const a = await b.aggregate({ query: all, fromMs, toMs, aggs: { h: { type: 'date_histogram', interval: '10m' } } })
    const h = a.aggs.h as DateHistogramResult
    assert.equal(h.interval_ms, 600000)
    assert.deepEqual(
      h.buckets.map((x) => [x.key_as_string.slice(11, 16), x.doc_count]),
      [
        ['09:50', 0],
        ['10:00', 10],
        ['10:10', 10],
        ['10:20', 10],
        ['10:30', 10],
        ['10:40', 0],
        ['10:50', 0],
      ],
    )
  })

  it("date_histogram 'auto' picks the smallest ladder interval giving at most `buckets` buckets", async () => {
    const a = await b.aggregate({ query: all, aggs: { h: { type: 'date_histogram', interval: 'auto', buckets: 5 } } })
    const h = a.aggs.h as DateHistogramResult
    // The data spans 10:00–10:39: 10 m gives 4 buckets, 5 m would give 8.
    assert.equal(h.interval_ms, 600000)
    assert.equal(h.buckets.length, 4)
  })

  it('date_histogram split, metric and series per bucket', async () => {
    const a = await b.aggregate({
      query: all,
      aggs: {
        h: {
          type: 'date_histogram',
          interval: '10m',
          split: { field: 'action', size: 2 },
          metric: { op: 'max', field: 'elapsed.Total' },
          series: [{ name: 'us', query: { kind: 'term', field: 'client_geo.country_code', value: 'us', span } }],
        },
      },
    })
    const h = a.aggs.h as DateHistogramResult
    const first = h.buckets[0]
    // Top two over the whole result: PASS (18), then DISCARD (6, before REJECT's 6 by key).
    // Events 0–9: PASS at 0, 1, 2, 7, 8, 9; DISCARD at 4.
    assert.deepEqual(Object.keys(first.split ?? {}), ['PASS', 'DISCARD'])
    assert.equal(first.split?.PASS, 6)
    assert.equal(first.split?.DISCARD, 1)
    assert.equal(first.metric, Math.fround(0.5))
    assert.equal(first.series?.us, 2, 'events 0 and 4 (8 has no country)')
    assert.equal(h.buckets[3].metric, Math.fround(2))
  })

  it('date_histogram percentiles per bucket equal the percentiles aggregation over that bucket alone', async () => {
    const fromMs = BASE_MS - 10 * 60000
    const toMs = BASE_MS + 40 * 60000 - 1
    const percents = [0, 25, 50, 95, 99.9, 100]
    const a = await b.aggregate({
      query: all,
      fromMs,
      toMs,
      aggs: {
        h: {
          type: 'date_histogram',
          interval: '10m',
          metric: { op: 'max', field: 'elapsed.Total' },
          percentiles: { field: 'size', percents },
        },
      },
    })
    const h = a.aggs.h as DateHistogramResult
    assert.equal(h.buckets.length, 5)
    assert.deepEqual(h.buckets[0].percentiles, {
      '0.0': null,
      '25.0': null,
      '50.0': null,
      '95.0': null,
      '99.9': null,
      '100.0': null,
    })
    assert.equal(h.buckets[0].metric, null, 'an empty bucket')
    for (const bucket of h.buckets.slice(1)) {
      const one = await b.aggregate({
        query: all,
        fromMs: bucket.key,
        toMs: bucket.key + h.interval_ms - 1,
        aggs: { p: { type: 'percentiles', field: 'size', percents } },
      })
      assert.deepEqual(bucket.percentiles, (one.aggs.p as PercentilesResult).values, bucket.key_as_string)
      assert.equal(typeof bucket.metric, 'number', 'metric beside percentiles')
    }
    // By hand, events 0–9 (event 7 has no size): sizes 1000 + 37n.
    const sizes = [0, 1, 2, 3, 4, 5, 6, 8, 9].map((n) => 1000 + 37 * n)
    const rank = 0.25 * (sizes.length - 1)
    assert.equal(h.buckets[1].percentiles?.['25.0'], sizes[Math.floor(rank)])
    assert.equal(h.buckets[1].percentiles?.['50.0'], sizes[4])
    const r95 = 0.95 * (sizes.length - 1)
    assert.equal(h.buckets[1].percentiles?.['95.0'], sizes[7] + (sizes[8] - sizes[7]) * (r95 - 7))
    assert.equal(h.buckets[1].percentiles?.['100.0'], sizes[8])
  })

  it('date_histogram percentiles under a query, on a float field', async () => {
    const q: Query = { kind: 'term', field: 'action', value: 'PASS', span }
    const a = await b.aggregate({
      query: q,
      aggs: {
        h: { type: 'date_histogram', interval: '20m', percentiles: { field: 'elapsed.Total', percents: [50] } },
        p: { type: 'percentiles', field: 'elapsed.Total', percents: [50] },
      },
    })
    const h = a.aggs.h as DateHistogramResult
    assert.equal(h.buckets.length, 2)
    const all50 = (a.aggs.p as PercentilesResult).values['50.0']!
    const bucketed = h.buckets.map((x) => x.percentiles!['50.0']!)
    assert.ok(
      bucketed.every((v) => Number.isFinite(v)),
      `values ${bucketed}`,
    )
    assert.ok(Math.min(...bucketed) <= all50 && all50 <= Math.max(...bucketed))
  })

  it('geo counts per country with the earliest document’s point', async () => {
    const a = await b.aggregate({ query: all, aggs: { g: { type: 'geo', size: 2 } } })
    assert.deepEqual((a.aggs.g as GeoResult).buckets, [
      { country_code: 'CN', doc_count: 10, location: { lat: 34.773, lon: 113.722 } },
      { country_code: 'DE', doc_count: 10, location: { lat: 51.299, lon: 9.491 } },
    ])
  })
})
