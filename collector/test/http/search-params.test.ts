// The search API's parameter parsing (http/search-routes.ts), without a server: the aggs JSON,
// its per-bucket percentiles, and every problem reported at once.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { parseAggsParams } from '../../src/http/search-routes.ts'

const NOW = Date.UTC(2026, 0, 1)

describe('parseAggsParams', () => {
  it('reads a date_histogram with metric and per-bucket percentiles (default percents 50, 95, 99)', () => {
    const r = parseAggsParams(
      {
        aggs: JSON.stringify({
          h: {
            type: 'date_histogram',
            interval: '5m',
            metric: { op: 'max', field: 'elapsed.Total' },
            percentiles: { field: 'elapsed.Total', percents: [50, 99.9] },
          },
          d: { type: 'date_histogram', percentiles: { field: 'elapsed.SpamCheck' } },
        }),
      },
      NOW,
    )
    assert.deepEqual(r.aggs.h, {
      type: 'date_histogram',
      interval: '5m',
      buckets: 100,
      split: undefined,
      metric: { op: 'max', field: 'elapsed.Total' },
      percentiles: { field: 'elapsed.Total', percents: [50, 99.9] },
      series: undefined,
    })
    const d = r.aggs.d as Extract<(typeof r.aggs)[string], { type: 'date_histogram' }>
    assert.deepEqual(d.percentiles, { field: 'elapsed.SpamCheck', percents: [50, 95, 99] })
    assert.equal(d.interval, 'auto')
  })

  it('reports every bad percentiles part at once, top-level and per bucket alike', () => {
    const bad = {
      aggs: JSON.stringify({
        h: { type: 'date_histogram', percentiles: { field: 'action', percents: [50, 101] } },
        i: { type: 'date_histogram', percentiles: [50] },
        j: { type: 'date_histogram', percentiles: { field: 'size', percents: [] } },
        p: { type: 'percentiles', field: 'nosuch', percents: ['x'] },
      }),
    }
    assert.throws(
      () => parseAggsParams(bad, NOW),
      (e: any) => {
        assert.deepEqual(e.problems, [
          'aggs.h.percentiles.percents: expected numbers from 0 to 100',
          'aggs.h.percentiles.field: "action" is not numeric',
          'aggs.i.percentiles: expected an object {field, percents}',
          'aggs.j.percentiles.percents: expected numbers from 0 to 100',
          'aggs.p.percents: expected numbers from 0 to 100',
          'aggs.p.field: unknown field "nosuch"',
        ])
        return true
      },
    )
  })

  it('keeps the top-level percentiles shorthand', () => {
    const r = parseAggsParams({ percentiles: 'elapsed.Total' }, NOW)
    assert.deepEqual(r.aggs['percentiles:elapsed.Total'], {
      type: 'percentiles',
      field: 'elapsed.Total',
      percents: [50, 95, 99],
    })
  })

  it('terms part: only "domain", only on keyword fields', () => {
    const ok = parseAggsParams(
      { aggs: JSON.stringify({ d: { type: 'terms', field: 'rcpt_to', part: 'domain' } }) },
      NOW,
    )
    assert.deepEqual(ok.aggs.d, { type: 'terms', field: 'rcpt_to', size: 10, part: 'domain' })
    assert.throws(
      () =>
        parseAggsParams(
          {
            aggs: JSON.stringify({
              a: { type: 'terms', field: 'rcpt_to', part: 'user' },
              b: { type: 'terms', field: 'size', part: 'domain' },
            }),
          },
          NOW,
        ),
      (e: any) => {
        assert.deepEqual(e.problems, ['aggs.a.part: expected "domain"', 'aggs.b.part: "size" is not a keyword field'])
        return true
      },
    )
  })
})
