import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { parseMessage } from '../../src/mime/parse.ts'
import { checkUnchecked } from '../../src/checks/unchecked.ts'
import { readMail } from '../fixtures/mail.ts'

describe('checkUnchecked', () => {
  const nest = (levels: number) => {
    let msg = 'Content-Type: text/plain\n\nbottom\n'
    for (let i = 0; i < levels; i++) msg = `Content-Type: message/rfc822\n\n${msg}`
    return Buffer.from(msg)
  }
  const cases: Array<[what: string, raw: () => Buffer, minor: number, reason?: RegExp]> = [
    ['a plain message', () => readMail('plain.eml'), 0],
    ['a readable zip', () => readMail('zip-exe.eml'), 0],
    ['an encrypted zip member', () => readMail('zip-encrypted.eml'), 1, /^p004 secret\.txt: encrypted$/],
    ['nesting beyond the depth limit', () => nest(25), 2, /too deep/],
    [
      'two Content-Type fields in one part',
      () => Buffer.from('Content-Type: text/plain\nContent-Type: text/html\n\n<p>x</p>\n'),
      3,
      /ambiguous content: multiple content-type/,
    ],
    [
      'a corrupt zip attachment',
      () =>
        Buffer.from(
          'Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: application/zip\nContent-Transfer-Encoding: base64\n\n' +
            Buffer.from('PK\x03\x04 not really a zip').toString('base64') +
            '\n--b--\n',
        ),
      0,
      /corrupt zip/,
    ],
  ]
  for (const [what, raw, minor, reason] of cases)
    it(`${reason ? `reports minor ${minor} for` : 'accepts'} ${what}`, () => {
      const r = checkUnchecked(parseMessage(raw()))
      assert.equal(r.unchecked, reason !== undefined)
      assert.equal(r.minor, minor)
      if (reason) assert.match(r.reason!, reason)
    })
})
