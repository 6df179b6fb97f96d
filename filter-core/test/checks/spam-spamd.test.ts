import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { ErrorCode } from '@vigil/protocol'
import { createSpamdScanner, parseReportTable, parseSpamdReport, truncateMessage } from '../../src/checks/spam-spamd.ts'

// A REPORT response as SpamAssassin 4.0.1's spamd sends it (captured from the harness spamd).
const REPORT =
  'SPAMD/1.1 0 EX_OK\r\nContent-length: 785\r\nSpam: True ; 1000.0 / 5.0\r\n\r\n' +
  'Spam detection software, running on the system "vm",\nhas identified this incoming email as possible spam.\n\n' +
  'Content analysis details:   (1000.0 points, 5.0 required)\n\n' +
  ' pts rule name              description\n' +
  '---- ---------------------- --------------------------------------------------\n' +
  '-0.0 NO_RECEIVED            Informational: message has no Received headers\n' +
  '-1.9 BAYES_00               BODY: Bayes spam probability is 0 to 1%\n' +
  '                            [score: 0.0000]\n' +
  ' 0.1 URIBL_BLOCKED          ADMINISTRATOR NOTICE: The query to URIBL was\n' +
  '                            blocked.  See\n' +
  '1000 GTUBE                  BODY: Generic Test for Unsolicited Bulk Email\n\n'

describe('parseSpamdReport', () => {
  it('reads the verdict, the required score and every rule with its points', () => {
    const r = parseSpamdReport(REPORT)
    assert.equal(r.isSpam, true)
    assert.equal(r.score, 1000)
    assert.equal(r.requiredScore, 5)
    assert.deepEqual(r.tests, [
      { name: 'NO_RECEIVED', score: -0 },
      { name: 'BAYES_00', score: -1.9 },
      { name: 'URIBL_BLOCKED', score: 0.1 },
      { name: 'GTUBE', score: 1000 },
    ])
    assert.match(r.report, /^Spam detection software/)
  })

  const errors: Array<[what: string, raw: string, message: RegExp]> = [
    ['a non-zero spamd status', 'SPAMD/1.0 76 Bad header line: (EOF)\r\n', /spamd answered 76 Bad header line/],
    ['a response without Spam:', 'SPAMD/1.1 0 EX_OK\r\nContent-length: 0\r\n\r\n', /without a Spam: header/],
    ['something else entirely', 'HTTP/1.1 400 Bad Request\r\n\r\n', /malformed spamd response/],
  ]
  for (const [what, raw, message] of errors)
    it(`throws CHECK_FAILED for ${what}`, () =>
      assert.throws(() => parseSpamdReport(raw), { code: ErrorCode.CHECK_FAILED, message }))

  it('returns no tests for a report without the analysis table', () => {
    assert.deepEqual(parseReportTable('no table here\n'), [])
  })
})

describe('truncateMessage', () => {
  it('keeps small messages whole', () => {
    const raw = Buffer.from('Subject: x\n\nbody\n')
    assert.deepEqual(truncateMessage(raw, 100), { bytes: raw, truncated: false })
  })
  it('cuts at the last line break before the limit', () => {
    const raw = Buffer.from('Subject: x\n\nline one\nline two\nline three\n')
    assert.equal(truncateMessage(raw, 30).bytes.toString(), 'Subject: x\n\nline one\nline two\n')
  })
  it('never cuts inside the header block', () => {
    const raw = Buffer.from('Subject: a long subject line\r\nX: y\r\n\r\nbody body body\r\n')
    assert.equal(truncateMessage(raw, 10).bytes.toString(), 'Subject: a long subject line\r\nX: y\r\n\r\n')
  })
})

describe('createSpamdScanner', () => {
  it('requires a port or a socket', () => {
    assert.throws(() => createSpamdScanner({ host: '127.0.0.1' }), { code: ErrorCode.CONFIG_INVALID })
  })
})
