import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { parseMessage } from '../../src/mime/parse.ts'
import { checkHeaders } from '../../src/checks/headers.ts'
import { readMail, toCrlf } from '../fixtures/mail.ts'

function check(raw: Buffer, opts = {}) {
  return checkHeaders(parseMessage(raw), raw, opts)
}

describe('checkHeaders on specimens', () => {
  const cases: Array<[file: string, minor: number, reason: RegExp | undefined]> = [
    ['plain.eml', 0, undefined],
    ['alternative.eml', 0, undefined],
    ['rfc2047-2231.eml', 0, undefined],
    ['nested-rfc822.eml', 0, undefined],
    ['badhdr-1-mime.eml', 1, /^MIME error: .*multipart\/mixed without boundary/],
    ['badhdr-2-8bit.eml', 2, /^Non-encoded 8-bit data \(char C3 hex\): Subject: Caf\\303\\251 ouvert$/],
    ['badhdr-3-char.eml', 3, /^Improper use of control character \(char 07 hex\): Subject: bell\\007/],
    ['badhdr-4-space.eml', 4, /^Improper folded header field made up entirely of whitespace \(char 20 hex\): Subject:/],
    ['badhdr-5-long.eml', 5, /^Header line longer than 998 characters: Subject: x+\[\.\.\.\]$/],
    ['badhdr-6-syntax.eml', 6, /^Header field syntax error \(bad date\): Date: yesterday around noon$/],
    ['badhdr-7-missing.eml', 7, /^Missing required header field: "Date"$/],
    ['badhdr-8-dupl.eml', 8, /^Duplicate header field: "Subject"$/],
  ]
  for (const [file, minor, reason] of cases) {
    it(`${minor ? `reports minor ${minor}` : 'finds nothing'} for ${file}`, () => {
      const r = check(readMail(file))
      assert.equal(r.bad, minor !== 0)
      assert.equal(r.minor, minor)
      if (reason) assert.match(r.reason!, reason)
      else assert.equal(r.reason, undefined)
    })
    it(`gives the same minor for ${file} with CRLF line endings`, () => {
      assert.equal(check(toCrlf(readMail(file))).minor, minor)
    })
  }
})

describe('checkHeaders rules', () => {
  const base = 'From: a@example.com\nDate: Mon, 01 Jan 2024 10:00:00 +0000\n'
  const cases: Array<[what: string, headers: string, minor: number]> = [
    ['a bare CR inside a field', base + 'Subject: a\rb\n', 3],
    ['a NUL byte', base + 'Subject: a\0b\n', 3],
    ['a line that is not a header field', base + 'this is not a field\n', 6],
    ['a From without an address', 'From: Alice\nDate: Mon, 01 Jan 2024 10:00:00 +0000\n', 6],
    ['unbalanced angle brackets in To', base + 'To: <bob@example.net\n', 6],
    ['an empty To group', base + 'To: undisclosed-recipients:;\n', 0],
    ['a quoted local part with a space', base + 'To: "john doe"@example.com\n', 0],
    ['an address literal', base + 'Cc: Ops <ops@[192.0.2.1]>\n', 0],
    ['a date without weekday and seconds', 'From: a@example.com\nDate: 1 Jan 2024 10:00 GMT\n', 0],
    ['a missing From', 'Date: Mon, 01 Jan 2024 10:00:00 +0000\n', 7],
    ['duplicate Message-ID (case-insensitive)', base + 'Message-ID: <a@x>\nMESSAGE-ID: <b@x>\n', 8],
    ['repeated Received fields (allowed)', base + 'Received: from a\nReceived: from b\n', 0],
  ]
  for (const [what, headers, minor] of cases)
    it(`${minor ? `reports minor ${minor} for` : 'accepts'} ${what}`, () => {
      assert.equal(check(Buffer.from(headers + '\nbody\n', 'latin1')).minor, minor)
    })

  it('accepts 8-bit header data when the message came with SMTPUTF8', () => {
    assert.equal(check(readMail('badhdr-2-8bit.eml'), { smtputf8: true }).minor, 0)
  })

  it('skips tests that are switched off', () => {
    assert.equal(check(readMail('badhdr-8-dupl.eml'), { tests: { multiple: false } }).minor, 0)
  })

  it('reports the highest minor and lists every problem', () => {
    const raw = Buffer.from('Subject: a\nSubject: caf\xe9\n\nbody\n', 'latin1')
    const r = check(raw)
    assert.equal(r.minor, 8)
    assert.deepEqual(
      r.problems.map((p) => p.minor),
      [2, 7, 7, 8],
    )
  })
})
