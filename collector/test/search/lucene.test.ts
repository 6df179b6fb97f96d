import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { describeQuery, parseQuery } from '../../src/search/lucene.ts'
import { resolveDateMath } from '../../src/search/date-math.ts'
import { QueryError, type Query } from '../../src/search/query.ts'

// 2024-06-15T12:34:56.789Z, a Saturday.
const NOW = Date.UTC(2024, 5, 15, 12, 34, 56, 789)
const ms = (iso: string) => String(Date.parse(iso))
const parse = (q: string) => parseQuery(q, NOW)
const describeOf = (q: string) => describeQuery(parse(q))

function assertError(q: string, message: string | RegExp, start: number, end: number): void {
  assert.throws(
    () => parse(q),
    (err: unknown) => {
      assert.ok(err instanceof QueryError, `${q}: not a QueryError: ${err}`)
      if (typeof message === 'string') assert.equal(err.message, message, q)
      else assert.match(err.message, message, q)
      assert.deepEqual(err.position, { start, end }, `${q}: position of "${err.message}"`)
      assert.equal(err.query, q)
      return true
    },
  )
}

describe('parseQuery: the issue conformance list', () => {
  const cases: Array<[query: string, canonical: string]> = [
    [
      'type:amavis AND NOT action:(REJECT DISCARD BOUNCE)',
      '(+type:amavis -action:REJECT -action:DISCARD -action:BOUNCE)',
    ],
    ['subject:newsletter*', 'subject:newsletter*'],
    ['size:[9000 TO *]', 'size:[9000 TO *]'],
    ['subject:"hello world"', 'subject:"hello world"'],
    ['"Hello Kitty"', '"Hello Kitty"'],
    ['-action:PASS', '(-action:PASS)'],
    ['-spam', '(-spam)'],
    ['_exists_:client_ip', '_exists_:client_ip'],
    ['subject:roam~', 'subject:roam~'],
    ['subject:roam~1', 'subject:roam~1'],
    ['size:{100 TO 200}', 'size:{100 TO 200}'],
    ['size:[100 TO 200]', 'size:[100 TO 200]'],
    ['mail_from:*@example.org', 'mail_from:*@example.org'],
    ['subject:te?t', 'subject:te?t'],
    ['a AND b OR c', '((+a +b) c)'],
    ['a AND (b OR c)', '(+a +(b c))'],
    ['elapsed.Total:[1 TO *]', 'elapsed.Total:[1 TO *]'],
    ['client_ip:"2001:db8::1"', 'client_ip:"2001:db8::1"'],
    ['client_ip:"2001:db8::/32"', 'client_ip:"2001:db8::/32"'],
    ['client_ip:"10.0.0.0/8"', 'client_ip:"10.0.0.0/8"'],
    ['client_ip:192.0.2.7', 'client_ip:192.0.2.7'],
    ['subject:Köln', 'subject:Köln'],
    ['subject:日本語', 'subject:日本語'],
  ]
  for (const [query, canonical] of cases) {
    it(`parses ${query}`, () => assert.equal(describeOf(query), canonical))
  }

  it('rejects etype, which the field catalogue does not have', () => {
    assertError('etype:(mta imap antivirus)', 'Unknown field "etype"', 0, 5)
  })
})

