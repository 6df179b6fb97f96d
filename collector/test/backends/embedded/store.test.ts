// The embedded store's write path and its limits, on real SQLite files in a temp dir: upserts,
// mapping conflicts, retention by whole days, the size cap, a corrupt file.
import { describe, it, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tmpDir } from '../../../../test/harness/index.ts'
import { BackendUnavailableError, type Backend } from '../../../src/backends/backend.ts'
import { createEmbeddedBackend } from '../../../src/backends/embedded/store.ts'
import type { TermsResult } from '../../../src/search/api.ts'
import { amavisEvent, BASE_MS } from './events.ts'

const DAY_MS = 86400000

async function open(t: TestContext, o: { maxSizeBytes?: number; file?: string } = {}) {
  const dir = await tmpDir(t, 'vigil-embedded-store-')
  const path = join(dir, o.file ?? 'events.sqlite')
  const b = createEmbeddedBackend({
    path,
    indexPrefix: 'amavis-',
    maxSizeBytes: o.maxSizeBytes ?? 1 << 30,
    vacuum: true,
  })
  t.after(() => b.close())
  return { b, path, dir }
}

const all = { kind: 'all' } as const
const count = async (b: Backend, query: Parameters<Backend['search']>[0]['query'] = all) =>
  (await b.search({ query, size: 0, sort: [] })).total

