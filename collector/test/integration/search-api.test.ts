// The search API end to end on the default (embedded) backend: events a filter pushes over ZMQ
// are stored by the pipeline worker, found by Lucene queries on /api/search, counted by
// /api/search/aggs, and accounted for on /api/pipeline; bad queries and parameters are 400s with
// positions; the dashboard relays the same routes.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { collectorInTmp, eventsPusher, waitFor } from '../helpers.ts'
import { formatVigilStats } from '@vigil/protocol'

function event(i: number, o: Record<string, unknown> = {}): string {
  const t = Date.UTC(2026, 11, 3, 10, 0, 0) + i * 60_000
  return JSON.stringify({
    '@timestamp': new Date(t).toISOString(),
    type: 'amavis',
    host: 'mx-test',
    log_id: `1234-${String(i).padStart(2, '0')}`,
    mail_id: `mailid${String(i).padStart(6, '0')}`,
    client_ip: i % 2 ? '8.8.8.8' : '2a00:1450:4001:80b::200e',
    mail_from: `sender${i}@example.org`,
    rcpt_to: [`rcpt${i}@example.net`],
    rcpt_num: 1,
    recipients: [{ rcpt_to: `rcpt${i}@example.net`, rcpt_is_local: true, action: i % 3 ? 'PASS' : 'REJECT' }],
    content_type: i % 3 ? 'Clean' : 'Spam',
    action: [i % 3 ? 'PASS' : 'REJECT'],
    subject: i % 4 ? `Weekly newsletter ${i}` : 'Grüße aus Köln',
    size: 1000 * i,
    originating: false,
    message: `1234-${i} PASS Clean <a> -> <b>`,
    time_unix: t / 1000,
    time_iso_week_date: '2026-W49-4',
    elapsed: { Total: i / 10 },
    ...o,
  })
}

const get = async (base: string, path: string) => {
  const r = await fetch(`http://${base}${path}`)
  return { status: r.status, body: (await r.json()) as Record<string, any> }
}