describe('parseQuery: precedence, operators and Lucene clause semantics', () => {
  const cases: Array<[query: string, canonical: string]> = [
    ['a OR b AND c', '(a (+b +c))'],
    ['a AND b OR c AND d', '((+a +b) (+c +d))'],
    ['a OR b OR c', '(a b c)'],
    ['a AND b AND c', '(+a +b +c)'],
    ['a && b || c', '((+a +b) c)'],
    ['a b', '(a b)'],
    ['a +b', '(+b a)'],
    ['a -b', '(-b a)'],
    ['!a', '(-a)'],
    ['NOT a', '(-a)'],
    ['NOT a b', '(-a b)'],
    ['a NOT b', '(-b a)'],
    ['a AND NOT b', '(+a -b)'],
    // The package drops the NOT of these two silently (it reads them as `a AND b`).
    ['a && NOT b', '(+a -b)'],
    ['a AND  NOT b', '(+a -b)'],
    ['a OR NOT b', '(-b a)'],
    ['-action:PASS +client_geo.country_code:CN', '(+client_geo.country_code:CN -action:PASS)'],
    ['(a OR b) AND NOT (c OR d)', '(+(a b) -c -d)'],
    ['a AND (NOT b)', '(+a -b)'],
    ['NOT (a b)', '(-a -b)'],
    ['-(a b) c', '(-a -b c)'],
    ['+(a b) c', '(+(a b) c)'],
    ['!(a)', '(-a)'],
    // An operator glued to a parenthesis comes back from the package as a term.
    ['NOT(a)', '(-a)'],
    ['a AND(b)', '(+a +b)'],
    ['-(NOT(a))', '(-(-a))'],
    ['((a))', 'a'],
    ['(a b) (c d)', '(a b c d)'],
    ['action:(REJECT OR DISCARD)', '(action:REJECT action:DISCARD)'],
    ['action:(+REJECT -DISCARD)', '(+action:REJECT -action:DISCARD)'],
    ['-action:(REJECT DISCARD)', '(-action:REJECT -action:DISCARD)'],
    ['action:(REJECT subject:x)', '(action:REJECT subject:x)'],
    ['a^2 "b"^3', '(a "b")'],
  ]
  for (const [query, canonical] of cases) {
    it(`reads ${query} as ${canonical}`, () => assert.equal(describeOf(query), canonical))
  }

  it('gives a +b chain minimumShould 0 and a disjunction 1', () => {
    const plus = parse('a +b')
    const or = parse('a OR b')
    assert.ok(plus.kind === 'bool' && or.kind === 'bool')
    assert.equal(plus.minimumShould, 0)
    assert.equal(or.minimumShould, 1)
    const not = parse('a -b')
    assert.ok(not.kind === 'bool' && not.minimumShould === 1)
  })

  it('passes a field group down as three terms with their spans', () => {
    assert.deepEqual(parse('action:(REJECT DISCARD BOUNCE)'), {
      kind: 'bool',
      must: [],
      mustNot: [],
      should: [
        { kind: 'term', field: 'action', value: 'REJECT', span: { start: 8, end: 14 } },
        { kind: 'term', field: 'action', value: 'DISCARD', span: { start: 15, end: 22 } },
        { kind: 'term', field: 'action', value: 'BOUNCE', span: { start: 23, end: 29 } },
      ],
      minimumShould: 1,
    })
  })
})

