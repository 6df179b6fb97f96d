// The engine backend's pure parts: request bodies, answers, bulk item outcomes, retention days.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import {
  autoIntervalMs,
  bucketCount,
  buildAggs,
  buildPrepassAggs,
  fixedInterval,
  parseIntervalMs,
  percentKey,
  readAggs,
  readDomainTerms,
  readGeoPoint,
  readPrepass,
} from '../../../src/backends/engine/aggs.ts'
import { dailyIndexDay, isExpiredDay, itemResult } from '../../../src/backends/engine/engine-backend.ts'
import { classifyError } from '../../../src/backends/engine/engine-client.ts'
import {
  buildSearchBody,
  decodeSearchAfter,
  encodeSearchAfter,
  readSearchResponse,
  sortClauses,
} from '../../../src/backends/engine/search-body.ts'
import type { AggSpec, AggsRequest } from '../../../src/search/api.ts'
import { QueryError, type Query } from '../../../src/search/query.ts'

const ALL: Query = { kind: 'all' }
const MIN = 60_000
const HOUR = 60 * MIN

describe('intervals', () => {
  const cases: Array<[string, number, string]> = [
    ['250ms', 250, '250ms'],
    ['30s', 30_000, '30s'],
    ['90s', 90_000, '90s'],
    ['5m', 5 * MIN, '5m'],
    ['60m', HOUR, '1h'],
    ['1d', 24 * HOUR, '1d'],
  ]
  for (const [text, ms, fixed] of cases)
    it(`reads ${text} as ${ms} ms and writes it as ${fixed}`, () => {
      assert.equal(parseIntervalMs(text), ms)
      assert.equal(fixedInterval(ms), fixed)
    })

  it('refuses intervals the engines cannot fix (weeks, months, zero)', () => {
    for (const bad of ['1w', '1M', '0s', 'auto', '']) assert.throws(() => parseIntervalMs(bad), QueryError)
  })

  it('counts epoch-aligned buckets, both ends inclusive', () => {
    assert.equal(bucketCount(0, HOUR - 1, HOUR), 1)
    assert.equal(bucketCount(0, HOUR, HOUR), 2)
    assert.equal(bucketCount(30 * MIN, 90 * MIN, HOUR), 2)
  })

  const auto: Array<[spanMs: number, buckets: number, expected: number]> = [
    [0, 100, 1000],
    [99_000, 100, 1000],
    [100_000, 100, 5000],
    [24 * HOUR - 1, 100, 30 * MIN],
    [24 * HOUR - 1, 24, HOUR],
    [24 * HOUR - 1, 23, 3 * HOUR],
    [400 * 24 * HOUR, 10, 7 * 24 * HOUR],
  ]
  for (const [spanMs, buckets, expected] of auto)
    it(`auto picks ${expected} ms for ${spanMs} ms in ≤ ${buckets} buckets`, () => {
      assert.equal(autoIntervalMs(0, spanMs, buckets), expected)
    })

  it('writes percents with one decimal at least', () => {
    assert.deepEqual([50, 95, 99.9, 0, 100].map(percentKey), ['50.0', '95.0', '99.9', '0.0', '100.0'])
  })
})

