import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { buildDsn, buildVirusAdminNotification, buildAdminNotification } from '../../src/notify/dsn.ts'
import { rfc5322Date, encodeHeaderText } from '../../src/notify/message.ts'
import { parseMessage } from '../../src/mime/parse.ts'
import { headerValue, parseHeaderFields, decodeRfc2047 } from '../../src/mime/headers.ts'
import { checkHeaders } from '../../src/checks/headers.ts'
import { readMail } from '../fixtures/mail.ts'

const DATE = new Date(Date.UTC(2024, 0, 1, 10, 0, 5))
const original = readMail('zip-exe.eml')
const originalHeaders = parseMessage(original).headerBytes

function dsn(over: Partial<Parameters<typeof buildDsn>[0]> = {}) {
  return buildDsn({
    reportingMta: 'mx1.example.net',
    sender: 'alice@example.com',
    recipients: [
      {
        address: 'bob@example.net',
        orcpt: 'rfc822;Bob@Example.net',
        status: '5.7.0',
        diagnostic: '554 5.7.0 Reject, id=04321-01 - BANNED: docs/virus.exe',
      },
      {
        address: 'carol@example.net',
        status: '5.7.0',
        diagnostic: '554 5.7.0 Reject, id=04321-01 - BANNED: docs/virus.exe',
      },
    ],
    originalHeaders,
    reason: 'BANNED (multipart/mixed | application/x-zip,.zip,invoice.zip | .exe,.exe-ms,docs/virus.exe)',
    mailId: 'Jnk7NzYB8pvl',
    logId: '04321-01',
    originalSubject: 'Invoice archive',
    arrivalDate: DATE,
    date: DATE,
    ...over,
  })
}

describe('buildDsn', () => {
  it('builds a multipart/report with notification, delivery-status and original headers', () => {
    const m = parseMessage(dsn())
    assert.equal(m.root.declaredType, 'multipart/report')
    assert.deepEqual(
      m.root.children.map((c) => c.declaredType),
      ['text/plain', 'message/delivery-status', 'text/rfc822-headers'],
    )
    assert.match(headerValue(m.headers, 'content-type')!, /report-type=delivery-status/)
    assert.equal(headerValue(m.headers, 'from'), 'Mail Delivery System <MAILER-DAEMON@mx1.example.net>')
    assert.equal(headerValue(m.headers, 'to'), '<alice@example.com>')
    assert.equal(headerValue(m.headers, 'date'), 'Mon, 01 Jan 2024 10:00:05 +0000')
    assert.equal(m.subject, 'Undeliverable mail: Invoice archive')
    assert.equal(headerValue(m.headers, 'auto-submitted'), 'auto-replied')
  })

  it('reports one delivery-status block per recipient', () => {
    const status = parseMessage(dsn()).root.children[1].content!.toString()
    const blocks = status.split(/\r\n\r\n/)
    assert.deepEqual(parseHeaderFields(Buffer.from(blocks[0] + '\r\n')), [
      { name: 'Reporting-MTA', value: 'dns; mx1.example.net' },
      { name: 'X-Amavis-Mail-Id', value: 'Jnk7NzYB8pvl' },
      { name: 'Arrival-Date', value: 'Mon, 01 Jan 2024 10:00:05 +0000' },
    ])
    const first = parseHeaderFields(Buffer.from(blocks[1] + '\r\n'))
    assert.deepEqual(first, [
      { name: 'Original-Recipient', value: 'rfc822;Bob@Example.net' },
      { name: 'Final-Recipient', value: 'rfc822; bob@example.net' },
      { name: 'Action', value: 'failed' },
      { name: 'Status', value: '5.7.0' },
      { name: 'Diagnostic-Code', value: 'smtp; 554 5.7.0 Reject, id=04321-01 - BANNED: docs/virus.exe' },
      { name: 'Last-Attempt-Date', value: 'Mon, 01 Jan 2024 10:00:05 +0000' },
    ])
    assert.match(blocks[2], /^Final-Recipient: rfc822; carol@example.net\r\n/)
  })

  it('carries the original header block unchanged', () => {
    const part = parseMessage(dsn()).root.children[2].content!.toString('latin1')
    assert.equal(part.replace(/\r\n/g, '\n'), originalHeaders.toString('latin1'))
  })

  it('names the reason and the reference codes in the human-readable part', () => {
    const text = parseMessage(dsn()).root.children[0].content!.toString()
    assert.match(text, /blocked by the content filter: BANNED \(multipart\/mixed \| .*docs\/virus.exe\)/)
    assert.match(text, /reference code for your message is 04321-01\/Jnk7NzYB8pvl/)
    assert.match(text, /<bob@example.net>: 554 5.7.0 Reject/)
  })

  it('produces a message with valid headers, CRLF line ends only, byte-identical for the same input', () => {
    const raw = dsn()
    assert.equal(checkHeaders(parseMessage(raw), raw).minor, 0)
    assert.equal(/[^\r]\n/.test(raw.toString('latin1')), false)
    assert.deepEqual(raw, dsn())
  })

  it('encodes a non-ASCII original subject as RFC 2047', () => {
    const m = parseMessage(dsn({ originalSubject: 'Résumé € prices' }))
    assert.equal(m.subject, 'Undeliverable mail: Résumé € prices')
    assert.match(headerValue(m.headers, 'subject')!, /^=\?UTF-8\?B\?/)
  })

  it('strips CR/LF from values so nothing can inject headers', () => {
    const raw = dsn({
      reason: 'x\r\nBcc: victim@example.org',
      sender: 'a@example.com\r\nBcc: v@example.org',
    }).toString()
    assert.equal(/^Bcc:/m.test(raw), false)
  })

  it('refuses the null sender and an empty recipient list', () => {
    assert.throws(() => dsn({ sender: '' }), /null sender/)
    assert.throws(() => dsn({ recipients: [] }), /at least one recipient/)
  })
})

