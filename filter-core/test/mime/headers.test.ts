import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { decodeRfc2047, parseHeaderFields, parseStructuredValue, splitHeaderBody } from '../../src/mime/headers.ts'
import { decodeQuotedPrintable, decodeBase64 } from '../../src/mime/decode.ts'

describe('decodeRfc2047', () => {
  const cases: Array<[input: string, output: string]> = [
    ['plain text', 'plain text'],
    ['=?UTF-8?B?w4lsb2TDrWU=?=', 'Élodíe'],
    ['=?iso-8859-1?q?Gr=FC=DFe_aus?= Wien', 'Grüße aus Wien'],
    ['=?UTF-8?Q?a?= =?UTF-8?Q?b?=', 'ab'],
    ['=?UTF-8?Q?a?=  x  =?UTF-8?Q?b?=', 'a  x  b'],
    // A multibyte character split across two encoded words.
    ['=?UTF-8?B?w6k=?= =?UTF-8?B?w6k=?=', 'éé'],
    ['=?UTF-8?Q?=C3?= =?UTF-8?Q?=A9?=', 'é'],
    ['=?unknown-charset?Q?caf=E9?=', 'café'],
    ['=?UTF-8*en?Q?hi?=', 'hi'],
    ['broken =?UTF-8?Q?no end', 'broken =?UTF-8?Q?no end'],
  ]
  for (const [input, output] of cases)
    it(`decodes ${JSON.stringify(input)}`, () => assert.equal(decodeRfc2047(input), output))
})

describe('parseStructuredValue', () => {
  it('parses a content type with quoted parameters and comments', () => {
    const v = parseStructuredValue('Multipart/Mixed (comment); boundary="a;b \\"c\\""; charset=utf-8')
    assert.equal(v.value, 'multipart/mixed')
    assert.deepEqual(v.params, { boundary: 'a;b "c"', charset: 'utf-8' })
    assert.deepEqual(v.problems, [])
  })
  it('decodes RFC 2231 extended values with a charset', () => {
    assert.equal(
      parseStructuredValue("attachment; filename*=UTF-8''%E2%82%AC%20rates.txt").params.filename,
      '€ rates.txt',
    )
  })
  it('joins RFC 2231 continuations in index order, mixing encoded and plain segments', () => {
    const v = parseStructuredValue(
      `attachment; filename*1*=me%20%E9t%E9; filename*0*=iso-8859-1''long%20na; filename*2=".txt"`,
    )
    assert.equal(v.params.filename, 'long name été.txt')
  })
  it('decodes RFC 2047 inside a quoted parameter (common, if not standard)', () => {
    assert.equal(parseStructuredValue('text/plain; name="=?ISO-8859-1?Q?r=E9sum=E9=2Etxt?="').params.name, 'résumé.txt')
  })
  it('reports an unterminated quoted string and a parameter without value', () => {
    assert.deepEqual(parseStructuredValue('text/plain; junk; name="x').problems, [
      'unterminated quoted string',
      'parameter without value: junk',
    ])
  })
})

describe('parseHeaderFields and splitHeaderBody', () => {
  it('unfolds continuation lines and keeps field order and case', () => {
    const f = parseHeaderFields(Buffer.from('Subject: a\r\n b\r\nX-A:1\r\nx-a:  2  \r\n'))
    assert.deepEqual(f, [
      { name: 'Subject', value: 'a b' },
      { name: 'X-A', value: '1' },
      { name: 'x-a', value: '2' },
    ])
  })
  it('decodes 8-bit header bytes as UTF-8 when valid, else Latin-1', () => {
    const f = parseHeaderFields(
      Buffer.concat([Buffer.from('A: '), Buffer.from('é', 'utf8'), Buffer.from('\nB: \xe9\n', 'latin1')]),
    )
    assert.deepEqual(
      f.map((x) => x.value),
      ['é', 'é'],
    )
  })
  it('splits at the first empty line for LF and CRLF messages', () => {
    assert.equal(splitHeaderBody(Buffer.from('A: 1\n\nbody\n\nmore')).body.toString(), 'body\n\nmore')
    assert.equal(splitHeaderBody(Buffer.from('A: 1\r\n\r\nbody')).body.toString(), 'body')
    assert.equal(splitHeaderBody(Buffer.from('A: 1\r\n')).body.length, 0)
  })
})

describe('transfer decoders', () => {
  it('decodes quoted-printable soft breaks with trailing whitespace and keeps bad escapes', () => {
    assert.equal(decodeQuotedPrintable(Buffer.from('a=  \r\nb=3D=zz=\n')).toString(), 'ab==zz')
  })
  it('decodes base64 across line breaks', () => {
    assert.deepEqual(decodeBase64(Buffer.from('aGVs\r\nbG8=\r\n')), { bytes: Buffer.from('hello'), junk: false })
  })
})
