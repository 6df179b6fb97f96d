import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { parseMessage } from '../../src/mime/parse.ts'
import { checkBanned, compileBannedRules, DEFAULT_BANNED_RULES } from '../../src/checks/banned.ts'
import { readMail } from '../fixtures/mail.ts'

function attachment(name: string, type = 'application/octet-stream', data = Buffer.from('harmless text')): Buffer {
  return Buffer.from(
    [
      'From: a@example.com',
      'Content-Type: multipart/mixed; boundary=B',
      '',
      '--B',
      'Content-Type: text/plain',
      '',
      'hi',
      '--B',
      `Content-Type: ${type}; name="${name}"`,
      'Content-Transfer-Encoding: base64',
      '',
      data.toString('base64'),
      '--B--',
      '',
    ].join('\n'),
  )
}

describe('checkBanned with the default rules', () => {
  const cases: Array<[what: string, raw: () => Buffer, reason: string | undefined]> = [
    ['a clean message', () => readMail('plain.eml'), undefined],
    ['a PDF attachment', () => readMail('attachment-base64.eml'), undefined],
    [
      'a double extension',
      () => readMail('double-ext.eml'),
      'multipart/mixed | application/octet-stream,.asc,invoice.pdf.exe',
    ],
    [
      'an executable disguised as a JPEG (by detected type)',
      () => readMail('exe-by-type.eml'),
      'multipart/mixed | image/jpeg,.exe,.exe-ms,holiday.jpg',
    ],
    [
      'an executable inside a zip archive',
      () => readMail('zip-exe.eml'),
      'multipart/mixed | application/x-zip,.zip,invoice.zip | .exe,.exe-ms,docs/virus.exe',
    ],
    [
      'a .scr name',
      () => attachment('screensaver.SCR'),
      'multipart/mixed | application/octet-stream,.asc,screensaver.SCR',
    ],
    ['a .js name', () => attachment('run.js'), 'multipart/mixed | application/octet-stream,.asc,run.js'],
    ['a .lnk name', () => attachment('doc.lnk'), 'multipart/mixed | application/octet-stream,.asc,doc.lnk'],
    [
      'the application/x-msdownload MIME type',
      () => attachment('setup.dat', 'application/x-msdownload'),
      'multipart/mixed | application/x-msdownload,.asc,setup.dat',
    ],
    [
      'an ELF binary',
      () => attachment('tool', 'application/octet-stream', Buffer.from('\x7fELF\x02\x01\x01\0', 'latin1')),
      'multipart/mixed | application/octet-stream,.exe,.exe-unix,.elf,tool',
    ],
    ['a harmless name that merely contains exe', () => attachment('exercise.txt'), undefined],
    // Amavis's sample rule order: Windows executables are blocked anywhere, names inside Unix archives are not.
    ['a .js file inside a tar.gz (allowed in Unix archives)', () => readMail('tgz-js.eml'), undefined],
    [
      'a Windows executable inside a tar.gz (blocked anywhere)',
      () => readMail('tgz-exe.eml'),
      'multipart/mixed | application/gzip,.gz,build.tar.gz | .tar,build.tar | .exe,.exe-ms,bin/setup.exe',
    ],
  ]
  for (const [what, raw, reason] of cases) {
    it(`${reason ? 'bans' : 'passes'} ${what}`, () => {
      const r = checkBanned(parseMessage(raw()))
      assert.equal(r.banned, reason !== undefined)
      assert.equal(r.reason, reason)
    })
  }
})

describe('checkBanned with configured rules', () => {
  it('lets an earlier allow rule win over a later deny (first match wins)', () => {
    const rules = { rules: [{ pattern: '^invoice\\.pdf\\.exe$', allow: true }, ...DEFAULT_BANNED_RULES.rules] }
    assert.equal(checkBanned(parseMessage(readMail('double-ext.eml')), rules).banned, false)
  })

  it('allows everything inside an allowed container', () => {
    const rules = { rules: [{ pattern: '^\\.zip$', allow: true }, ...DEFAULT_BANNED_RULES.rules] }
    assert.equal(checkBanned(parseMessage(readMail('zip-exe.eml')), rules).banned, false)
  })

  it('bans by a custom deny rule and names the part and rule', () => {
    const r = checkBanned(parseMessage(readMail('attachment-base64.eml')), { rules: [{ pattern: '^\\.pdf$' }] })
    assert.deepEqual(r, {
      banned: true,
      reason: 'multipart/mixed | application/pdf,.pdf,report.pdf',
      partId: 'p003',
      rule: '^\\.pdf$',
    })
  })

  it('accepts precompiled rules', () => {
    const compiled = compileBannedRules(DEFAULT_BANNED_RULES)
    assert.equal(checkBanned(parseMessage(readMail('zip-exe.eml')), compiled).banned, true)
  })

  it('rejects an invalid pattern with a message naming it', () => {
    assert.throws(() => compileBannedRules({ rules: [{ pattern: '(' }] }), /Invalid banned rule pattern "\("/)
  })
})