describe('buildVirusAdminNotification', () => {
  const note = () =>
    buildVirusAdminNotification({
      to: 'virusalert@example.net',
      reportingMta: 'mx1.example.net',
      sender: 'alice@example.com',
      recipients: [
        { address: 'bob@example.net', response: '554 5.7.0 Reject, id=04321-01 - INFECTED: Eicar-Test-Signature' },
      ],
      findings: ['Eicar-Test-Signature'],
      scanners: ['ClamAV-clamd'],
      contentType: 'Virus',
      mailId: 'Jnk7NzYB8pvl',
      logId: '04321-01',
      clientIp: '192.0.2.10',
      quarantine: 'J/virus-Jnk7NzYB8pvl.gz',
      originalHeaders,
      originalSubject: 'Invoice archive',
      originalMessageId: '<20240101.123@example.com>',
      originalFrom: 'Alice Example <alice@example.com>',
      date: DATE,
    })

  it('addresses the virus admin with amavis subject wording', () => {
    const m = parseMessage(note())
    assert.equal(headerValue(m.headers, 'to'), '<virusalert@example.net>')
    assert.equal(m.subject, 'INFECTED (Eicar-Test-Signature) in mail FROM [192.0.2.10] <alice@example.com>')
    assert.equal(m.root.declaredType, 'text/plain')
  })

  it('lists findings, scanner, reference, quarantine and each recipient, then the original headers', () => {
    const body = parseMessage(note()).root.content!.toString()
    for (const re of [
      /^A virus was found: Eicar-Test-Signature\r\n/,
      /Scanner detecting a virus: ClamAV-clamd/,
      /Internal reference code for the message is 04321-01\/Jnk7NzYB8pvl/,
      /First upstream SMTP client IP address: \[192.0.2.10\]/,
      /Return-Path: <alice@example.com>/,
      /The message has been quarantined as: J\/virus-Jnk7NzYB8pvl.gz/,
      /The message WAS NOT relayed to:\r\n<bob@example.net>:\r\n   554 5.7.0 Reject/,
      /BEGIN HEADERS -+\r\nReturn-Path: <alice@example.com>\r\nReceived: from mail.example.com/,
    ])
      assert.match(body, re)
  })

  it('produces a message with valid headers', () => {
    const raw = note()
    assert.equal(checkHeaders(parseMessage(raw), raw).minor, 0)
  })

  it('serves other categories with their label', () => {
    const raw = buildAdminNotification({
      to: 'admin@example.net',
      reportingMta: 'mx1',
      sender: '',
      recipients: [{ address: 'bob@example.net' }],
      findings: ['.exe,.exe-ms,a.exe'],
      category: 'BANNED',
      date: DATE,
    })
    const m = parseMessage(raw)
    assert.equal(m.subject, 'BANNED (.exe,.exe-ms,a.exe) in mail FROM <>')
    assert.match(m.root.content!.toString(), /^BANNED contents found: \.exe,\.exe-ms,a\.exe/)
  })
})

describe('message helpers', () => {
  it('formats RFC 5322 dates in UTC', () => {
    assert.equal(rfc5322Date(new Date(Date.UTC(2026, 10, 25, 1, 2, 3))), 'Wed, 25 Nov 2026 01:02:03 +0000')
  })
  it('encodes long non-ASCII text in words that decode back', () => {
    const text = 'Ünïcödé '.repeat(12)
    const enc = encodeHeaderText(text)
    assert.ok(enc.split(' ').every((w) => w.length <= 75))
    assert.equal(decodeRfc2047(enc), text.replace(/[\r\n]+/g, ' '))
    assert.equal(encodeHeaderText('plain'), 'plain')
  })
})