describe('embedded store writes', () => {
  it('stores a batch and answers it at once (refresh is a no-op)', async (t) => {
    const { b } = await open(t)
    await b.init()
    const res = await b.bulk(Array.from({ length: 50 }, (_, i) => amavisEvent(i)))
    assert.equal(res.length, 50)
    assert.ok(res.every((r) => r.status === 'ok'))
    await b.refresh()
    assert.equal(await count(b), 50)
    const h = await b.health()
    assert.equal(h.up, true)
    assert.equal(h.docs, 50)
    assert.ok((h.sizeBytes ?? 0) > 0)
  })

  it('re-sending an event replaces it: same count, new values searchable, old ones gone', async (t) => {
    const { b } = await open(t)
    await b.init()
    await b.bulk([amavisEvent(1, { subject: 'first version' }), amavisEvent(2)])
    await b.bulk([amavisEvent(1, { subject: 'second version' })])
    await b.bulk([amavisEvent(1, { subject: 'second version' })])
    assert.equal(await count(b), 2)
    const term = (value: string) => ({ kind: 'term', field: 'subject', value, span: { start: 0, end: 0 } }) as const
    assert.equal(await count(b, term('first')), 0)
    assert.equal(await count(b, term('second')), 1)
    const agg = await b.aggregate({ query: all, aggs: { s: { type: 'terms', field: 'subject.keyword', size: 10 } } })
    assert.deepEqual(
      (agg.aggs.s as TermsResult).buckets.find((x) => (x as { key: string }).key === 'first version'),
      undefined,
    )
  })

  it('the last occurrence of an id within one batch wins', async (t) => {
    const { b } = await open(t)
    const res = await b.bulk([amavisEvent(1, { size: 1 }), amavisEvent(1, { size: 2 })])
    assert.deepEqual(res, [{ status: 'ok' }, { status: 'ok' }])
    const r = await b.search({ query: all, size: 10, sort: [] })
    assert.equal(r.total, 1)
    assert.equal(r.hits[0].size, 2)
  })

  const conflicts: [string, Record<string, unknown>, RegExp][] = [
    [
      'a non-numeric string in a long field',
      { size: 'abc' },
      /mapper_parsing_exception: field \[size\] expects long, got "abc"/,
    ],
    ['an object in a keyword field', { action: { a: 1 } }, /field \[action\] expects keyword, got an object/],
    ['an invalid address in an ip field', { client_ip: '999.1.1.1' }, /field \[client_ip\] expects ip/],
    ['a non-boolean in a boolean field', { originating: 'yes' }, /field \[originating\] expects boolean/],
    ['a concrete value where an object is mapped', { elapsed: 5 }, /object mapping for \[elapsed\]/],
    ['an infinite float', { spam_score: 'Infinity' }, /field \[spam_score\] expects float/],
    ['a latitude out of range', { client_geo: { location: { lat: 100, lon: 0 } } }, /client_geo\.location/],
  ]
  for (const [name, over, reason] of conflicts)
    it(`rejects ${name} with a 400 item, storing the rest of the batch`, async (t) => {
      const { b } = await open(t)
      const res = await b.bulk([amavisEvent(1), amavisEvent(2, over), amavisEvent(3)])
      assert.equal(res[0].status, 'ok')
      assert.equal(res[2].status, 'ok')
      assert.equal(res[1].status, 'reject')
      assert.equal((res[1] as { code: number }).code, 400)
      assert.match((res[1] as { reason: string }).reason, reason)
      assert.equal(await count(b), 2)
    })

  const coerced: [string, Record<string, unknown>, string, number | boolean | string][] = [
    ['a numeric string in a long field', { size: '123' }, 'size', 123],
    ['a float in a long field is truncated', { size: 12.9 }, 'size', 12],
    ['"true" in a boolean field', { originating: 'true' }, 'originating', true],
    ['a number in a keyword field', { queue_id: 42 }, 'queue_id', '42'],
  ]
  for (const [name, over, field, key] of coerced)
    it(`accepts ${name} as the engines coerce it`, async (t) => {
      const { b } = await open(t)
      const res = await b.bulk([amavisEvent(1, over)])
      assert.equal(res[0].status, 'ok')
      const agg = await b.aggregate({ query: all, aggs: { x: { type: 'terms', field, size: 5 } } })
      assert.deepEqual((agg.aggs.x as TermsResult).buckets, [{ key, doc_count: 1 }])
    })

  it('treats null, [] and "" in numeric fields as missing, and stores fields outside the catalogue unindexed', async (t) => {
    const { b } = await open(t)
    const res = await b.bulk([amavisEvent(1, { size: '', virusnames: [], sender: null, custom_thing: { x: [1] } })])
    assert.equal(res[0].status, 'ok')
    const e = (field: string) => ({ kind: 'exists', field, span: { start: 0, end: 0 } }) as const
    assert.equal(await count(b, e('size')), 0)
    assert.equal(await count(b, e('virusnames')), 0)
    const r = await b.search({ query: all, size: 1, sort: [] })
    assert.deepEqual(r.hits[0].custom_thing, { x: [1] })
  })

  it('retention deletes whole days older than the limit and returns their names', async (t) => {
    const { b } = await open(t)
    const day = (d: number, n: number) => amavisEvent(n, {}, { offsetMs: d * DAY_MS + n * 1000 })
    await b.bulk([day(0, 1), day(0, 2), day(1, 3), day(2, 4), day(3, 5)])
    // now = day 3 at 10:00 + 1 h; keeping 2 days keeps days 1, 2 and 3.
    const deleted = await b.applyRetention(BASE_MS + 3 * DAY_MS + 3600000, 2)
    assert.deepEqual(deleted, ['amavis-2024.01.01'])
    assert.equal(await count(b), 3)
    assert.deepEqual(await b.applyRetention(BASE_MS + 3 * DAY_MS + 3600000, 2), [])
    assert.deepEqual(await b.applyRetention(BASE_MS + 3 * DAY_MS, 0), [], '0 keeps everything')
    const agg = await b.aggregate({ query: all, aggs: { a: { type: 'terms', field: 'event_id', size: 10 } } })
    assert.deepEqual(
      (agg.aggs.a as TermsResult).buckets.map((x) => x.key),
      ['ev-3', 'ev-4', 'ev-5'],
      'side rows of the deleted day are gone too',
    )
  })

  it('past the size cap, bulk answers retry 507 for the items that do not fit and stores nothing more', async (t) => {
    const { b } = await open(t, { maxSizeBytes: 2 * 1024 * 1024 })
    await b.init()
    let stored = 0
    let batch: ReturnType<typeof amavisEvent>[] = []
    let res: Awaited<ReturnType<Backend['bulk']>> = []
    for (let i = 0; i < 200; i++) {
      batch = Array.from({ length: 50 }, (_, j) => amavisEvent(i * 50 + j))
      res = await b.bulk(batch)
      stored += res.filter((r) => r.status === 'ok').length
      if (res.some((r) => r.status !== 'ok')) break
    }
    assert.deepEqual(res[res.length - 1], { status: 'retry', code: 507, reason: 'embedded store full' })
    assert.equal(await count(b), stored)
    // Refused events stay refused while the store is full (they stay queued): nothing half-stored.
    const refused = batch.slice(res.findIndex((r) => r.status === 'retry'))
    for (let k = 0; k < 10; k++) {
      const again = await b.bulk(refused)
      stored += again.filter((r) => r.status === 'ok').length
      if (again.every((r) => r.status === 'retry')) break
    }
    const last = await b.bulk(refused)
    assert.equal(last.filter((r) => r.status === 'retry').length, refused.length)
    assert.equal(await count(b), stored)
  })

  it('a corrupt file makes every call throw BackendUnavailableError, and health says down', async (t) => {
    const dir = await tmpDir(t, 'vigil-embedded-corrupt-')
    const path = join(dir, 'events.sqlite')
    writeFileSync(path, Buffer.alloc(8192, 0x5a))
    const b = createEmbeddedBackend({ path, indexPrefix: 'amavis-', maxSizeBytes: 1 << 30, vacuum: true })
    t.after(() => b.close())
    await assert.rejects(b.init(), BackendUnavailableError)
    await assert.rejects(b.bulk([amavisEvent(1)]), BackendUnavailableError)
    await assert.rejects(b.search({ query: all, size: 1, sort: [] }), BackendUnavailableError)
    const h = await b.health()
    assert.equal(h.up, false)
    assert.match(h.detail ?? '', /SQLITE_NOTADB/)
  })

  it('a file corrupted under a running store is reported as unavailable', async (t) => {
    const { b, path } = await open(t)
    await b.bulk(Array.from({ length: 200 }, (_, i) => amavisEvent(i)))
    await b.close()
    // Overwrite everything after the header page: the schema and data pages become garbage.
    const { openSync, writeSync, closeSync, statSync } = await import('node:fs')
    const fd = openSync(path, 'r+')
    const junk = Buffer.alloc(statSync(path).size - 4096, 0xa5)
    writeSync(fd, junk, 0, junk.length, 4096)
    closeSync(fd)
    await assert.rejects(async () => {
      await b.init()
      await b.search({ query: all, size: 10, sort: [] })
    }, BackendUnavailableError)
  })
})