describe('search body', () => {
  it('appends the event_id tie-breaker in the last key’s order, missing values last', () => {
    assert.deepEqual(sortClauses([{ field: 'size', order: 'asc' }]), [
      { size: { order: 'asc', missing: '_last' } },
      { event_id: { order: 'asc', missing: '_last' } },
    ])
    assert.deepEqual(sortClauses([]), [
      { '@timestamp': { order: 'desc', missing: '_last' } },
      { event_id: { order: 'desc', missing: '_last' } },
    ])
    assert.equal(sortClauses([{ field: 'event_id', order: 'asc' }]).length, 1)
  })

  it('asks one hit more than the page, exact totals, and the requested fields', () => {
    const body = buildSearchBody({ query: ALL, size: 20, sort: [], fields: ['event_id', 'elapsed.Total'] })
    assert.equal(body.size, 21)
    assert.equal(body.track_total_hits, true)
    assert.deepEqual(body._source, { includes: ['event_id', 'elapsed.Total'] })
    assert.deepEqual(body.query, { match_all: {} })
  })

  it('round-trips the paging token and refuses a foreign one', () => {
    const token = encodeSearchAfter([1709287200000, 'ev-1'])
    assert.match(token, /^[A-Za-z0-9_-]+$/)
    assert.deepEqual(decodeSearchAfter(token, 2), [1709287200000, 'ev-1'])
    assert.throws(() => decodeSearchAfter(token, 3), QueryError)
    assert.throws(() => decodeSearchAfter('not json', 2), /Invalid search_after token/)
    const body = buildSearchBody({ query: ALL, size: 5, sort: [], searchAfter: token })
    assert.deepEqual(body.search_after, [1709287200000, 'ev-1'])
  })

  it('gives a next token only when a further hit exists', () => {
    const hit = (id: string) => ({ _source: { event_id: id }, sort: [1, id] })
    const req = { query: ALL, size: 2, sort: [] }
    const more = readSearchResponse(req, { hits: { total: { value: 3 }, hits: [hit('a'), hit('b'), hit('c')] } })
    assert.deepEqual(more.hits, [{ event_id: 'a' }, { event_id: 'b' }])
    assert.deepEqual(decodeSearchAfter(more.next!, 2), [1, 'b'])
    const last = readSearchResponse(req, { hits: { total: { value: 2 }, hits: [hit('a'), hit('b')] } })
    assert.equal(last.next, undefined)
    assert.equal(last.total, 2)
  })
})

