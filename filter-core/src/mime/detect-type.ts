// Content type detection from magic bytes, returning amavis's short file types
// (the names amavis derives from file(1) output: `asc`, `txt`, `html`, `zip`, `exe`, …).
// Amavis forks file(1) for every part; doing it in-process avoids that cost entirely.

const MAGIC: readonly [offset: number, bytes: Buffer, type: string][] = [
  [0, Buffer.from('PK\x03\x04', 'latin1'), 'zip'],
  [0, Buffer.from('PK\x05\x06', 'latin1'), 'zip'],
  [0, Buffer.from('PK\x07\x08', 'latin1'), 'zip'],
  [0, Buffer.from([0x1f, 0x8b]), 'gz'],
  [0, Buffer.from('BZh', 'latin1'), 'bz2'],
  [0, Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), 'xz'],
  [0, Buffer.from('Rar!\x1a\x07', 'latin1'), 'rar'],
  [0, Buffer.from([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]), '7z'],
  [0, Buffer.from('MSCF\0\0\0\0', 'latin1'), 'cab'],
  [0, Buffer.from('\x7fELF', 'latin1'), 'elf'],
  [0, Buffer.from('%PDF-', 'latin1'), 'pdf'],
  [0, Buffer.from([0xff, 0xd8, 0xff]), 'jpg'],
  [0, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), 'png'],
  [0, Buffer.from('GIF87a', 'latin1'), 'gif'],
  [0, Buffer.from('GIF89a', 'latin1'), 'gif'],
  [0, Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), 'doc'],
  [0, Buffer.from('{\\rtf', 'latin1'), 'rtf'],
  [0, Buffer.from('%!PS', 'latin1'), 'ps'],
  [0, Buffer.from('II*\0', 'latin1'), 'tif'],
  [0, Buffer.from('MM\0*', 'latin1'), 'tif'],
  [0, Buffer.from('\x60\xea', 'latin1'), 'arj'],
  [0, Buffer.from('!<arch>\n', 'latin1'), 'ar'],
  [0, Buffer.from('ITSF', 'latin1'), 'chm'],
  [257, Buffer.from('ustar', 'latin1'), 'tar'],
  [0, Buffer.from([0x78, 0x9f, 0x3e, 0x22]), 'tnef'],
  [2, Buffer.from('-lh', 'latin1'), 'lha'],
  [0, Buffer.from('ID3', 'latin1'), 'mp3'],
  [0, Buffer.from('OggS', 'latin1'), 'ogg'],
  [0, Buffer.from([0x00, 0x00, 0x01, 0xba]), 'mpv'],
  [0, Buffer.from('CWS', 'latin1'), 'swf'],
  [0, Buffer.from('FWS', 'latin1'), 'swf'],
  [0, Buffer.from('<?xml', 'latin1'), 'xml'],
]

const HTML_TAG = /^<(!doctype\s+html|html|head|body|script|iframe|table|div|meta|title)[\s>]/i

/** True when the text starts (after whitespace and comments) with a typical HTML tag. Linear time. */
function looksLikeHtml(text: string): boolean {
  let i = 0
  for (;;) {
    while (i < text.length && /\s/.test(text[i])) i++
    if (!text.startsWith('<!--', i)) break
    const end = text.indexOf('-->', i + 4)
    if (end === -1) return false
    i = end + 3
  }
  return HTML_TAG.test(text.slice(i, i + 40))
}

/**
 * Returns amavis's short type for a part's decoded content: a magic-byte match (`zip`, `gz`,
 * `rar`, `7z`, `exe` for MZ, `elf`, `pdf`, `jpg`, `png`, `gif`, `doc` for OLE2, `rtf`, …), else
 * `html` / `asc` (7-bit text) / `txt` (8-bit or UTF-8 text), `empty`, or `bin`. Looks at most at
 * the first 4 KiB. Never throws.
 */
export function detectType(buf: Buffer): string {
  if (buf.length === 0) return 'empty'
  for (const [offset, magic, type] of MAGIC) {
    if (buf.length >= offset + magic.length && buf.compare(magic, 0, magic.length, offset, offset + magic.length) === 0)
      return type
  }
  if (buf[0] === 0x4d && buf[1] === 0x5a) return 'exe'
  const head = buf.subarray(0, 4096)
  let control = 0
  let high = 0
  for (const b of head) {
    if (b === 0) return 'bin'
    if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d && b !== 0x0c && b !== 0x1b) control++
    else if (b >= 0x80) high++
  }
  if (control > head.length / 100 + 1) return 'bin'
  if (looksLikeHtml(head.toString('latin1'))) return 'html'
  if (high === 0) return 'asc'
  if (isMostlyUtf8(head) || high < head.length / 4) return 'txt'
  return 'bin'
}

function isMostlyUtf8(buf: Buffer): boolean {
  // The head may cut a multibyte sequence in half: drop up to 3 trailing bytes before judging.
  for (let cut = 0; cut < 4 && cut < buf.length; cut++) {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(0, buf.length - cut))
      return true
    } catch {
      // try a shorter prefix
    }
  }
  return false
}

/**
 * Amavis's list of type tags for a short type, as they appear in banned-name reasons
 * (`.exe,.exe-ms`): a type and its families.
 */
export function typeTags(type: string | undefined): string[] {
  switch (type) {
    case undefined:
      return []
    case 'exe':
      return ['.exe', '.exe-ms']
    case 'elf':
      return ['.exe', '.exe-unix', '.elf']
    case 'doc':
      return ['.doc']
    default:
      return [`.${type}`]
  }
}
