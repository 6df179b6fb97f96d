// Every query kind of the AST against a real SQLite file, on a small hand-made corpus whose
// expected hit sets are written out by hand (the conformance suite compares them with the engines).
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { createScope, tmpDir } from '../../../../test/harness/index.ts'
import type { Backend } from '../../../src/backends/backend.ts'
import { createEmbeddedBackend } from '../../../src/backends/embedded/store.ts'
import { QueryError, type Query } from '../../../src/search/query.ts'
import { amavisEvent } from './events.ts'

const span = { start: 0, end: 0 }
const term = (field: string | null, value: string): Query => ({ kind: 'term', field, value, span })
const phrase = (field: string | null, value: string, slop = 0): Query => ({ kind: 'phrase', field, value, slop, span })
const wildcard = (field: string | null, pattern: string): Query => ({ kind: 'wildcard', field, pattern, span })
const fuzzy = (field: string | null, value: string, maxEdits: 0 | 1 | 2 | 'auto' = 'auto'): Query => ({
  kind: 'fuzzy',
  field,
  value,
  maxEdits,
  span,
})
const regexp = (field: string | null, pattern: string): Query => ({ kind: 'regexp', field, pattern, span })
const range = (field: string, b: { gte?: string; gt?: string; lte?: string; lt?: string }): Query => ({
  kind: 'range',
  field,
  ...b,
  span,
})
const exists = (field: string): Query => ({ kind: 'exists', field, span })
const bool = (b: Partial<{ must: Query[]; should: Query[]; mustNot: Query[]; minimumShould: 0 | 1 }>): Query => ({
  kind: 'bool',
  must: b.must ?? [],
  should: b.should ?? [],
  mustNot: b.mustNot ?? [],
  minimumShould: b.minimumShould ?? 0,
})

// Ten events with the differences the cases need, on top of the generator's shape.
const CORPUS = [
  amavisEvent(0, { subject: 'Weekly newsletter: Pink Panther returns', action: ['PASS'], size: 9500 }),
  amavisEvent(1, { subject: 'Your newsletters digest', action: ['REJECT'], size: 100, client_ip: '2001:db8::1' }),
  amavisEvent(2, { subject: 'The panther is pink', action: ['DISCARD'], size: 9000, spam_score: 2 }),
  amavisEvent(3, { subject: 'Köln Karneval 日本語のテキスト', action: ['BOUNCE'], spam_score: 5 }),
  amavisEvent(4, { subject: 'roam around', action: ['PASS', 'DSN'], client_ip: '192.0.2.77', spam_score: 3.5 }),
  amavisEvent(5, {
    subject: 'foam party',
    action: ['pass'],
    client_ip: '::ffff:192.0.2.78',
    attached_file_names: [['a.exe', 'b.zip'], 'c.txt'],
  }),
  amavisEvent(6, { subject: 'rome trip', elapsed: { Total: 0.5 }, virusnames: ['Eicar-Test-Signature'] }),
  amavisEvent(7, { subject: 'mora', elapsed: undefined, message_id: 'X'.repeat(1100) }),
  amavisEvent(8, {
    subject: '',
    recipients: [{ action: 'REJECT', rcpt_to: 'z@example.org', rcpt_is_local: false, smtp_response: '554 5.7.1 spam' }],
  }),
  amavisEvent(9, {
    subject: 'Pink Panther',
    type: 'other',
    author: ['Pink Floyd <pf@example.com>', 'Panther Inc <p@example.com>'],
  }),
]

