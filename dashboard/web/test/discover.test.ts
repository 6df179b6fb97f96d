// Discover's pure logic (dashboard/web/src/pages/discover/url-state.ts): the URL round trip, time
// resolution, filter clauses that the collector's own parser accepts with the intended meaning,
// and the API requests one run makes.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseQuery } from '../../../collector/src/search/lucene.ts'
import {
  DEFAULT_COLS,
  DEFAULT_STATE,
  addFilter,
  cellText,
  columnById,
  getPath,
  histogramAgg,
  parseState,
  pivotQuery,
  quoteValue,
  rangeLabel,
  resolveRange,
  resolveTime,
  searchParams,
  splitTopLevel,
  stateToParams,
  tableFields,
  type DiscoverState,
} from '../src/pages/discover/url-state.ts'

const NOW = Date.UTC(2026, 5, 1, 12, 0, 0)

test('state round-trips through the URL, defaults left out', () => {
  const s: DiscoverState = {
    q: 'action:(REJECT DISCARD) AND client_geo.country_code:"CN"',
    from: 'now-7d',
    to: 'now',
    cols: ['time', 'subject', 'action'],
    sort: { field: 'spam_score', order: 'asc' },
    series: ['NOT action:(REJECT DISCARD BOUNCE)', 'action:(REJECT DISCARD BOUNCE)'],
    split: 'content_type',
    refresh: '30s',
  }
  const p = stateToParams(s)
  assert.deepEqual(parseState(new URLSearchParams(p.toString())), s)
  assert.equal(p.getAll('series').length, 2)
  // the defaults: only the range is written
  assert.equal(stateToParams(DEFAULT_STATE).toString(), 'from=now-24h&to=now')
  assert.deepEqual(parseState(new URLSearchParams('')), DEFAULT_STATE)
})

test('a shared link `#/discover?q=…&from=…&to=…` opens that search; junk falls back to defaults', () => {
  const s = parseState(new URLSearchParams('q=action%3AREJECT&from=1748736000000&to=2025-06-02T00:00:00Z'))
  assert.equal(s.q, 'action:REJECT')
  assert.equal(s.from, '1748736000000')
  assert.deepEqual(s.cols, DEFAULT_COLS)
  const bad = parseState(new URLSearchParams('cols=nope,,time,time&sort=size:up&refresh=5s&series='))
  assert.deepEqual(bad.cols, ['time'])
  assert.deepEqual(bad.sort, DEFAULT_STATE.sort)
  assert.equal(bad.refresh, 'off')
  assert.deepEqual(bad.series, [])
})

test('time: date math, epoch ms and ISO as the API reads them; from after to is an error', () => {
  assert.equal(resolveTime('now', NOW), NOW)
  assert.equal(resolveTime('now-24h', NOW), NOW - 86_400_000)
  assert.equal(resolveTime('now-15m', NOW), NOW - 900_000)
  assert.equal(resolveTime('1748736000000', NOW), 1748736000000)
  assert.equal(resolveTime('2026-06-01T00:00:00Z', NOW), Date.UTC(2026, 5, 1))
  assert.equal(resolveTime('yesterday', NOW), undefined)
  assert.deepEqual(resolveRange({ from: 'now-1h', to: 'now' }, NOW), { fromMs: NOW - 3_600_000, toMs: NOW })
  assert.ok('error' in resolveRange({ from: 'now', to: 'now-1h' }, NOW))
  assert.ok('error' in resolveRange({ from: 'x', to: 'now' }, NOW))
  assert.equal(rangeLabel({ from: 'now-24h', to: 'now' }), 'Last 24 hours')
  assert.equal(rangeLabel({ from: String(NOW), to: 'now' }), '2026-06-01 12:00:00.000 → now')
})

test('values are quoted when the parser needs it (IPv6, spaces, colons, operators)', () => {
  assert.equal(quoteValue('PASS'), 'PASS')
  assert.equal(quoteValue('04330-01'), '04330-01')
  assert.equal(quoteValue('user@example.org'), 'user@example.org')
  assert.equal(quoteValue('2001:db8::1'), '"2001:db8::1"')
  assert.equal(quoteValue('Spam Mail'), '"Spam Mail"')
  assert.equal(quoteValue('OR'), '"OR"')
  assert.equal(quoteValue('say "hi" \\o/'), '"say \\"hi\\" \\\\o/"')
  assert.equal(quoteValue(42), '42')
  assert.equal(quoteValue(true), 'true')
  for (const [field, v] of [
    ['client_ip', '2001:db8::1'],
    ['client_ip', '192.0.2.7'],
    ['rcpt_to', 'user+tag@example.org'],
    ['author.keyword', 'Eve <eve@example.org>'],
    ['action', 'PASS'],
    ['tests', 'BAYES_00'],
  ]) {
    const q = parseQuery(`${field}:${quoteValue(v)}`, NOW)
    assert.ok(q.kind === 'term' || q.kind === 'phrase', `${field}:${v} → ${q.kind}`)
    assert.equal((q as { value: string }).value, v)
  }
})

