import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { parseMessage, bodyDigest } from '../../src/mime/parse.ts'
import type { MimePart } from '../../src/checks/check.ts'
import { readMail, toCrlf } from '../fixtures/mail.ts'

/** Compact outline of a tree: `id placement declaredType detectedType [names] !reason`. */
function outline(p: MimePart, depth = 0): string[] {
  const names = p.declaredNames.length ? ` [${p.declaredNames.join('|')}]` : ''
  const undec = p.undecodable ? ` !${p.undecodableReason}` : ''
  const line = `${'  '.repeat(depth)}${p.id} ${p.placement} ${p.declaredType ?? '-'} ${p.detectedType ?? '-'}${names}${undec}`
  return [line, ...p.children.flatMap((c) => outline(c, depth + 1))]
}

describe('parseMessage on specimens', () => {
  const cases: Array<[file: string, tree: string[]]> = [
    ['plain.eml', ['p001 1 text/plain asc']],
    ['alternative.eml', ['p001 1 multipart/alternative -', '  p002 1/1 text/plain txt', '  p003 1/2 text/html html']],
    [
      'attachment-base64.eml',
      ['p001 1 multipart/mixed -', '  p002 1/1 text/plain asc', '  p003 1/2 application/pdf pdf [report.pdf]'],
    ],
    [
      'nested-rfc822.eml',
      [
        'p001 1 multipart/mixed -',
        '  p002 1/1 text/plain asc',
        '  p003 1/2 message/rfc822 -',
        '    p004 1/2/1 multipart/mixed -',
        '      p005 1/2/1/1 text/plain asc',
        '      p006 1/2/1/2 image/png png [dot.png]',
      ],
    ],
    [
      'zip-exe.eml',
      [
        'p001 1 multipart/mixed -',
        '  p002 1/1 text/plain asc',
        '  p003 1/2 application/x-zip zip [invoice.zip]',
        '    p004 1/2/1 - asc [docs/readme.txt]',
        '    p005 1/2/2 - exe [docs/virus.exe]',
      ],
    ],
    [
      'zip-encrypted.eml',
      [
        'p001 1 multipart/mixed -',
        '  p002 1/1 text/plain asc',
        '  p003 1/2 application/zip zip [secret.zip]',
        '    p004 1/2/1 - - [secret.txt] !encrypted',
      ],
    ],
    [
      'tgz-exe.eml',
      [
        'p001 1 multipart/mixed -',
        '  p002 1/1 text/plain asc',
        '  p003 1/2 application/gzip gz [build.tar.gz]',
        '    p004 1/2/1 - tar [build.tar]',
        '      p005 1/2/1/1 - asc [tools/README]',
        '      p006 1/2/1/2 - exe [bin/setup.exe]',
      ],
    ],
    [
      'rfc2047-2231.eml',
      [
        'p001 1 multipart/mixed -',
        '  p002 1/1 text/plain asc',
        '  p003 1/2 application/octet-stream asc [€ rates.txt]',
        '  p004 1/3 text/plain asc [long name été.txt|résumé.txt]',
        '  p005 1/4 application/octet-stream bin [b.bin|a.bin]',
      ],
    ],
  ]
  for (const [file, tree] of cases) {
    it(`builds the MIME tree of ${file}`, () => {
      assert.deepEqual(outline(parseMessage(readMail(file)).root), tree)
    })
    it(`builds the same tree for ${file} with CRLF line endings`, () => {
      assert.deepEqual(outline(parseMessage(toCrlf(readMail(file))).root), tree)
    })
  }

  it('decodes quoted-printable with soft line breaks and =3D', () => {
    const m = parseMessage(readMail('qp.eml'))
    assert.equal(m.root.content!.toString('latin1'), 'Gr\xfc\xdfe aus M\xfcnchen = Munich, soft break joined.\n')
  })

  it('decodes base64 attachments to their exact bytes', () => {
    const m = parseMessage(readMail('attachment-base64.eml'))
    assert.ok(m.leaves[1].content!.toString('latin1').startsWith('%PDF-1.4\n1 0 obj'))
    assert.ok(m.leaves[1].content!.toString('latin1').endsWith('%%EOF\n'))
  })

  it('extracts zip members with their decompressed content', () => {
    const m = parseMessage(readMail('zip-exe.eml'))
    const readme = m.leaves.find((l) => l.declaredNames[0] === 'docs/readme.txt')!
    assert.equal(readme.content!.toString(), 'Read me first.\n'.repeat(20))
    assert.equal(readme.archiveMember, true)
  })

  it('lists leaves depth-first, including archive members, excluding containers', () => {
    const m = parseMessage(readMail('zip-exe.eml'))
    assert.deepEqual(
      m.leaves.map((l) => l.id),
      ['p002', 'p004', 'p005'],
    )
  })

  it('decodes the subject (RFC 2047, adjacent encoded words joined) and keeps the raw header values', () => {
    const m = parseMessage(readMail('rfc2047-2231.eml'))
    assert.equal(m.subject, 'Résumé du résumé ok')
    assert.match(m.headers.find((h) => h.name === 'Subject')!.value, /^=\?UTF-8\?B\?/)
  })

  it('reports the message id and unfolds folded header values', () => {
    const m = parseMessage(readMail('alternative.eml'))
    assert.equal(m.messageId, '<20240101.123@example.com>')
    assert.equal(m.headers.find((h) => h.name === 'References')!.value, '<root@example.com> <parent@example.com>')
  })

  it('digests the body as MD5 hex, identical for LF and CRLF line endings', () => {
    const raw = readMail('plain.eml')
    const body = raw.subarray(raw.indexOf('\n\n') + 2)
    const expected = createHash('md5').update(body).digest('hex')
    assert.equal(parseMessage(raw).bodyDigest, expected)
    assert.equal(parseMessage(toCrlf(raw)).bodyDigest, expected)
    assert.equal(bodyDigest(Buffer.from('a\r\nb\r\n')), createHash('md5').update('a\nb\n').digest('hex'))
  })

  it('keeps the header block bytes without the separating blank line', () => {
    const raw = readMail('plain.eml')
    const m = parseMessage(raw)
    assert.equal(m.headerBytes.toString(), raw.subarray(0, raw.indexOf('\n\n') + 1).toString())
  })
})

