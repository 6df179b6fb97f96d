import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { compileDsl, compileTimeRange, withTimeRange, acceptsUnqualified } from '../../src/search/compile-dsl.ts'
import { parseQuery } from '../../src/search/lucene.ts'
import { DEFAULT_FIELDS, fieldSpec } from '../../src/search/fields.ts'
import type { Query } from '../../src/search/query.ts'

const NOW = Date.UTC(2024, 5, 15, 12, 34, 56, 789)
const dsl = (q: string) => compileDsl(parseQuery(q, NOW))
const span = { start: 0, end: 0 }

describe('compileDsl: one clause per field type', () => {
  const cases: Array<[query: string, expected: Record<string, unknown>]> = [
    ['action:REJECT', { term: { action: { value: 'REJECT', case_insensitive: true } } }],
    ['subject.keyword:Hi', { term: { 'subject.keyword': { value: 'Hi', case_insensitive: true } } }],
    ['subject:Hello', { match: { subject: { query: 'Hello', operator: 'and' } } }],
    ['subject:hello\\ world', { match: { subject: { query: 'hello world', operator: 'and' } } }],
    ['subject:"Hello Kitty"', { match_phrase: { subject: { query: 'Hello Kitty', slop: 0 } } }],
    ['subject:"Hello Kitty"~3', { match_phrase: { subject: { query: 'Hello Kitty', slop: 3 } } }],
    ['action:"REJECT"', { term: { action: { value: 'REJECT', case_insensitive: true } } }],
    ['subject:News*', { prefix: { subject: { value: 'news', case_insensitive: true } } }],
    ['mail_from:News*', { prefix: { mail_from: { value: 'News', case_insensitive: true } } }],
    ['mail_from:*@Example.org', { wildcard: { mail_from: { value: '*@Example.org', case_insensitive: true } } }],
    ['subject:T?st', { wildcard: { subject: { value: 't?st', case_insensitive: true } } }],
    ['mail_from:a\\*b*', { prefix: { mail_from: { value: 'a*b', case_insensitive: true } } }],
    ['mail_from:a\\*b?', { wildcard: { mail_from: { value: 'a\\*b?', case_insensitive: true } } }],
    [
      'subject:Roam~',
      {
        fuzzy: {
          subject: { value: 'roam', fuzziness: 'AUTO', transpositions: true, prefix_length: 0, max_expansions: 50 },
        },
      },
    ],
    [
      'action:REJCT~1',
      {
        fuzzy: { action: { value: 'REJCT', fuzziness: 1, transpositions: true, prefix_length: 0, max_expansions: 50 } },
      },
    ],
    ['action:/REJ.*/', { regexp: { action: { value: 'REJ.*' } } }],
    ['subject:/New\\+[A-Z]*/', { regexp: { subject: { value: 'New\\+[A-Z]*' } } }],
    ['client_ip:192.0.2.7', { term: { client_ip: '192.0.2.7' } }],
    ['client_ip:"2001:db8::/32"', { term: { client_ip: '2001:db8::/32' } }],
    ['size:9000', { term: { size: 9000 } }],
    ['spam_score:2.5', { term: { spam_score: 2.5 } }],
    ['is_bulk:true', { term: { is_bulk: true } }],
    ['is_bulk:FALSE', { term: { is_bulk: false } }],
    ['size:[9000 TO *]', { range: { size: { gte: 9000 } } }],
    ['size:{1 TO 5]', { range: { size: { gt: 1, lte: 5 } } }],
    ['elapsed.Total:<0.5', { range: { 'elapsed.Total': { lt: 0.5 } } }],
    ['mail_id:[a TO m}', { range: { mail_id: { gte: 'a', lt: 'm' } } }],
    ['client_ip:[192.0.2.0 TO 192.0.2.127]', { range: { client_ip: { gte: '192.0.2.0', lte: '192.0.2.127' } } }],
    [
      '@timestamp:[now-1h TO now]',
      { range: { '@timestamp': { gte: String(NOW - 3_600_000), lte: String(NOW), format: 'epoch_millis' } } },
    ],
    [
      '@timestamp:"2024-06-15"',
      {
        range: {
          '@timestamp': {
            gte: String(Date.UTC(2024, 5, 15)),
            lte: String(Date.UTC(2024, 5, 16) - 1),
            format: 'epoch_millis',
          },
        },
      },
    ],
    ['_exists_:client_ip', { exists: { field: 'client_ip' } }],
    ['subject:*', { exists: { field: 'subject' } }],
    ['*', { match_all: {} }],
  ]
  for (const [query, expected] of cases) {
    it(`compiles ${query}`, () => assert.deepEqual(dsl(query), expected))
  }

  it('compiles a date term as the millisecond (range gte = lte)', () => {
    const q: Query = { kind: 'term', field: '@timestamp', value: '1700000000000', span }
    assert.deepEqual(compileDsl(q), {
      range: { '@timestamp': { gte: '1700000000000', lte: '1700000000000', format: 'epoch_millis' } },
    })
  })

  it('keeps integers beyond 2^53 as strings', () => {
    const q: Query = { kind: 'term', field: 'size', value: '9007199254740993', span }
    assert.deepEqual(compileDsl(q), { term: { size: '9007199254740993' } })
  })

  it('compiles none and unknown fields to match_none', () => {
    assert.deepEqual(compileDsl({ kind: 'none' }), { match_none: {} })
    assert.deepEqual(compileDsl({ kind: 'term', field: 'nope', value: 'x', span }), { match_none: {} })
  })
})

