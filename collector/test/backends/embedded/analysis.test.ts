// The embedded store's analyser and value coercion, on literal strings: the pieces whose output
// must equal what the engines' standard analyzer and mappings make of the same input.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { tokenize, tokenizeValues } from '../../../src/backends/embedded/tokenize.ts'
import { coerceLeaf, dateRange, formatIp, parseIp, parseIpOrCidr } from '../../../src/backends/embedded/coerce.ts'
import {
  editDistance,
  fuzzyEdits,
  luceneRegexToRegex,
  wildcardToRegex,
} from '../../../src/backends/embedded/matchers.ts'

const cps = (s: string) => Array.from(s, (c) => c.codePointAt(0)!)

describe('tokenize (standard analyzer stand-in)', () => {
  const cases: [string, string[]][] = [
    ['Hello World', ['hello', 'world']],
    ['alice@example.com', ['alice', 'example.com']],
    ['250 2.0.0 Ok: queued as 4Xyz2ABCdez9', ['250', '2.0.0', 'ok', 'queued', 'as', '4xyz2abcdez9']],
    ["can't foo_bar a-b", ["can't", 'foo_bar', 'a', 'b']],
    ['192.0.2.10', ['192.0.2.10']],
    ['Köln KÖLN', ['köln', 'köln']],
    ['日本語のテキスト', ['日', '本', '語', 'の', 'テキスト']],
    ['東京tower', ['東', '京', 'tower']],
    ['วันนี้ดี', ['วันนี้ดี']],
    ['', []],
    ['!!! ---', []],
  ]
  for (const [text, expected] of cases)
    it(`splits ${JSON.stringify(text)}`, () => assert.deepEqual(tokenize(text), expected))

  it('cuts tokens longer than 255 units', () => {
    assert.deepEqual(
      tokenize('a'.repeat(300)).map((t) => t.length),
      [255, 45],
    )
  })

  it('the ASCII fast path equals Intl.Segmenter on random ASCII', () => {
    const seg = new Intl.Segmenter('und', { granularity: 'word' })
    const alpha = 'aZ09_.:\',;-@ /\t"!?()#$%&*+<=>[]\\^`{|}~\n'
    let seed = 42
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648
    for (let k = 0; k < 20000; k++) {
      let s = ''
      for (let i = 0, n = 1 + Math.floor(rnd() * 8); i < n; i++) s += alpha[Math.floor(rnd() * alpha.length)]
      const icu = [...seg.segment(s)].filter((x) => x.isWordLike).map((x) => x.segment.toLowerCase())
      assert.deepEqual(tokenize(s), icu, JSON.stringify(s))
    }
  })

  it('positions of successive values are 100 apart, so phrases never span them', () => {
    assert.deepEqual(
      tokenizeValues(['a b', '', 'c']).map((t) => t.pos),
      [0, 1, 102],
    )
  })
})

describe('coercion (engine mapping rules)', () => {
  const ok: [string, unknown, unknown][] = [
    ['long', '42', 42],
    ['long', 4.9, 4],
    ['long', '-3.7', -3],
    ['long', '', null],
    ['float', '1.900', Math.fround(1.9)],
    ['boolean', 'false', 0],
    ['boolean', true, 1],
    ['keyword', 12, '12'],
    ['keyword', false, 'false'],
  ]
  for (const [type, v, expected] of ok)
    it(`${type} accepts ${JSON.stringify(v)}`, () => assert.deepEqual(coerceLeaf('f', type as 'long', v), expected))
  it('keeps time_unix a double (epoch seconds with a fraction), as the engines map it', () => {
    assert.equal(coerceLeaf('time_unix', 'float', 1704103200.123), 1704103200.123)
    assert.notEqual(coerceLeaf('spam_score', 'float', 1704103200.123), 1704103200.123)
  })
  const bad: [string, unknown][] = [
    ['long', 'abc'],
    ['long', true],
    ['long', 1e20],
    ['float', 'NaN'],
    ['boolean', 'yes'],
    ['boolean', 1],
    ['ip', '1.2.3'],
    ['ip', 'fe80::1%eth0'],
    ['keyword', { a: 1 }],
  ]
  for (const [type, v] of bad)
    it(`${type} rejects ${JSON.stringify(v)}`, () =>
      assert.throws(() => coerceLeaf('f', type as 'long', v), /mapper_parsing_exception/))

  it('stores v4 addresses as their mapped v6 form and prints them back as v4', () => {
    assert.deepEqual(parseIp('192.0.2.1'), parseIp('::ffff:192.0.2.1'))
    assert.equal(formatIp(parseIp('::ffff:192.0.2.1')!), '192.0.2.1')
    assert.equal(formatIp(parseIp('2001:0db8:0:0:0:0:0:1')!), '2001:db8::1')
  })

  it('turns CIDRs into inclusive address ranges', () => {
    const [lo, hi] = parseIpOrCidr('192.0.2.128/25')!
    assert.equal(formatIp(lo), '192.0.2.128')
    assert.equal(formatIp(hi), '192.0.2.255')
    assert.equal(parseIpOrCidr('192.0.2.0/33'), undefined)
    assert.equal(formatIp(parseIpOrCidr('2001:db8::/32')![1]), '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff')
  })

  it('reads a partial date as its whole unit', () => {
    assert.deepEqual(dateRange('2024-01-01'), [Date.UTC(2024, 0, 1), Date.UTC(2024, 0, 2) - 1])
    assert.deepEqual(dateRange('2024-01-01T10:00:00.123Z'), [
      Date.UTC(2024, 0, 1, 10, 0, 0, 123),
      Date.UTC(2024, 0, 1, 10, 0, 0, 123),
    ])
    assert.deepEqual(dateRange('2024-01-01T10:00+01:00'), [Date.UTC(2024, 0, 1, 9), Date.UTC(2024, 0, 1, 9, 1) - 1])
  })
})

describe('matchers', () => {
  it('Damerau–Levenshtein counts a transposition as one edit, in code points', () => {
    assert.equal(editDistance(cps('roam'), cps('raom'), 2), 1)
    assert.equal(editDistance(cps('roam'), cps('rome'), 2), 2)
    assert.equal(editDistance(cps('日本'), cps('本日'), 2), 1)
    assert.equal(editDistance(cps('abcdef'), cps('uvwxyz'), 2), 3)
  })

  it("'auto' edits follow the engines' AUTO", () => {
    assert.deepEqual(
      ['ab', 'abc', 'abcde', 'abcdef'].map((s) => fuzzyEdits(s, 'auto')),
      [0, 1, 1, 2],
    )
  })

  it('wildcards and Lucene regexps become anchored JS patterns', () => {
    const re = (s: string) => new RegExp(s, 'su')
    assert.ok(re(wildcardToRegex('news*ter?')).test('newsletters'))
    assert.equal(re(wildcardToRegex('a\\*')).test('ab'), false)
    const span = { start: 0, end: 0 }
    assert.ok(re(luceneRegexToRegex('ab{2,3}[c-e]+', span)).test('abbbdd'))
    assert.equal(re(luceneRegexToRegex('b', span)).test('abc'), false)
    assert.ok(re(luceneRegexToRegex('a$b', span)).test('a$b'), '$ is a literal in Lucene')
    assert.ok(re(luceneRegexToRegex('@x', span)).test('yyyx'), '@ is any string')
  })
})