test('+/- filters narrow the query as MUST / MUST NOT clauses', () => {
  assert.equal(addFilter('', 'action', 'PASS', '+'), '+action:PASS')
  assert.equal(addFilter('+action:PASS', 'client_ip', '2001:db8::1', '-'), '+action:PASS -client_ip:"2001:db8::1"')
  // an unsigned query is wrapped, so the filter narrows it instead of widening
  assert.equal(addFilter('spam OR virus', 'action', 'PASS', '+'), '+(spam OR virus) +action:PASS')
  assert.equal(addFilter('NOT action:REJECT', 'host', 'mx1', '+'), '+(NOT action:REJECT) +host:mx1')
  // the same clause is not added twice; the opposite one is replaced
  assert.equal(addFilter('+action:PASS', 'action', 'PASS', '+'), '+action:PASS')
  assert.equal(addFilter('+action:PASS +host:mx1', 'action', 'PASS', '-'), '+host:mx1 -action:PASS')
  for (const q of [
    '+action:PASS -client_ip:"2001:db8::1"',
    '+(spam OR virus) +action:PASS',
    '+(NOT action:REJECT) +host:mx1',
  ]) {
    const n = parseQuery(q, NOW)
    assert.equal(n.kind, 'bool', q)
    if (n.kind === 'bool') assert.equal(n.should.length, 0, `${q}: every clause must or must not`)
  }
  assert.deepEqual(splitTopLevel('+a:b -c:"d e" +(x OR y) [1 TO 2]'), ['+a:b', '-c:"d e"', '+(x OR y)', '[1 TO 2]'])
  assert.equal(pivotQuery('message_id', '<abc@example.org>'), 'message_id:"<abc@example.org>"')
  assert.equal(parseQuery(pivotQuery('message_id', '<abc@example.org>'), NOW).kind, 'term')
})

test('one run asks for the table columns only, 50 hits, and the histogram with series and split', () => {
  const s = {
    ...DEFAULT_STATE,
    q: 'action:PASS',
    cols: ['time', 'country', 'subject'],
    series: ['a', 'b'],
    split: 'action',
  }
  const p = searchParams(s, { fromMs: 1, toMs: 2 }, 'tok')
  assert.deepEqual(p, {
    q: 'action:PASS',
    from: '1',
    to: '2',
    size: '50',
    sort: '@timestamp:desc',
    fields: 'event_id,mail_id,message_id,client_ip,@timestamp,client_geo.country_code,subject',
    search_after: 'tok',
  })
  assert.deepEqual(tableFields(['size', 'size']), ['event_id', 'mail_id', 'message_id', 'client_ip', 'size'])
  assert.deepEqual(histogramAgg(s), {
    h: {
      type: 'date_histogram',
      interval: 'auto',
      buckets: 100,
      series: [
        { name: 's1', q: 'a' },
        { name: 's2', q: 'b' },
      ],
      split: { field: 'action', size: 6 },
    },
  })
})

test('cells: dotted paths, arrays joined, times in UTC, markup kept as text', () => {
  const doc = {
    '@timestamp': '2026-06-01T12:00:00.123Z',
    action: ['PASS', 'REJECT'],
    client_geo: { country_code: 'DE' },
    recipients: [{ action: 'PASS' }, { action: 'REJECT' }],
    subject: '<img src=x onerror=alert(1)>',
  }
  assert.equal(cellText(columnById('time')!, doc), '2026-06-01 12:00:00.123')
  assert.equal(cellText(columnById('action')!, doc), 'PASS, REJECT')
  assert.equal(cellText(columnById('country')!, doc), 'DE')
  assert.equal(cellText(columnById('size')!, doc), '')
  assert.equal(cellText(columnById('subject')!, doc), '<img src=x onerror=alert(1)>')
  assert.deepEqual(getPath(doc, 'recipients.action'), ['PASS', 'REJECT'])
})