describe('parseQuery: leaves', () => {
  it('matches everything for *, *:*, empty and blank queries', () => {
    for (const q of ['*', '*:*', '', '   ', '\t\n']) assert.deepEqual(parse(q), { kind: 'all' }, JSON.stringify(q))
  })

  it('turns field:* and _exists_:field into exists, _missing_ into its negation', () => {
    assert.deepEqual(parse('subject:*'), { kind: 'exists', field: 'subject', span: { start: 0, end: 9 } })
    assert.deepEqual(parse('_exists_:client_ip'), { kind: 'exists', field: 'client_ip', span: { start: 0, end: 18 } })
    assert.equal(describeOf('-_exists_:client_ip'), '(-_exists_:client_ip)')
    assert.equal(describeOf('_missing_:client_ip'), '(-_exists_:client_ip)')
    assert.equal(describeOf('size:[* TO *]'), '_exists_:size')
    assert.equal(describeOf('_exists_:recipients'), '_exists_:recipients')
    assert.equal(describeOf('_exists_:elapsed'), '_exists_:elapsed')
  })

  it('keeps the sign out of the field name and the span', () => {
    assert.deepEqual(parse('-action:PASS'), {
      kind: 'bool',
      must: [],
      should: [],
      mustNot: [{ kind: 'term', field: 'action', value: 'PASS', span: { start: 0, end: 12 } }],
      minimumShould: 0,
    })
  })

  it('refuses a sign after the colon, as classic Lucene does (a mail_id may start with -)', () => {
    assertError('mail_id:-O1m1GuKouXb', /cannot start with "-": quote or escape it/, 8, 9)
    assertError('mail_id:+abc', /cannot start with "\+"/, 8, 9)
    assert.equal(describeOf('mail_id:"-O1m1GuKouXb"'), 'mail_id:-O1m1GuKouXb')
    assert.equal(describeOf('mail_id:\\-O1m1GuKouXb'), 'mail_id:-O1m1GuKouXb')
    assert.equal(describeOf('action:(-PASS +REJECT)'), '(+action:REJECT -action:PASS)')
  })

  it('detects wildcards only when unescaped and unquoted', () => {
    assert.deepEqual(parse('subject:news*'), {
      kind: 'wildcard',
      field: 'subject',
      pattern: 'news*',
      span: { start: 0, end: 13 },
    })
    assert.equal(describeOf('subject:a\\*b'), 'subject:"a*b"')
    const mixed = parse('subject:a\\*b*')
    assert.ok(mixed.kind === 'wildcard')
    assert.equal(mixed.pattern, 'a\\*b*')
    assert.deepEqual(parse('"news*"'), {
      kind: 'phrase',
      field: null,
      value: 'news*',
      slop: 0,
      span: { start: 0, end: 7 },
    })
    assert.equal(describeOf('?'), '?')
  })

  it('unescapes terms, phrases and fields', () => {
    assert.equal(describeOf('mail_id:Ab12\\:x'), 'mail_id:"Ab12:x"')
    assert.equal(describeOf('a\\ b'), '"a b"')
    assert.equal(describeOf('"say \\"hi\\""'), '"say \\"hi\\""')
    const q = parse('subject:"say \\"hi\\""')
    assert.ok(q.kind === 'phrase' && q.value === 'say "hi"')
  })

  it('keeps values with - + @ . and non-ASCII letters as one term', () => {
    assert.equal(describeOf('log_id:04330-01'), 'log_id:04330-01')
    assert.equal(describeOf('rcpt_to:user+tag@x.org'), 'rcpt_to:user+tag@x.org')
    assert.equal(describeOf('Köln 日本語'), '(Köln 日本語)')
  })

  it('maps fuzziness: ~ and similarities are auto, integers 0–2 kept, more is 2', () => {
    const edits = (q: string) => {
      const r = parse(q)
      assert.ok(r.kind === 'fuzzy', q)
      return r.maxEdits
    }
    assert.equal(edits('roam~'), 'auto')
    assert.equal(edits('roam~0.8'), 'auto')
    assert.equal(edits('roam~0'), 0)
    assert.equal(edits('roam~1'), 1)
    assert.equal(edits('roam~2'), 2)
    assert.equal(edits('roam~5'), 2)
    assert.equal(edits('roam~1.5'), 'auto')
    assert.equal(edits('subject:roam~1^2'), 1)
    assert.deepEqual(parse('subject:roam~1'), {
      kind: 'fuzzy',
      field: 'subject',
      value: 'roam',
      maxEdits: 1,
      span: { start: 0, end: 13 },
    })
    assert.equal(describeOf('roam~ 1'), '(roam~ 1)')
  })

  it('reads phrase slop and regular expressions', () => {
    assert.deepEqual(parse('subject:"a b"~2'), {
      kind: 'phrase',
      field: 'subject',
      value: 'a b',
      slop: 2,
      span: { start: 0, end: 15 },
    })
    assert.deepEqual(parse('subject:/new.*\\/x/'), {
      kind: 'regexp',
      field: 'subject',
      pattern: 'new.*\\/x',
      span: { start: 0, end: 18 },
    })
  })

  it('makes a quoted value on a non-text field a term of the whole value', () => {
    assert.deepEqual(parse('action:"REJECT"'), {
      kind: 'term',
      field: 'action',
      value: 'REJECT',
      span: { start: 0, end: 15 },
    })
    assert.equal(describeOf('size:"100"'), 'size:100')
  })

  it('accepts .keyword sub-fields, dotted names and @timestamp', () => {
    assert.equal(describeOf('subject.keyword:Hi'), 'subject.keyword:Hi')
    assert.equal(describeOf('recipients.action:REJECT'), 'recipients.action:REJECT')
    assert.equal(describeOf('@timestamp:>=now-1h'), `@timestamp:[${NOW - 3_600_000} TO *]`)
  })

  it('types values: numbers, booleans, IPs', () => {
    assertError('spam_score:-1.5', /cannot start with "-"/, 11, 12)
    assert.equal(describeOf('spam_score:\\-1.5'), 'spam_score:-1.5')
    assert.equal(describeOf('is_bulk:TRUE'), 'is_bulk:true')
    assert.equal(describeOf('client_ip:"::ffff:192.0.2.1"'), 'client_ip:"::ffff:192.0.2.1"')
  })
})