describe('aggregations', () => {
  const req: AggsRequest = {
    query: ALL,
    aggs: {
      h: { type: 'date_histogram', interval: 'auto', buckets: 10, split: { field: 'is_bulk', size: 2 } },
      t: { type: 'terms', field: 'action', size: 3 },
      p: { type: 'percentiles', field: 'size', percents: [50, 99] },
    },
  }

  it('asks the data span and the split’s top values first when the range is open', () => {
    const pre = buildPrepassAggs(req) as any
    assert.deepEqual(pre.ts_span, { stats: { field: '@timestamp' } })
    assert.equal(pre.split_0.terms.field, 'is_bulk')
    assert.equal(buildPrepassAggs({ query: ALL, aggs: { t: req.aggs.t } }), null)
  })

  it('counts the split’s values exactly per bucket, over the data span', () => {
    const pre = readPrepass(req, {
      ts_span: { count: 3, min: 0, max: 10 * MIN - 1 },
      split_0: { buckets: [{ key: 1, key_as_string: 'true', doc_count: 2 }] },
    })
    assert.deepEqual(pre.splitValues.get(0), [true])
    const plan = buildAggs(req, pre) as any
    const h = plan.aggs.a0
    assert.equal(h.date_histogram.fixed_interval, '1m')
    assert.deepEqual(h.date_histogram.extended_bounds, { min: 0, max: 10 * MIN - 1 })
    assert.deepEqual(h.aggs.split.filters.filters, { v0: { term: { is_bulk: true } } })
    assert.equal(plan.aggs.a1.terms.shard_size >= 10_000, true, 'a large shard_size')
    assert.deepEqual(plan.aggs.a1.terms.order, [{ _count: 'desc' }, { _key: 'asc' }])
    assert.deepEqual(plan.aggs.a1_missing, { missing: { field: 'action' } })
    const out = readAggs(req, plan, {
      a0: { buckets: [{ key: 0, doc_count: 2, split: { buckets: { v0: { doc_count: 1 } } } }] },
      a1: { buckets: [{ key: 'PASS', doc_count: 2 }], sum_other_doc_count: 1 },
      a1_missing: { doc_count: 4 },
      a2: {
        values: [
          { key: 50, value: 10 },
          { key: 99, value: null },
        ],
      },
    }) as any
    assert.deepEqual(out.h.buckets, [
      { key: 0, key_as_string: '1970-01-01T00:00:00.000Z', doc_count: 2, split: { true: 1 } },
    ])
    assert.deepEqual(out.t, { buckets: [{ key: 'PASS', doc_count: 2 }], other_doc_count: 1, missing_doc_count: 4 })
    assert.deepEqual(out.p, { values: { '50.0': 10, '99.0': null } })
  })

  it('asks per-bucket percentiles as the top-level percentiles aggregation, and reads them keyed', () => {
    const r: AggsRequest = {
      query: ALL,
      fromMs: 0,
      toMs: 2 * MIN - 1,
      aggs: {
        h: {
          type: 'date_histogram',
          interval: '1m',
          metric: { op: 'max', field: 'elapsed.Total' },
          percentiles: { field: 'elapsed.Total', percents: [50, 99.9] },
        },
        p: { type: 'percentiles', field: 'elapsed.Total', percents: [50, 99.9] },
      },
    }
    const plan = buildAggs(r, readPrepass(r, undefined)) as any
    assert.deepEqual(plan.aggs.a0.aggs.percentiles, plan.aggs.a1, 'the same aggregation, per bucket')
    assert.deepEqual(plan.aggs.a1, {
      percentiles: { field: 'elapsed.Total', percents: [50, 99.9], keyed: false },
    })
    const out = readAggs(r, plan, {
      a0: {
        buckets: [
          {
            key: 0,
            doc_count: 3,
            metric: { count: 3, max: 2 },
            percentiles: {
              values: [
                { key: 50, value: 1.5 },
                { key: 99.9, value: 2 },
              ],
            },
          },
          {
            key: MIN,
            doc_count: 0,
            metric: { count: 0, max: null },
            percentiles: {
              values: [
                { key: 50, value: null },
                { key: 99.9, value: null },
              ],
            },
          },
        ],
      },
    }) as any
    assert.deepEqual(
      out.h.buckets.map((b: any) => [b.metric, b.percentiles]),
      [
        [2, { '50.0': 1.5, '99.9': 2 }],
        [null, { '50.0': null, '99.9': null }],
      ],
    )
    const none = readAggs(r, plan, undefined) as any
    assert.deepEqual(none.h.buckets[0].percentiles, { '50.0': null, '99.9': null }, 'no index: null per bucket')
    assert.throws(
      () =>
        buildAggs(
          {
            query: ALL,
            aggs: { x: { type: 'date_histogram', interval: '1m', percentiles: { field: 'action', percents: [50] } } },
          },
          readPrepass({ query: ALL, aggs: {} }, undefined),
        ),
      (e: unknown) => e instanceof QueryError && /not numeric/.test(e.message),
    )
  })

  it('domain terms: addresses grouped by lower-cased domain, without a script', () => {
    const plan = buildAggs(
      { query: ALL, aggs: { d: { type: 'terms', field: 'rcpt_to', size: 2, part: 'domain' } } },
      readPrepass({ query: ALL, aggs: {} }, undefined),
    ) as any
    assert.equal(plan.aggs.a0.terms.field, 'rcpt_to')
    assert.equal(plan.aggs.a0.terms.script, undefined)
    assert.deepEqual(plan.aggs.a0_missing.filter.bool.must_not, [{ wildcard: { rcpt_to: { value: '*@?*' } } }])
    const r = readDomainTerms(
      2,
      {
        buckets: [
          { key: 'a@Example.NET', doc_count: 5 },
          { key: 'b@example.net', doc_count: 2 },
          { key: 'odd"@"x@lists.example', doc_count: 4 },
          { key: 'c@b.example', doc_count: 4 },
          { key: 'broken@', doc_count: 9 },
        ],
        sum_other_doc_count: 3,
      },
      { doc_count: 1 },
    )
    assert.deepEqual(r, {
      buckets: [
        { key: 'example.net', doc_count: 7 },
        { key: 'b.example', doc_count: 4 },
      ],
      other_doc_count: 3 + 4,
      missing_doc_count: 1,
    })
    assert.throws(
      () =>
        buildAggs(
          { query: ALL, aggs: { d: { type: 'terms', field: 'size', size: 2, part: 'domain' } } },
          readPrepass({ query: ALL, aggs: {} }, undefined),
        ),
      (e: unknown) => e instanceof QueryError && /not a keyword field/.test(e.message),
    )
  })

  it('answers every bucket of the range even when no index exists', () => {
    const r: AggsRequest = {
      query: ALL,
      fromMs: 0,
      toMs: HOUR - 1,
      aggs: { h: { type: 'date_histogram', interval: '30m' } },
    }
    const out = readAggs(r, buildAggs(r, readPrepass(r, undefined)), undefined) as any
    assert.deepEqual(
      out.h.buckets.map((b: any) => [b.key, b.doc_count]),
      [
        [0, 0],
        [30 * MIN, 0],
      ],
    )
  })

  it('refuses what the embedded store refuses, as QueryErrors', () => {
    const bad: Array<[AggSpec, RegExp]> = [
      [{ type: 'terms', field: 'subject', size: 5 }, /Field "subject" cannot be aggregated/],
      [{ type: 'stats', field: 'action' }, /Field "action" is not numeric/],
      [{ type: 'percentiles', field: 'client_ip', percents: [50] }, /not numeric/],
      [{ type: 'date_histogram', interval: '1s', split: { field: 'message', size: 2 } }, /cannot be aggregated/],
    ]
    for (const [spec, msg] of bad)
      assert.throws(
        () => buildAggs({ query: ALL, aggs: { x: spec } }, readPrepass({ query: ALL, aggs: {} }, undefined)),
        (e: unknown) => e instanceof QueryError && msg.test(e.message),
      )
    const wide: AggsRequest = {
      query: ALL,
      fromMs: 0,
      toMs: 86_400_000,
      aggs: { h: { type: 'date_histogram', interval: '1s' } },
    }
    assert.throws(() => buildAggs(wide, readPrepass(wide, undefined)), /Too many buckets \(86401\)/)
  })

  it('reads geo points in every _source form', () => {
    assert.deepEqual(readGeoPoint({ lat: 1, lon: 2 }), { lat: 1, lon: 2 })
    assert.deepEqual(readGeoPoint([2, 1]), { lat: 1, lon: 2 })
    assert.deepEqual(readGeoPoint('1,2'), { lat: 1, lon: 2 })
    assert.equal(readGeoPoint(undefined), null)
  })
})

