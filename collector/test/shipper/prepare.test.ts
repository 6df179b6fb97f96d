import { test } from 'node:test'
import assert from 'node:assert/strict'
import { formatEventTimestamp } from '@vigil/protocol'
import {
  createPreparer,
  dailyIndex,
  parseEventTimestamp,
  prepareItem,
  type Prepared,
} from '../../src/shipper/prepare.ts'
import { amavisEvent } from './events.ts'

const prep = createPreparer({ indexPrefix: 'amavis-' })
const ok = (p: Prepared) => {
  assert.ok(p.ok, p.ok ? '' : p.reason)
  return p.doc
}
const dead = (p: Prepared) => {
  assert.ok(!p.ok, 'expected a dead letter')
  return p
}

test('amavis `.1000` milliseconds mean the next second', () => {
  // int(frac*1000+0.5) = 1000 for .9996: amavis prints 12:00:00.1000
  const printed = formatEventTimestamp(1_700_000_000.9996)
  assert.match(printed, /\.1000Z$/)
  assert.equal(parseEventTimestamp(printed), 1_700_000_001_000)
  const d = ok(prep(Buffer.from(JSON.stringify({ '@timestamp': printed, type: 'amavis' }))))
  assert.equal(d.tsMs, 1_700_000_001_000)
  assert.equal(d.doc['@timestamp'], new Date(1_700_000_001_000).toISOString())
})

test('@timestamp forms: ms, no fraction, more digits, offsets', () => {
  assert.equal(parseEventTimestamp('2025-10-09T08:53:20.250Z'), Date.UTC(2025, 9, 9, 8, 53, 20, 250))
  assert.equal(parseEventTimestamp('2025-10-09T08:53:20Z'), Date.UTC(2025, 9, 9, 8, 53, 20))
  assert.equal(parseEventTimestamp('2025-10-09T08:53:20.123456Z'), Date.UTC(2025, 9, 9, 8, 53, 20, 123))
  assert.equal(parseEventTimestamp('2025-10-09T10:53:20.000+02:00'), Date.UTC(2025, 9, 9, 8, 53, 20))
  assert.equal(parseEventTimestamp('2025-10-09T08:53:20.1Z'), Date.UTC(2025, 9, 9, 8, 53, 20, 100))
  assert.equal(parseEventTimestamp('yesterday'), undefined)
  assert.equal(parseEventTimestamp('2025-13-09T08:53:20Z'), undefined)
})

test('falls back to time_unix; neither usable is a dead letter with a reason', () => {
  const d = ok(prep(Buffer.from(JSON.stringify({ '@timestamp': 'garbage', time_unix: '1700000000.5' }))))
  assert.equal(d.tsMs, 1_700_000_000_500)
  const n = ok(prep(Buffer.from(JSON.stringify({ time_unix: 1700000000.25 }))))
  assert.equal(n.tsMs, 1_700_000_000_250)
  const x = dead(prep(Buffer.from(JSON.stringify({ type: 'amavis' }))))
  assert.equal(x.reasonClass, 'no_timestamp')
  assert.match(x.reason, /no usable @timestamp/)
  assert.equal(dead(prep(Buffer.from('{"@timestamp":"0001-01-01T00:00:00Z"}'))).reasonClass, 'no_timestamp')
})

test('daily index of the UTC day', () => {
  assert.equal(dailyIndex('amavis-', Date.UTC(2025, 0, 2, 23, 59, 59, 999)), 'amavis-2025.01.02')
  const d = ok(prep(Buffer.from(JSON.stringify({ '@timestamp': '2025-12-31T23:59:59.1000Z' }))))
  assert.equal(d.index, 'amavis-2026.01.01', 'the +1 s of .1000 can change the day')
})