describe('parseQuery: ranges', () => {
  const cases: Array<[query: string, canonical: string]> = [
    ['size:[1 TO 5]', 'size:[1 TO 5]'],
    ['size:{1 TO 5}', 'size:{1 TO 5}'],
    ['size:[1 TO 5}', 'size:[1 TO 5}'],
    ['size:{1 TO 5]', 'size:{1 TO 5]'],
    ['size:[* TO 5]', 'size:[* TO 5]'],
    ['size:{* TO 5}', 'size:[* TO 5}'],
    ['size:>=5', 'size:[5 TO *]'],
    ['size:>5', 'size:{5 TO *]'],
    ['size:<5', 'size:[* TO 5}'],
    ['size:<=5', 'size:[* TO 5]'],
    ['spam_score:[-2.5 TO 0.5]', 'spam_score:[-2.5 TO 0.5]'],
    ['elapsed.Total:>0.5', 'elapsed.Total:{0.5 TO *]'],
    ['mail_id:[a TO m]', 'mail_id:[a TO m]'],
    ['subject.keyword:[A TO B]', 'subject.keyword:[A TO B]'],
    ['client_ip:[192.0.2.1 TO 192.0.2.9]', 'client_ip:[192.0.2.1 TO 192.0.2.9]'],
    ['size:[1  TO  5]', 'size:[1 TO 5]'],
    ['size:([1 TO 2] OR [8 TO 9])', '(size:[1 TO 2] size:[8 TO 9])'],
  ]
  for (const [query, canonical] of cases) {
    it(`reads ${query}`, () => assert.equal(describeOf(query), canonical))
  }

  it('gives a range the span from its field to its closing bracket', () => {
    assert.deepEqual(parse('a AND size:[1 TO 5}'), {
      kind: 'bool',
      must: [
        { kind: 'term', field: null, value: 'a', span: { start: 0, end: 1 } },
        { kind: 'range', field: 'size', gte: '1', lt: '5', span: { start: 6, end: 19 } },
      ],
      should: [],
      mustNot: [],
      minimumShould: 0,
    })
  })

  describe('on date fields, bounds are epoch ms', () => {
    const day = Date.UTC(2024, 5, 15)
    const dayEnd = Date.UTC(2024, 5, 16) - 1
    const dates: Array<[query: string, canonical: string]> = [
      ['@timestamp:[now-1h TO now]', `@timestamp:[${NOW - 3_600_000} TO ${NOW}]`],
      ['@timestamp:[now-5m TO now+5m]', `@timestamp:[${NOW - 300_000} TO ${NOW + 300_000}]`],
      ['@timestamp:[now/d TO now/d]', `@timestamp:[${day} TO ${dayEnd}]`],
      ['@timestamp:{now/d TO now/d}', `@timestamp:{${dayEnd} TO ${day}}`],
      ['@timestamp:[now-1d/d TO now]', `@timestamp:[${day - 86_400_000} TO ${NOW}]`],
      ['@timestamp:[2024-01-01 TO 2024-01-31]', `@timestamp:[${ms('2024-01-01')} TO ${Date.UTC(2024, 1, 1) - 1}]`],
      ['@timestamp:[2024-01-01T10:00:00Z TO *]', `@timestamp:[${ms('2024-01-01T10:00:00Z')} TO *]`],
      ['@timestamp:[2024-01-01T10:00:00.250+02:00 TO *]', `@timestamp:[${ms('2024-01-01T08:00:00.250Z')} TO *]`],
      ['@timestamp:[1700000000000 TO 1700000000999}', '@timestamp:[1700000000000 TO 1700000000999}'],
      ['@timestamp:>now-5m', `@timestamp:{${NOW - 300_000} TO *]`],
      ['@timestamp:"now/h"', `@timestamp:[${Date.UTC(2024, 5, 15, 12)} TO ${Date.UTC(2024, 5, 15, 13) - 1}]`],
      ['@timestamp:2024-06-15', `@timestamp:[${day} TO ${dayEnd}]`],
      ['@timestamp:1700000000000', '@timestamp:[1700000000000 TO 1700000000000]'],
      [
        '@timestamp:"2024-01-01T10:00:00Z"',
        `@timestamp:[${ms('2024-01-01T10:00:00Z')} TO ${ms('2024-01-01T10:00:00.999Z')}]`,
      ],
    ]
    for (const [query, canonical] of dates) {
      it(`resolves ${query}`, () => assert.equal(describeOf(query), canonical))
    }
  })
})

