import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { detectType, typeTags } from '../../src/mime/detect-type.ts'

describe('detectType', () => {
  const b = (s: string) => Buffer.from(s, 'latin1')
  const cases: Array<[what: string, buf: Buffer, type: string]> = [
    ['plain ASCII text', b('Hello world\nsecond line\n'), 'asc'],
    ['UTF-8 text', Buffer.from('Grüße aus München\n', 'utf8'), 'txt'],
    ['Latin-1 text', b('Caf\xe9 cr\xe8me\n'), 'txt'],
    ['HTML with a doctype', b('<!DOCTYPE html>\n<html><body>x</body></html>'), 'html'],
    ['HTML after a comment', b('  <!-- generated --><html><head></head></html>'), 'html'],
    ['a zip archive', b('PK\x03\x04\x14\x00\x00\x00'), 'zip'],
    ['an empty zip archive', b('PK\x05\x06' + '\0'.repeat(18)), 'zip'],
    ['gzip', Buffer.from([0x1f, 0x8b, 0x08, 0x00]), 'gz'],
    ['bzip2', b('BZh91AY&SY'), 'bz2'],
    ['RAR', b('Rar!\x1a\x07\x00'), 'rar'],
    ['7-Zip', Buffer.from([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c, 0, 4]), '7z'],
    ['a DOS/Windows executable', b('MZ\x90\x00\x03\x00'), 'exe'],
    ['an ELF executable', b('\x7fELF\x02\x01\x01'), 'elf'],
    ['PDF', b('%PDF-1.7\n'), 'pdf'],
    ['JPEG', Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]), 'jpg'],
    ['PNG', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0]), 'png'],
    ['GIF', b('GIF89a\x01\x00'), 'gif'],
    ['an OLE2 (MS Office) document', Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0]), 'doc'],
    ['RTF', b('{\\rtf1\\ansi hello}'), 'rtf'],
    ['a tar archive', Buffer.concat([Buffer.alloc(257), b('ustar\x0000')]), 'tar'],
    ['a TNEF (winmail.dat) file', Buffer.from([0x78, 0x9f, 0x3e, 0x22, 0, 0]), 'tnef'],
    ['an LHA archive', b('\x21\x00-lh5-'), 'lha'],
    ['XML', b('<?xml version="1.0"?><a/>'), 'xml'],
    ['binary junk', Buffer.from([1, 2, 3, 0, 250, 251]), 'bin'],
    ['nothing', Buffer.alloc(0), 'empty'],
  ]
  for (const [what, buf, type] of cases) it(`detects ${what} as ${type}`, () => assert.equal(detectType(buf), type))
})

describe('typeTags', () => {
  it('lists amavis type families for executables', () => {
    assert.deepEqual(typeTags('exe'), ['.exe', '.exe-ms'])
    assert.deepEqual(typeTags('elf'), ['.exe', '.exe-unix', '.elf'])
    assert.deepEqual(typeTags('zip'), ['.zip'])
    assert.deepEqual(typeTags(undefined), [])
  })
})

describe('detectType on hostile input', () => {
  it('stays fast on many HTML comments before a non-HTML tag (no regex backtracking)', () => {
    const buf = Buffer.from('<!-- a -->'.repeat(400) + '<x>')
    const started = performance.now()
    assert.equal(detectType(buf), 'asc')
    assert.ok(performance.now() - started < 1000)
  })
})