test('invalid JSON, non-objects and oversize items are dead letters with reasons', () => {
  const a = dead(prep(Buffer.from('{"@timestamp": "2025-')))
  assert.equal(a.reasonClass, 'invalid_json')
  assert.match(a.reason, /^invalid JSON: /)
  assert.equal(dead(prep(Buffer.from('[1,2]'))).reasonClass, 'not_object')
  assert.equal(dead(prep(Buffer.from('null'))).reasonClass, 'not_object')
  assert.equal(dead(prep(Buffer.from('"text"'))).reasonClass, 'not_object')
  const small = createPreparer({ indexPrefix: 'amavis-', maxItemBytes: 100 })
  const o = dead(small(Buffer.from(JSON.stringify(amavisEvent(1)))))
  assert.equal(o.reasonClass, 'oversize')
  assert.match(o.reason, /^oversize: \d+ bytes > 100$/)
})

test('document: the event plus event_id and the enrichment; json is the document', () => {
  const withGeo = createPreparer({
    indexPrefix: 'x-',
    enrich: (doc) => {
      doc.client_geo = { country_iso: 'ZZ' }
    },
  })
  const raw = Buffer.from(JSON.stringify(amavisEvent(7, { event_id: 'forged' })))
  const d = ok(withGeo(raw))
  assert.equal(d.doc.event_id, d.id, 'event_id is always ours')
  assert.deepEqual(d.doc.client_geo, { country_iso: 'ZZ' })
  assert.equal(d.doc.mail_id, 'M00000000003')
  assert.deepEqual(JSON.parse(d.json), d.doc)
  assert.match(d.index, /^x-2025\.10\.09$/)
})

test("json is the producer's text with event_id and client_geo appended, when that is the document", () => {
  const withGeo = createPreparer({
    indexPrefix: 'x-',
    enrich: (doc) => {
      if (doc.client_ip) doc.client_geo = { country_iso: 'ZZ', location: { lat: 1.5, lon: -2 } }
    },
  })
  // Text as a producer writes it (key order and spacing its own, 1.0 kept as written).
  const text = JSON.stringify(amavisEvent(8)).replace(/\}$/, ', "score" : 1.0 }\n')
  const d = ok(withGeo(Buffer.from(text)))
  assert.equal(d.verbatim, true)
  assert.ok(d.json.startsWith(text.trimEnd().slice(0, -1)), "the producer's bytes, unchanged")
  assert.deepEqual(JSON.parse(d.json), d.doc, 'the same document as serialising it')
  assert.equal(d.doc.client_geo !== undefined, true)
  const noIp = amavisEvent(9)
  delete noIp.client_ip
  const e = ok(withGeo(Buffer.from(JSON.stringify(noIp))))
  assert.equal(e.verbatim, true)
  assert.deepEqual(JSON.parse(e.json), e.doc)
  assert.equal('client_geo' in e.doc, false)
  // A non-canonical @timestamp, or a producer's own event_id / client_geo: serialised.
  for (const extra of [
    { '@timestamp': '2025-10-09T10:00:00Z' },
    { event_id: 'forged' },
    { client_geo: { country_iso: 'XX' } },
  ]) {
    const f = ok(withGeo(Buffer.from(JSON.stringify(amavisEvent(10, extra)))))
    assert.equal(f.verbatim, undefined, JSON.stringify(extra))
    assert.equal(f.json, JSON.stringify(f.doc))
  }
})

test('an enrichment that throws leaves the event indexed without client_geo', () => {
  let errors = 0
  const p = createPreparer({
    indexPrefix: 'amavis-',
    enrich: () => {
      throw new Error('db gone')
    },
    onEnrichError: () => errors++,
  })
  const d = ok(p(Buffer.from(JSON.stringify(amavisEvent(1)))))
  assert.equal(d.doc.client_geo, undefined)
  assert.equal(errors, 1)
})

test('prepareItem (direct intake form) agrees with the shipper: same id for the same text', () => {
  const text = JSON.stringify(amavisEvent(3, { subject: 'Grüße' }))
  const a = prepareItem(text, { indexPrefix: 'amavis-' })
  const b = ok(prep(Buffer.from(text)))
  assert.ok('id' in a)
  assert.equal(a.id, b.id)
  assert.deepEqual(prepareItem('{', { indexPrefix: 'amavis-' }), {
    error: (dead(prep(Buffer.from('{'))) as { reason: string }).reason,
  })
})