describe('resolveDateMath', () => {
  const cases: Array<[text: string, round: 'down' | 'up', iso: string | undefined]> = [
    ['now', 'down', '2024-06-15T12:34:56.789Z'],
    ['now-1h', 'down', '2024-06-15T11:34:56.789Z'],
    ['now+5m', 'down', '2024-06-15T12:39:56.789Z'],
    ['now-10s', 'down', '2024-06-15T12:34:46.789Z'],
    ['now-2H', 'down', '2024-06-15T10:34:56.789Z'],
    ['now/d', 'down', '2024-06-15T00:00:00.000Z'],
    ['now/d', 'up', '2024-06-15T23:59:59.999Z'],
    ['now/w', 'down', '2024-06-10T00:00:00.000Z'],
    ['now/M', 'down', '2024-06-01T00:00:00.000Z'],
    ['now/M', 'up', '2024-06-30T23:59:59.999Z'],
    ['now/y', 'down', '2024-01-01T00:00:00.000Z'],
    ['now-1M/M', 'down', '2024-05-01T00:00:00.000Z'],
    ['now-1w', 'down', '2024-06-08T12:34:56.789Z'],
    ['now-1y', 'down', '2023-06-15T12:34:56.789Z'],
    ['2024-01-31||+1M', 'down', '2024-02-29T00:00:00.000Z'],
    ['2023-01-31||+1M', 'down', '2023-02-28T00:00:00.000Z'],
    ['2024-02-29', 'up', '2024-02-29T23:59:59.999Z'],
    ['2024-02', 'up', '2024-02-29T23:59:59.999Z'],
    ['2024', 'down', '2024-01-01T00:00:00.000Z'],
    ['2024-01-01T10:00', 'up', '2024-01-01T10:00:59.999Z'],
    ['2024-01-01T10:00:00-05:30', 'down', '2024-01-01T15:30:00.000Z'],
    ['1700000000000', 'down', '2023-11-14T22:13:20.000Z'],
    ['2024-02-30', 'down', undefined],
    ['2024-13-01', 'down', undefined],
    ['yesterday', 'down', undefined],
    ['now-1x', 'down', undefined],
    ['now-', 'down', undefined],
  ]
  for (const [text, round, iso] of cases) {
    it(`${text} (${round}) is ${iso ?? 'not a date'}`, () => {
      assert.equal(resolveDateMath(text, NOW, round), iso === undefined ? undefined : Date.parse(iso))
    })
  }
})

