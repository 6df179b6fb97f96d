// Content-Transfer-Encoding decoders. Tolerant like MIME-tools: garbage is skipped, never thrown.
import { trimEndChars } from './text.ts'

/** Decodes base64, ignoring characters outside the alphabet (line breaks, spaces, stray junk). */
export function decodeBase64(buf: Buffer): { bytes: Buffer; junk: boolean } {
  const s = buf.toString('latin1')
  const clean = s.replace(/[^A-Za-z0-9+/=]/g, '')
  const data = trimEndChars(clean, '=')
  const junk = /[^A-Za-z0-9+/=\s]/.test(s) || data.length % 4 === 1
  return { bytes: Buffer.from(data, 'base64'), junk }
}

/** Decodes quoted-printable: `=XX` escapes and soft line breaks; malformed escapes are kept literally. */
export function decodeQuotedPrintable(buf: Buffer): Buffer {
  const out = Buffer.allocUnsafe(buf.length)
  let o = 0
  const n = buf.length
  let i = 0
  while (i < n) {
    const eq = buf.indexOf(0x3d, i)
    if (eq === -1) {
      o += buf.copy(out, o, i)
      break
    }
    // Buffer#copy has a fixed cost that dominates for the short runs between escapes.
    if (eq - i < 64) for (let k = i; k < eq; k++) out[o++] = buf[k]
    else o += buf.copy(out, o, i, eq)
    // Soft line break: '=' followed by optional trailing whitespace then (CR)LF, or at the very end.
    let j = eq + 1
    while (j < n && (buf[j] === 0x20 || buf[j] === 0x09)) j++
    if (j >= n) {
      i = n
      continue
    }
    if (buf[j] === 0x0a) {
      i = j + 1
      continue
    }
    if (buf[j] === 0x0d && buf[j + 1] === 0x0a) {
      i = j + 2
      continue
    }
    const h1 = hexVal(buf[eq + 1])
    const h2 = hexVal(buf[eq + 2])
    if (h1 >= 0 && h2 >= 0) {
      out[o++] = (h1 << 4) | h2
      i = eq + 3
    } else {
      out[o++] = 0x3d
      i = eq + 1
    }
  }
  return out.subarray(0, o)
}

function hexVal(c: number | undefined): number {
  if (c === undefined) return -1
  if (c >= 0x30 && c <= 0x39) return c - 0x30
  if (c >= 0x41 && c <= 0x46) return c - 0x37
  if (c >= 0x61 && c <= 0x66) return c - 0x57
  return -1
}