describe('compileDsl: bool', () => {
  it('compiles the talk query with three must_not terms', () => {
    assert.deepEqual(dsl('type:amavis AND NOT action:(REJECT DISCARD BOUNCE)'), {
      bool: {
        must: [{ term: { type: { value: 'amavis', case_insensitive: true } } }],
        must_not: [
          { term: { action: { value: 'REJECT', case_insensitive: true } } },
          { term: { action: { value: 'DISCARD', case_insensitive: true } } },
          { term: { action: { value: 'BOUNCE', case_insensitive: true } } },
        ],
      },
    })
  })

  it('sets minimum_should_match only with should clauses: 1 for a disjunction, 0 beside a must', () => {
    assert.deepEqual(dsl('action:PASS OR action:REJECT'), {
      bool: {
        should: [
          { term: { action: { value: 'PASS', case_insensitive: true } } },
          { term: { action: { value: 'REJECT', case_insensitive: true } } },
        ],
        minimum_should_match: 1,
      },
    })
    assert.deepEqual(dsl('action:PASS +type:amavis'), {
      bool: {
        must: [{ term: { type: { value: 'amavis', case_insensitive: true } } }],
        should: [{ term: { action: { value: 'PASS', case_insensitive: true } } }],
        minimum_should_match: 0,
      },
    })
    assert.deepEqual(dsl('-action:PASS +client_geo.country_code:CN'), {
      bool: {
        must: [{ term: { 'client_geo.country_code': { value: 'CN', case_insensitive: true } } }],
        must_not: [{ term: { action: { value: 'PASS', case_insensitive: true } } }],
      },
    })
  })

  it('keeps AND above OR', () => {
    const t = (f: string, v: string) => ({ term: { [f]: { value: v, case_insensitive: true } } })
    assert.deepEqual(dsl('type:a AND action:b OR action:c'), {
      bool: {
        should: [{ bool: { must: [t('type', 'a'), t('action', 'b')] } }, t('action', 'c')],
        minimum_should_match: 1,
      },
    })
  })

  it('compiles an empty bool to match_all', () => {
    assert.deepEqual(compileDsl({ kind: 'bool', must: [], should: [], mustNot: [], minimumShould: 0 }), {
      match_all: {},
    })
  })
})

describe('compileDsl: unqualified terms search the default fields their type can hold', () => {
  const fieldsOf = (d: Record<string, unknown>): string[] => {
    const should = (d.bool as { should: Record<string, Record<string, unknown>>[] }).should
    return should.map((c) => Object.keys(Object.values(c)[0])[0])
  }

  it('looks a word up in every default field but the ip one', () => {
    const d = dsl('newsletter')
    assert.equal((d.bool as { minimum_should_match: number }).minimum_should_match, 1)
    assert.deepEqual(
      fieldsOf(d),
      DEFAULT_FIELDS.filter((f) => f !== 'client_ip'),
    )
  })

  it('looks an address up in the ip field too', () => {
    const d = dsl('"2001:db8::1"')
    assert.deepEqual(fieldsOf(d), [...DEFAULT_FIELDS])
    const should = (d.bool as { should: Record<string, unknown>[] }).should
    assert.deepEqual(should[DEFAULT_FIELDS.indexOf('client_ip')], { term: { client_ip: '2001:db8::1' } })
    assert.deepEqual(should[DEFAULT_FIELDS.indexOf('subject')], {
      match_phrase: { subject: { query: '2001:db8::1', slop: 0 } },
    })
    assert.deepEqual(should[DEFAULT_FIELDS.indexOf('mail_id')], {
      term: { mail_id: { value: '2001:db8::1', case_insensitive: true } },
    })
  })

  it('never sends a wildcard, fuzzy or regexp to an ip field', () => {
    for (const q of ['news*', 'roam~', '/ro.m/']) assert.ok(!fieldsOf(dsl(q)).includes('client_ip'), q)
  })

  it('says which field types take which unqualified values', () => {
    const term = (value: string): Query & { kind: 'term' } => ({ kind: 'term', field: null, value, span })
    const ip = fieldSpec('client_ip')!
    assert.equal(acceptsUnqualified(ip, term('10.0.0.0/8')), true)
    assert.equal(acceptsUnqualified(ip, term('ten')), false)
    assert.equal(acceptsUnqualified(fieldSpec('size')!, term('12')), true)
    assert.equal(acceptsUnqualified(fieldSpec('size')!, term('1.5')), false)
    assert.equal(acceptsUnqualified(fieldSpec('spam_score')!, term('1.5')), true)
    assert.equal(acceptsUnqualified(fieldSpec('is_bulk')!, term('true')), true)
    assert.equal(acceptsUnqualified(fieldSpec('@timestamp')!, term('1700000000000')), false)
    assert.equal(acceptsUnqualified(fieldSpec('subject')!, term('anything')), true)
  })
})

describe('compileTimeRange and withTimeRange', () => {
  it('is a range on @timestamp in epoch ms, inclusive, or nothing', () => {
    assert.equal(compileTimeRange(), undefined)
    assert.deepEqual(compileTimeRange(1, 2), { range: { '@timestamp': { format: 'epoch_millis', gte: 1, lte: 2 } } })
    assert.deepEqual(compileTimeRange(undefined, 2), { range: { '@timestamp': { format: 'epoch_millis', lte: 2 } } })
  })

  it('filters the query by the range', () => {
    const q = parseQuery('action:PASS', NOW)
    assert.deepEqual(withTimeRange(q), compileDsl(q))
    assert.deepEqual(withTimeRange(q, 1, 2), {
      bool: {
        must: [{ term: { action: { value: 'PASS', case_insensitive: true } } }],
        filter: [{ range: { '@timestamp': { format: 'epoch_millis', gte: 1, lte: 2 } } }],
      },
    })
    assert.deepEqual(withTimeRange({ kind: 'all' }, 1), {
      bool: { filter: [{ range: { '@timestamp': { format: 'epoch_millis', gte: 1 } } }] },
    })
  })
})