describe('parseQuery: errors with positions', () => {
  const cases: Array<[query: string, message: string, start: number, end: number]> = [
    // syntax (the package's SyntaxError, shortened)
    ['action:(REJECT', 'Unexpected end of query; expected ")"', 14, 14],
    ['size:[1 TO', 'Unexpected end of query', 10, 10],
    ['size:[1 TO 5', 'Unexpected end of query; expected "]" or "}"', 12, 12],
    ['subject:"open', 'Unexpected end of query; expected a closing quote', 13, 13],
    ['"a b"~', 'Unexpected end of query; expected a number', 6, 6],
    ['a:b:c', 'Unexpected ":"', 3, 4],
    ['a)', 'Unexpected ")"', 1, 2],
    ['()', 'Unexpected ")"', 1, 2],
    ['client_ip:2001:db8::1', 'Unexpected ":"; quote IPv6 addresses: client_ip:"2001:db8::1"', 14, 15],
    ['2001:db8::1', 'Unexpected ":"; quote IPv6 addresses: "2001:db8::1"', 8, 9],
    ['client_ip:10.0.0.0/8', 'Unexpected "/"; quote CIDRs: client_ip:"10.0.0.0/8"', 18, 19],
    ['@timestamp:now/d', 'Unexpected "/"; quote date math: @timestamp:"now/d"', 14, 15],
    ['@timestamp:2024-01-01T10:00:00Z', 'Unexpected ":"; quote date-times: @timestamp:"2024-01-01T10:00:00Z"', 24, 25],
    // dangling and doubled operators, which the package accepts silently
    ['a OR', 'Missing term after OR', 2, 4],
    ['a OR   ', 'Missing term after OR', 2, 4],
    ['a AND', 'Missing term after AND', 2, 5],
    ['a ||', 'Missing term after ||', 2, 4],
    ['a NOT', 'Missing term after NOT', 2, 5],
    ['a AND AND b', 'Unexpected "AND" after AND', 6, 9],
    ['a OR AND b', 'Unexpected "AND" after OR', 5, 8],
    ['a AND NOT OR b', 'Unexpected "OR" after NOT', 10, 12],
    ['NOT NOT a', 'Unexpected "NOT"', 4, 7],
    ['AND foo', 'Missing term before AND', 0, 3],
    ['OR', 'Missing term before OR', 0, 2],
    ['&& a', 'Missing term before &&', 0, 2],
    ['(a OR)', 'Missing term after OR', 3, 5],
    ['(AND a)', 'Missing term before AND', 1, 4],
    ['a AND (OR b)', 'Missing term before OR', 7, 9],
    ['action:(REJECT OR)', 'Missing term after OR', 15, 17],
    ['NOT -a', 'Unexpected "-" after NOT', 4, 5],
    ['-action:-PASS', 'Unexpected "-"', 8, 9],
    ['subject:-(a b)', 'Put "-" before the field name', 8, 9],
    ['a \uE001', 'Unexpected character', 2, 3],
    // semantic
    ['type_missing:amavis', 'Unknown field "type_missing"', 0, 12],
    ['a AND -nope:x', 'Unknown field "nope"', 7, 11],
    ['nope:(a b)', 'Unknown field "nope"', 0, 4],
    ['nope:[1 TO 2]', 'Unknown field "nope"', 0, 4],
    ['_exists_:nope', 'Unknown field "nope"', 9, 13],
    ['size:abc', '"abc" is not a number', 5, 8],
    ['size:1.5', '"1.5" is not an integer', 5, 8],
    ['size:[abc TO 5]', '"abc" is not a number', 6, 9],
    ['size:[1 TO abc]', '"abc" is not a number', 11, 14],
    ['size:>x', '"x" is not a number', 6, 7],
    ['size:>', 'Missing value after ">"', 5, 6],
    ['is_bulk:yes', '"yes" is not true or false', 8, 11],
    ['client_ip:foo', '"foo" is not an IP address or CIDR', 10, 13],
    ['client_ip:"10.0.0.0/33"', '"10.0.0.0/33" is not an IP address or CIDR', 10, 23],
    ['client_ip:[x TO *]', '"x" is not an IP address', 11, 12],
    ['@timestamp:[yesterday TO now]', '"yesterday" is not a date', 12, 21],
    ['@timestamp:"soon"', '"soon" is not a date', 11, 17],
    ['[1 TO 5]', 'A range needs a field: size:[1 TO 5]', 0, 8],
    [
      'subject:[a TO b]',
      'Ranges need a keyword, number, date or ip field; "subject" is text (use subject.keyword)',
      0,
      16,
    ],
    ['is_bulk:[false TO true]', 'Ranges are not supported on boolean field "is_bulk"', 0, 23],
    ['size:abc*', 'Wildcards need a keyword or text field; "size" is long', 5, 9],
    ['client_ip:192.0.*', 'Wildcards need a keyword or text field; "client_ip" is ip', 10, 17],
    ['size:5~', 'Fuzzy terms need a keyword or text field; "size" is long', 5, 6],
    ['size:/5.*/', 'Regular expressions need a keyword or text field; "size" is long', 5, 10],
    ['subject:/a~b/', 'Regular expression operator ~ is not supported (escape it: \\~)', 8, 13],
    ['subject:/<1-5>/', 'Regular expression operator < is not supported (escape it: \\<)', 8, 15],
    [
      'client_geo.location:1',
      '"client_geo.location" is a geo_point: only _exists_:client_geo.location can search it',
      20,
      21,
    ],
  ]
  for (const [query, message, start, end] of cases) {
    it(`${query} → ${message} @${start}–${end}`, () => assertError(query, message, start, end))
  }

  it('serialises as the API answers it', () => {
    try {
      parse('size:abc')
      assert.fail('no error')
    } catch (err) {
      assert.ok(err instanceof QueryError)
      assert.deepEqual(JSON.parse(JSON.stringify(err)), {
        error: '"abc" is not a number',
        position: { start: 5, end: 8 },
        query: 'size:abc',
      })
    }
  })
})