describe('bulk items and errors', () => {
  const cases: Array<[item: Parameters<typeof itemResult>[0], expected: string]> = [
    [{ status: 201 }, 'ok'],
    [{ status: 200 }, 'ok'],
    [{ status: 429, error: { type: 'es_rejected_execution_exception', reason: 'queue full' } }, 'retry'],
    [{ status: 503, error: { type: 'unavailable_shards_exception', reason: 'primary not active' } }, 'retry'],
    [{ status: 400, error: { type: 'mapper_parsing_exception', reason: 'failed to parse field [size]' } }, 'reject'],
    [{ status: 404, error: { type: 'index_not_found_exception', reason: 'no such index' } }, 'reject'],
  ]
  for (const [item, expected] of cases)
    it(`treats an item with status ${item!.status} as ${expected}`, () =>
      assert.equal(itemResult(item).status, expected))

  it('gives a rejected item its type, reason and cause', () => {
    assert.deepEqual(
      itemResult({
        status: 400,
        error: {
          type: 'mapper_parsing_exception',
          reason: 'failed to parse field [size]',
          caused_by: { type: 'illegal_argument_exception', reason: 'For input string: "abc"' },
        },
      }),
      {
        status: 'reject',
        code: 400,
        reason:
          'mapper_parsing_exception: failed to parse field [size] (illegal_argument_exception: For input string: "abc")',
      },
    )
  })

  it('reads both clients’ errors: an answer has a status and the root cause, no answer is unreachable', () => {
    const answered = classifyError({
      name: 'ResponseError',
      meta: {
        statusCode: 400,
        body: { error: { type: 'x', reason: 'y', root_cause: [{ type: 'parse', reason: 'bad' }] } },
      },
    })
    assert.deepEqual(answered, { unreachable: false, status: 400, reason: 'parse: bad' })
    const refused = classifyError({
      name: 'ConnectionError',
      message: 'connect ECONNREFUSED',
      meta: { statusCode: null },
    })
    assert.equal(refused.unreachable, true)
    assert.match(refused.reason, /ConnectionError: connect ECONNREFUSED/)
  })
})

describe('retention days', () => {
  it('reads daily index names of the prefix only', () => {
    assert.equal(dailyIndexDay('amavis-', 'amavis-2024.03.01'), Date.parse('2024-03-01T00:00:00Z'))
    assert.equal(dailyIndexDay('amavis-', 'amavis-2024.02.30'), null)
    assert.equal(dailyIndexDay('amavis-', 'amavis-eu-2024.03.01'), null)
    assert.equal(dailyIndexDay('amavis-', 'other-2024.03.01'), null)
  })

  it('expires a day only once all of it is older than the retention', () => {
    const day = Date.parse('2024-03-01T00:00:00Z')
    assert.equal(isExpiredDay(day, Date.parse('2024-03-31T23:59:59Z'), 30), false)
    assert.equal(isExpiredDay(day, Date.parse('2024-04-01T00:00:00Z'), 30), true)
    assert.equal(isExpiredDay(day, Date.parse('2030-01-01T00:00:00Z'), 0), false)
  })
})
