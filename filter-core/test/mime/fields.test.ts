import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { parseMessage } from '../../src/mime/parse.ts'
import {
  addressList,
  mailboxList,
  attachedFileNames,
  isPublicIp,
  parseReceived,
  parseReceivedTrace,
  references,
  userAgent,
} from '../../src/mime/fields.ts'
import { readMail } from '../fixtures/mail.ts'

describe('attachedFileNames', () => {
  const cases: Array<[file: string, names: (string | string[])[]]> = [
    ['plain.eml', []],
    ['attachment-base64.eml', ['report.pdf']],
    ['nested-rfc822.eml', ['dot.png']],
    // The named zip stops the walk: its members are not listed.
    ['zip-exe.eml', ['invoice.zip']],
    ['rfc2047-2231.eml', ['€ rates.txt', ['long name été.txt', 'résumé.txt'], ['b.bin', 'a.bin']]],
  ]
  for (const [file, names] of cases)
    it(`lists ${JSON.stringify(names)} for ${file}`, () =>
      assert.deepEqual(attachedFileNames(parseMessage(readMail(file))), names))
})

describe('addressList', () => {
  const cases: Array<[value: string | undefined, addrs: string[]]> = [
    ['alice@example.com', ['alice@example.com']],
    ['Alice Example <alice@example.com>', ['alice@example.com']],
    ['"Doe, John" <john@example.com>, bob@example.net (Bob)', ['john@example.com', 'bob@example.net']],
    ['=?UTF-8?B?w4lsb2TDrWU=?= <elodie@example.com>', ['elodie@example.com']],
    ['undisclosed-recipients:;', []],
    ['friends: a@x.example, b@y.example;, c@z.example', ['a@x.example', 'b@y.example', 'c@z.example']],
    ['<@relay.example:route@example.com>', ['route@example.com']],
    ['"quoted <not@addr>" <real@example.com>', ['real@example.com']],
    [undefined, []],
  ]
  for (const [value, addrs] of cases)
    it(`parses ${JSON.stringify(value)}`, () => assert.deepEqual(addressList(value), addrs))
})

describe('Received trace', () => {
  const cases: Array<[value: string, parsed: ReturnType<typeof parseReceived>]> = [
    [
      'from mail.example.com (mail.example.com [192.0.2.10]:41831) by mx1.example.net (Postfix) with ESMTPS id 4Xyz',
      { ip: '192.0.2.10', port: 41831, with: 'ESMTPS' },
    ],
    [
      'from bombadil.infradead.org (bombadil.infradead.org [IPv6:2607:7C80:54:E::133]) by smtp2 (Postfix) with ESMTPS id 05',
      { ip: '2607:7c80:54:e::133', port: undefined, with: 'ESMTPS' },
    ],
    [
      'from [20.194.2.11] (port=5123 helo=User) by dec.fca.unam.mx with esmtpa (Exim 4.92) id 1k0X',
      { ip: '20.194.2.11', port: 5123, with: 'esmtpa' },
    ],
    ['by mail.example.com (Postfix, from userid 50401) id 48595F; Wed, 1 Feb 2023', { with: '' }],
    [
      'from unknown (HELO x) (198.51.100.7) by qmail with SMTP; 1 Jan 2024',
      { ip: '198.51.100.7', port: undefined, with: 'SMTP' },
    ],
  ]
  for (const [value, parsed] of cases)
    it(`parses ${value.slice(0, 50)}…`, () => {
      const r = parseReceived(value)
      assert.deepEqual({ ip: r.ip, port: r.port, with: r.with }, { ip: undefined, port: undefined, ...parsed })
    })

  it('keeps only public IPs in ip_trace, and one entry per Received in ip_proto_trace', () => {
    const m = parseMessage(readMail('plain.eml'))
    assert.deepEqual(parseReceivedTrace(m.headers), {
      ipTrace: ['192.0.2.10'],
      ipProtoTrace: ['ESMTPS://[192.0.2.10]:41831', 'ESMTPSA://10.1.2.20'],
    })
    const noIp = parseReceivedTrace([{ name: 'Received', value: 'by host (Postfix, from userid 0) id 1' }])
    assert.deepEqual(noIp, { ipTrace: [], ipProtoTrace: ['x'] })
  })

  const ips: Array<[ip: string, pub: boolean]> = [
    ['192.0.2.10', true],
    ['8.8.8.8', true],
    ['10.1.2.3', false],
    ['172.20.0.1', false],
    ['172.32.0.1', true],
    ['192.168.1.1', false],
    ['127.0.0.1', false],
    ['169.254.1.1', false],
    ['100.64.0.1', false],
    ['2001:db8::1', true],
    ['::1', false],
    ['fe80::1', false],
    ['fd00::1', false],
    ['::ffff:10.0.0.1', false],
  ]
  for (const [ip, pub] of ips)
    it(`classifies ${ip} as ${pub ? 'public' : 'not public'}`, () => assert.equal(isPublicIp(ip), pub))
})

describe('references and userAgent', () => {
  it('lists References then new In-Reply-To ids', () => {
    const m = parseMessage(readMail('alternative.eml'))
    assert.deepEqual(references(m.headers), ['<root@example.com>', '<parent@example.com>'])
    assert.deepEqual(
      references([
        { name: 'In-Reply-To', value: '<b@x> (comment)' },
        { name: 'References', value: '<a@x> <b@x>' },
      ]),
      ['<a@x>', '<b@x>'],
    )
  })
  it('prefers User-Agent over X-Mailer and trims', () => {
    assert.equal(userAgent(parseMessage(readMail('plain.eml')).headers), 'Mozilla Thunderbird 115.6')
    assert.equal(userAgent(parseMessage(readMail('alternative.eml')).headers), 'Microsoft Outlook 16.0')
    assert.equal(userAgent([{ name: 'X-Mailer', value: '  a \t b ' }]), 'a b')
    assert.equal(userAgent([]), undefined)
  })
})

describe('mailboxList', () => {
  it('decodes RFC 2047 display names and unquotes quoted ones', () => {
    assert.deepEqual(
      mailboxList(
        '=?UTF-8?B?w4lsb2TDrWU=?= <elodie@example.com>, "Doe, \\"JD\\" John" <john@example.com>, bare@example.net',
      ),
      [
        { name: 'Élodíe', address: 'elodie@example.com' },
        { name: 'Doe, "JD" John', address: 'john@example.com' },
        { address: 'bare@example.net' },
      ],
    )
  })
})