describe('describeQuery', () => {
  it('writes every kind compactly', () => {
    const q: Query = {
      kind: 'bool',
      must: [{ kind: 'term', field: 'action', value: 'REJECT', span: { start: 0, end: 0 } }],
      mustNot: [{ kind: 'exists', field: 'client_ip', span: { start: 0, end: 0 } }],
      should: [
        { kind: 'phrase', field: null, value: 'a b', slop: 1, span: { start: 0, end: 0 } },
        { kind: 'wildcard', field: 'subject', pattern: 'x*', span: { start: 0, end: 0 } },
        { kind: 'fuzzy', field: 'subject', value: 'roam', maxEdits: 2, span: { start: 0, end: 0 } },
        { kind: 'regexp', field: 'subject', pattern: 'a.c', span: { start: 0, end: 0 } },
        { kind: 'range', field: 'size', gt: '1', lte: '5', span: { start: 0, end: 0 } },
        { kind: 'term', field: null, value: 'two words', span: { start: 0, end: 0 } },
        { kind: 'all' },
        { kind: 'none' },
      ],
      minimumShould: 1,
    }
    assert.equal(
      describeQuery(q),
      '(+action:REJECT -_exists_:client_ip "a b"~1 subject:x* subject:roam~2 subject:/a.c/ size:{1 TO 5] "two words" *:* NOT *:*)~min1',
    )
  })
})
