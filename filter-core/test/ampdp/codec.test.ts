// The AM.PDP codec against amavis's own proto_encode/proto_decode (Amavis::Util, run by perl).
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import {
  addAttribute,
  formatResponse,
  parseLine,
  protoDecode,
  protoEncode,
  type AmpdpRequest,
} from '../../src/ampdp/codec.ts'
import { filterConfigSchema, normalizeListeners } from '../../src/config.ts'

/** amavis's proto_encode of each [name, ...values], one result per line (latin1 in and out). */
function perlEncode(cases: string[][]): string[] {
  const src =
    'use Amavis::Util qw(proto_encode); binmode STDIN; binmode STDOUT; while (my $l = <STDIN>) { chomp $l; ' +
    'my @f = map { pack("H*", $_) } split(/ /, $l, -1); print &proto_encode(@f), "\\n" }'
  const input = cases.map((c) => c.map((s) => Buffer.from(s, 'latin1').toString('hex')).join(' ')).join('\n') + '\n'
  return execFileSync('/usr/bin/perl', ['-T', '-e', src], { input, encoding: 'latin1' }).split('\n').slice(0, -1)
}

describe('protoEncode', () => {
  const cases: string[][] = [
    ['setreply', '250', '2.0.0', 'from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as 4F2'],
    ['setreply', '450', '4.5.0', 'Failure: File /var/lib/amavis/virusmails/x does not exist'],
    ['exit_code', '75'],
    ['odd name=x', '100% tab\there', 'crlf\r\n', 'latin1 \xe9\xff'],
    ['recipient', '<a@b.example>'],
    ['empty', ''],
  ]
  const expected = perlEncode(cases)
  cases.forEach((c, i) => {
    it(`encodes ${JSON.stringify(c)} as amavis does`, () => assert.equal(protoEncode(c[0], ...c.slice(1)), expected[i]))
  })
})

describe('parseLine', () => {
  const cases: Array<[line: string, expected: ReturnType<typeof parseLine>]> = [
    ['request=release', { kind: 'attr', name: 'request', value: 'release' }],
    ['request=release\r', { kind: 'attr', name: 'request', value: 'release' }],
    ['mail_file=b/banned-Ab%2Bc.gz', { kind: 'attr', name: 'mail_file', value: 'b/banned-Ab+c.gz' }],
    ['recipient=%3Ca%20b@x%3E', { kind: 'attr', name: 'recipient', value: '<a b@x>' }],
    ['sender: <s@x>', { kind: 'attr', name: 'sender', value: '<s@x>' }],
    ['a=b=c', { kind: 'attr', name: 'a', value: 'b=c' }],
    ['empty=', { kind: 'attr', name: 'empty', value: '' }],
    ['', { kind: 'end' }],
    ['\r', { kind: 'end' }],
    ['no separator here', { kind: 'error', error: { kind: 'invalid_line', detail: 'no separator here' } }],
    ['nul\0name=x', { kind: 'error', error: { kind: 'invalid_line', detail: 'nul\0name=x' } }],
  ]
  for (const [line, expected] of cases)
    it(`${expected.kind === 'error' ? 'rejects' : 'parses'} ${JSON.stringify(line)}`, () =>
      assert.deepEqual(parseLine(line), expected))

  it('decodes what protoEncode wrote', () => {
    const p = parseLine(protoEncode('x y', 'a%b c\xe9'))
    assert.deepEqual(p, { kind: 'attr', name: 'x y', value: 'a%b c\xe9' })
    assert.equal(protoDecode('%zz%4'), '%zz%4')
  })
})

describe('requests and responses', () => {
  it('keeps repeated attributes in order', () => {
    const req: AmpdpRequest = new Map()
    for (const r of ['<a@x>', '<b@x>', '<c@x>']) addAttribute(req, 'recipient', r)
    addAttribute(req, 'request', 'release')
    assert.deepEqual(req.get('recipient'), ['<a@x>', '<b@x>', '<c@x>'])
  })
  it('ends every response line with CRLF and the response with an empty line', () => {
    assert.equal(formatResponse(['a=1', 'b=2']), 'a=1\r\nb=2\r\n\r\n')
  })
})

describe('listener protocol', () => {
  it("accepts amavis's spelling AM.PDP and normalises it to ampdp", () => {
    const cfg = filterConfigSchema.parse({
      listen: [
        { address: 'unix:/tmp/x.sock', protocol: 'AM.PDP' },
        { address: '127.0.0.1:9998', protocol: 'ampdp' },
        '127.0.0.1:10024',
      ],
    })
    assert.deepEqual(
      normalizeListeners(cfg).map((l) => l.protocol),
      ['ampdp', 'ampdp', 'smtp'],
    )
    assert.equal(
      filterConfigSchema.safeParse({ listen: [{ address: '127.0.0.1:1', protocol: 'am.pdp' }] }).success,
      false,
    )
  })
})