describe('parseMessage on malformed input', () => {
  it('treats a multipart without boundary as one leaf and records a MIME problem', () => {
    const m = parseMessage(readMail('badhdr-1-mime.eml'))
    assert.equal(m.root.children.length, 0)
    assert.equal(m.root.content!.toString(), 'no boundary parameter at all\n')
    assert.deepEqual(m.mimeProblems, ['1: multipart/mixed without boundary'])
  })

  it('accepts a multipart without its closing delimiter and records the problem', () => {
    const raw = Buffer.from('Content-Type: multipart/mixed; boundary=b\n\n--b\n\none\n--b\n\ntwo\n')
    const m = parseMessage(raw)
    assert.deepEqual(
      m.leaves.map((l) => l.content!.toString()),
      ['one', 'two\n'],
    )
    assert.match(m.mimeProblems![0], /not terminated/)
  })

  it('flags parts nested deeper than maxDepth as undecodable (too deep)', () => {
    let msg = 'Content-Type: text/plain\n\nbottom\n'
    for (let i = 0; i < 5; i++) msg = `Content-Type: message/rfc822\n\n${msg}`
    const m = parseMessage(Buffer.from(msg), { maxDepth: 3 })
    assert.ok(m.leaves.some((l) => l.undecodable && l.undecodableReason === 'too deep'))
    assert.ok(!m.leaves.some((l) => l.content?.toString() === 'bottom\n'))
  })

  it('stops adding parts beyond maxParts and flags the container (too many parts)', () => {
    const parts = Array.from({ length: 50 }, (_, i) => `--b\n\npart ${i}\n`).join('')
    const m = parseMessage(Buffer.from(`Content-Type: multipart/mixed; boundary=b\n\n${parts}--b--\n`), {
      maxParts: 10,
    })
    assert.equal(m.root.undecodable, true)
    assert.equal(m.root.undecodableReason, 'too many parts')
    assert.ok(m.leaves.length <= 10)
  })

  it('records invalid base64 as a MIME problem but still decodes what it can', () => {
    const raw = Buffer.from('Content-Transfer-Encoding: base64\n\naGVsbG8=!!\n')
    const m = parseMessage(raw)
    assert.equal(m.root.content!.toString(), 'hello')
    assert.match(m.mimeProblems![0], /invalid base64/)
  })

  it('parses a message without any header block as a text/plain body', () => {
    const m = parseMessage(Buffer.from('just text, no headers\n'))
    assert.equal(m.headers.length, 0)
    assert.equal(m.root.declaredType, 'text/plain')
    assert.equal(m.root.content!.toString(), 'just text, no headers\n')
  })

  it('never throws on random bytes', () => {
    let seed = 7
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed)
    for (let n = 0; n < 200; n++) {
      const len = rnd() % 600
      const buf = Buffer.alloc(len)
      for (let i = 0; i < len; i++) buf[i] = rnd() % 256
      const prefix = Buffer.from(
        'Content-Type: multipart/mixed; boundary=x\n\n--x\nContent-Type: application/zip\n\nPK\x03\x04',
      )
      parseMessage(buf)
      parseMessage(Buffer.concat([prefix, buf]))
    }
  })

  // Regexps such as /\s+$/ are quadratic on long inner runs: 200 KB took 100 s before the fix.
  const hostile: Array<[what: string, raw: () => Buffer]> = [
    ['a long whitespace run inside a header value', () => Buffer.from(`Subject: a${' '.repeat(200_000)}b\n\nx`)],
    ['a long run of = in base64', () => Buffer.from(`Content-Transfer-Encoding: base64\n\n${'='.repeat(200_000)}A\n`)],
    ['many encoded words', () => Buffer.from(`Subject: ${'=?utf-8?q?a?= '.repeat(10_000)}\n\nx`)],
    [
      'many boundary lines',
      () => Buffer.from(`Content-Type: multipart/mixed; boundary=b\n\n${'--b\n'.repeat(20_000)}`),
    ],
  ]
  for (const [what, raw] of hostile)
    it(`parses ${what} in linear time`, () => {
      const started = performance.now()
      parseMessage(raw())
      assert.ok(performance.now() - started < 5000, `took ${performance.now() - started} ms`)
    })
})