test('events over ZMQ are searchable with Lucene queries and aggregations on the embedded store', async (t) => {
  const { dir, env, c } = await collectorInTmp(t, 'collector-search')
  const base = c.internals.httpAddress!
  const push = eventsPusher(t, env.common.zmq.events!)
  for (let i = 1; i <= 12; i++) await push.send(event(i))
  await push.send('{"not": "an event"') // malformed: the receiver dead-letters it
  await push.send(event(13, { '@timestamp': 'yesterday', time_unix: 'x' })) // no usable time: pipeline dead letter
  const q = encodeURIComponent
  await waitFor(async () => (await get(base, '/api/search?size=0')).body.total === 12, '12 events searchable')

  const all = await get(base, '/api/search?size=5')
  assert.equal(all.status, 200)
  assert.equal(all.body.total, 12)
  assert.equal(all.body.hits.length, 5)
  assert.equal(all.body.hits[0].log_id, '1234-12', 'newest first by default')
  assert.ok(all.body.next, 'a search_after token for the next page')
  const page2 = await get(base, `/api/search?size=5&search_after=${q(all.body.next)}`)
  assert.equal(page2.body.hits[0].log_id, '1234-07')
  assert.equal(page2.body.total, 12)

  // enrichment at ship time, IPv4 and IPv6
  assert.equal(all.body.hits.find((h: any) => h.client_ip === '8.8.8.8').client_geo.country_code, 'US')
  assert.equal(all.body.hits.find((h: any) => h.client_ip !== '8.8.8.8').client_geo.country_code, 'DE')

  const count = async (query: string) => (await get(base, `/api/search?size=0&q=${q(query)}`)).body.total
  assert.equal(await count('type:amavis AND NOT action:(REJECT DISCARD BOUNCE)'), 8)
  assert.equal(await count('action:REJECT'), 4)
  assert.equal(await count('subject:newsletter*'), 9)
  assert.equal(await count('subject:köln'), 3)
  assert.equal(await count('size:[9000 TO *]'), 4)
  assert.equal(await count('client_ip:"2a00:1450::/32"'), 6)
  assert.equal(await count('elapsed.Total:[1 TO *]'), 3)
  assert.equal(await count('_exists_:client_geo.location'), 12)
  assert.equal(await count('recipients.action:REJECT AND content_type:Spam'), 4)

  const fields = await get(base, `/api/search?size=1&q=${q('log_id:1234-03')}&fields=log_id,action`)
  assert.deepEqual(fields.body.hits, [{ log_id: '1234-03', action: ['REJECT'] }])
  const ranged = await get(
    base,
    `/api/search?size=0&from=${q('2026-12-03T10:03:00Z')}&to=${Date.UTC(2026, 11, 3, 10, 5, 0)}`,
  )
  assert.equal(ranged.body.total, 3, 'from/to inclusive on @timestamp, ISO or epoch ms')

  const aggs = await get(
    base,
    `/api/search/aggs?terms=action,content_type&stats=size&date_histogram=5m&from=${q('2026-12-03T10:00:00Z')}&to=${q('2026-12-03T10:59:59.999Z')}`,
  )
  assert.equal(aggs.status, 200)
  assert.equal(aggs.body.total, 12)
  assert.deepEqual(aggs.body.aggs['terms:action'].buckets, [
    { key: 'PASS', doc_count: 8 },
    { key: 'REJECT', doc_count: 4 },
  ])
  assert.equal(aggs.body.aggs['stats:size'].max, 12000)
  const hist = aggs.body.aggs.date_histogram
  assert.equal(hist.interval_ms, 300_000)
  assert.equal(hist.buckets.length, 12, 'every 5-minute bucket of the hour, empty ones too')
  assert.deepEqual(
    hist.buckets.slice(0, 4).map((b: any) => b.doc_count),
    [4, 5, 3, 0],
  )

  const catalogue = await get(base, '/api/search/fields')
  assert.ok(catalogue.body.fields.some((f: any) => f.name === 'subject.keyword' && f.aggregatable))
  assert.ok(
    catalogue.body.attribution.some((l: string) => /db-ip\.com/.test(l)),
    'DB-IP credit where its data is served',
  )

  // errors: a 400 with the parser's position, all parameter problems at once
  const bad = await get(base, `/api/search?q=${q('action:(REJECT')}`)
  assert.equal(bad.status, 400)
  assert.equal(bad.body.code, 'QUERY_INVALID')
  assert.equal(typeof bad.body.position.start, 'number')
  const unknown = await get(base, `/api/search?q=${q('nosuchfield:x')}`)
  assert.equal(unknown.status, 400)
  assert.match(unknown.body.error, /Unknown field "nosuchfield"/)
  assert.deepEqual(unknown.body.position, { start: 0, end: 11 })
  const params = await get(base, '/api/search?size=-1&sort=subject:up&from=tomorrow')
  assert.equal(params.status, 400)
  assert.equal(params.body.problems.length, 3)

  // accounting: 14 events arrived, 12 stored, 1 dead-lettered by the pipeline (no time), 1 malformed frame
  await c.internals.inject('mx-test', [formatVigilStats({ pid: 1, events_produced: 13 })])
  const acct = await waitFor(async () => {
    const a = (await get(base, '/api/pipeline')).body
    return a.indexed === 12 && a.produced === 13 ? a : undefined
  }, 'pipeline accounting')
  assert.equal(acct.topology, 'direct')
  assert.equal(acct.backend.kind, 'embedded')
  assert.equal(acct.backend.up, true)
  assert.equal(acct.dead_lettered, 1)
  assert.equal(acct.queued, 0)
  assert.equal(acct.balanced, true, acct.verdict)
  const metrics = await (await fetch(`http://${base}/metrics`)).text()
  assert.match(metrics, /^vigil_pipeline_indexed_total 12$/m)
  assert.match(metrics, /^vigil_pipeline_balanced 1$/m)
  assert.match(metrics, /^vigil_filter_events_produced_total 13$/m)
  const status = await get(base, '/api/status')
  assert.equal(status.body.pipeline.indexed, 12, '/api/status carries the accounting too')
  const dl = (await readFile(join(dir, 'pipeline-dead-letter.ndjson'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
  assert.equal(dl.length, 1)
  assert.ok(dl[0].reason.length > 0)
  assert.equal(JSON.parse(dl[0].item).log_id, '1234-13')
})

test('with Redis, the collector drains the amavis list: searchable, in /api/events and the live ring, accounted', async (t) => {
  const { startRedis } = await import('../../../test/harness/index.ts')
  const redis = await startRedis(t)
  await redis.command('RPUSH', 'amavis-log', event(0)) // queued before the collector started
  const { c } = await collectorInTmp(t, 'collector-ship', { storage_redis_dsn: [{ server: redis.server }] })
  const base = c.internals.httpAddress!
  await get(base, '/api/pipeline') // answers once the pipeline is up
  for (let i = 1; i <= 5; i++) {
    await redis.command('RPUSH', 'amavis-log', event(i))
    await redis.command('LTRIM', 'amavis-log', '-100000', '-1')
  }
  await c.internals.inject('mx-test', [formatVigilStats({ pid: 1, events_produced: 5 })])
  await waitFor(async () => (await get(base, '/api/search?size=0')).body.total === 6, '6 events shipped')
  const ring = await waitFor(async () => {
    const r = (await get(base, '/api/events?limit=10')).body
    return r.events.length === 6 ? r : undefined
  }, 'the ring sees shipped events')
  assert.equal(ring.events[0].log_id, '1234-05', 'raw amavis JSON, newest first')
  assert.equal(ring.events[0].client_geo, undefined, 'the ring keeps what the producer wrote')
  const acct = await waitFor(async () => {
    const a = (await get(base, '/api/pipeline')).body
    return a.indexed === 6 ? a : undefined
  }, 'accounting')
  assert.equal(acct.topology, 'redis')
  assert.equal(acct.backlog_at_start, 1)
  assert.equal(acct.produced, 5)
  assert.equal(acct.queued, 0)
  assert.equal(acct.in_flight, 0)
  assert.equal(acct.balanced, true, acct.verdict)
  assert.equal(await redis.command('LLEN', 'amavis-log'), ':0\r\n')
})