describe('embedded store queries', () => {
  const scope = createScope()
  let b: Backend
  before(async () => {
    const dir = await tmpDir(scope, 'vigil-embedded-query-')
    b = createEmbeddedBackend({
      path: join(dir, 'q.sqlite'),
      indexPrefix: 'amavis-',
      maxSizeBytes: 1 << 30,
      vacuum: true,
    })
    scope.after(() => b.close())
    await b.init()
    const res = await b.bulk(CORPUS)
    assert.deepEqual(
      res.filter((r) => r.status !== 'ok'),
      [],
    )
  })
  after(() => scope.close())

  const ids = async (query: Query) => {
    const r = await b.search({ query, size: 100, sort: [{ field: 'event_id', order: 'asc' }] })
    assert.equal(r.total, r.hits.length)
    return r.hits.map((h) => Number(String(h.event_id).slice(3))).sort((x, y) => x - y)
  }

  const cases: [string, Query, number[]][] = [
    ['all matches every document', { kind: 'all' }, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]],
    ['none matches nothing', { kind: 'none' }, []],
    ['a keyword term matches the whole value case-insensitively', term('action', 'reject'), [1]],
    ['a keyword term does not match a part of the value', term('mail_from', 'user0'), []],
    ['a multi-valued keyword matches any of its values', term('action', 'DSN'), [4]],
    ['lower-case stored values match too', term('action', 'PASS'), [0, 4, 5, 7, 8, 9]],
    ['recipients are flattened: any recipient action matches', term('recipients.action', 'REJECT'), [3, 8]],
    ['nested arrays are flattened', term('attached_file_names', 'b.zip'), [5]],
    ['a text term matches one word, lower-cased', term('subject', 'PANTHER'), [0, 2, 9]],
    ['a multi-word text term needs every word, in any order', term('subject', 'pink panther'), [0, 2, 9]],
    ['a text phrase needs consecutive words', phrase('subject', 'pink panther'), [0, 9]],
    ['a sloppy phrase allows reordering at its cost', phrase('subject', 'panther pink', 2), [0, 2, 9]],
    ['a phrase slop of 1 does not cover a swap', phrase('subject', 'panther pink', 1), [2]],
    ['a phrase does not span two values of a field', phrase('author', 'example.com panther'), []],
    ['a phrase on a keyword field is the whole value', phrase('action', 'bounce'), [3]],
    ['each CJK ideograph is a token', term('subject', '語'), [3]],
    ['a CJK phrase matches consecutive ideographs', phrase('subject', '日本語'), [3]],
    ['non-ASCII text is lower-cased', term('subject', 'köln'), [3]],
    ['wildcard on text matches single words', wildcard('subject', 'newsletter*'), [0, 1]],
    ['wildcard ? is one character', wildcard('subject', 'r?me'), [6]],
    ['wildcard on keyword is case-insensitive on the whole value', wildcard('action', 'rej*'), [1]],
    ['wildcard * alone is exists', wildcard('virusnames', '*'), [6]],
    ['fuzzy auto allows one edit on 4 letters', fuzzy('subject', 'roam'), [4, 5]],
    ['fuzzy counts a transposition as one edit', fuzzy('subject', 'raom', 1), [4]],
    ['fuzzy 0 is an exact word', fuzzy('subject', 'roam', 0), [4]],
    ['fuzzy on keyword is case-sensitive', fuzzy('action', 'REJECX', 1), [1]],
    ['regexp on text matches a whole word', regexp('subject', 'pan.*r'), [0, 2, 9]],
    ['regexp is anchored', regexp('subject', 'anthe'), []],
    ['regexp alternation and classes', regexp('action', '(REJECT|BOUNC[A-Z])'), [1, 3]],
    ['numeric range inclusive', range('size', { gte: '9000' }), [0, 2]],
    ['numeric range exclusive', range('spam_score', { gt: '2', lt: '5' }), [4, 8, 9]],
    ['float range with inclusive bounds', range('spam_score', { gte: '2', lte: '5' }), [2, 3, 4, 7, 8, 9]],
    ['a long term with a decimal part matches nothing', term('size', '9000.5'), []],
    ['numeric term', term('size', '9000'), [2]],
    ['dotted fields', range('elapsed.Total', { gte: '0.5', lte: '0.5' }), [6, 9]],
    ['ip term', term('client_ip', '192.0.2.77'), [4]],
    ['a v4 address equals its mapped v6 form', term('client_ip', '::ffff:192.0.2.78'), [5]],
    ['a mapped v6 document matches its v4 form', term('client_ip', '192.0.2.78'), [5]],
    ['ipv6 term', term('client_ip', '2001:db8::1'), [1]],
    ['ipv4 CIDR', term('client_ip', '192.0.2.0/24'), [3, 4, 5, 7]],
    ['ipv6 CIDR', term('client_ip', '2001:db8::/32'), [1, 2, 6]],
    ['ip range', range('client_ip', { gte: '192.0.2.0', lte: '192.0.2.77' }), [3, 4, 7]],
    ['exists on a text field', exists('virusnames'), [6]],
    ['exists is false for an empty analysed text', exists('subject'), [0, 1, 2, 3, 4, 5, 6, 7, 9]],
    ['the keyword sub-field exists for an empty string', exists('subject.keyword'), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]],
    ['values over ignore_above are not indexed', exists('message_id'), [0, 1, 2, 3, 4, 5, 6, 8, 9]],
    ['exists on an object path means any sub-field', exists('elapsed'), [0, 1, 2, 3, 4, 5, 6, 8, 9]],
    ['.keyword is exact on the whole text value', term('subject.keyword', 'pink panther'), [9]],
    [
      '@timestamp range',
      range('@timestamp', { gte: String(Date.UTC(2024, 0, 1, 10, 2)), lt: String(Date.UTC(2024, 0, 1, 10, 4)) }),
      [2, 3],
    ],
    ['a partial date term covers its whole unit', term('@timestamp', '2024-01-01T10:05'), [5]],
    ['an unqualified term searches the default fields', term(null, 'panther'), [0, 2, 9]],
    ['an unqualified term matches keyword defaults', term(null, 'reject'), [1, 3]],
    ['an unqualified ip term matches client_ip', term(null, '2001:db8::1'), [1]],
    ['an unqualified wildcard skips ip fields', wildcard(null, 'newsletter*'), [0, 1]],
    ['an unknown field matches nothing', term('no_such_field', 'x'), []],
    // type:amavis AND NOT action:(REJECT DISCARD BOUNCE)
    [
      'the talk query: NOT over a group is three terms',
      bool({
        must: [term('type', 'amavis')],
        mustNot: [
          bool({
            should: [term('action', 'REJECT'), term('action', 'DISCARD'), term('action', 'BOUNCE')],
            minimumShould: 1,
          }),
        ],
      }),
      [0, 4, 5, 6, 7, 8],
    ],
    [
      'must with should ignores the should',
      bool({ must: [term('action', 'reject')], should: [term('size', '9000')] }),
      [1],
    ],
    [
      'minimumShould 1 requires a should',
      bool({ must: [term('subject', 'pink')], should: [term('type', 'other')], minimumShould: 1 }),
      [9],
    ],
    ['should alone needs one match', bool({ should: [term('action', 'reject'), term('action', 'bounce')] }), [1, 3]],
    ['mustNot alone starts from every document', bool({ mustNot: [term('action', 'pass')] }), [1, 2, 3, 6]],
    [
      'mustNot with should ignores should',
      bool({ mustNot: [term('action', 'pass')], should: [term('action', 'reject')] }),
      [1, 2, 3, 6],
    ],
  ]
  for (const [name, query, expected] of cases)
    it(name, async () => {
      assert.deepEqual(await ids(query), expected)
    })

  it('rejects a qualified value its field cannot hold with a QueryError', async () => {
    await assert.rejects(b.search({ query: term('size', 'abc'), size: 1, sort: [] }), QueryError)
    await assert.rejects(b.search({ query: term('client_ip', 'not-an-ip'), size: 1, sort: [] }), QueryError)
  })

  it('reports unsupported regexp operators as a QueryError', async () => {
    await assert.rejects(b.search({ query: regexp('subject', 'a&b'), size: 1, sort: [] }), QueryError)
  })
})
