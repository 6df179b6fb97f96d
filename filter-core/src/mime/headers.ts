// Header-level codecs: splitting a message into header block and body, unfolding header
// fields, RFC 2047 encoded-words, and Content-Type / Content-Disposition parameters with
// RFC 2231 continuations and charsets. Pure functions on literal inputs.
import { beforeChar, trimEndChars } from './text.ts'

export interface HeaderField {
  readonly name: string
  readonly value: string
}

export interface HeaderSplit {
  /** Header block bytes, up to and including the line ending of the last header line. */
  readonly headerBytes: Buffer
  /** Everything after the blank line that ends the header block (empty if there is none). */
  readonly body: Buffer
  /** Offset of `body` within the input. */
  readonly bodyOffset: number
}

/** Splits at the first empty line (CRLF CRLF, LF LF or a mix). A message without an empty line is all header. */
export function splitHeaderBody(raw: Buffer): HeaderSplit {
  // A message that starts with an empty line has an empty header block.
  if (raw[0] === 0x0a) return { headerBytes: raw.subarray(0, 0), body: raw.subarray(1), bodyOffset: 1 }
  if (raw[0] === 0x0d && raw[1] === 0x0a)
    return { headerBytes: raw.subarray(0, 0), body: raw.subarray(2), bodyOffset: 2 }
  let i = raw.indexOf(0x0a)
  while (i !== -1) {
    const next = i + 1
    if (raw[next] === 0x0a)
      return { headerBytes: raw.subarray(0, next), body: raw.subarray(next + 1), bodyOffset: next + 1 }
    if (raw[next] === 0x0d && raw[next + 1] === 0x0a)
      return { headerBytes: raw.subarray(0, next), body: raw.subarray(next + 2), bodyOffset: next + 2 }
    i = raw.indexOf(0x0a, next)
  }
  return { headerBytes: raw, body: raw.subarray(raw.length), bodyOffset: raw.length }
}

/** Splits a buffer into lines without their CR/LF endings. */
export function splitLines(buf: Buffer): string[] {
  const text = buf.toString('latin1')
  const lines = text.split('\n')
  if (lines.length && lines[lines.length - 1] === '') lines.pop()
  return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l))
}

/**
 * Parses header fields in order. Values are unfolded (CRLF before whitespace removed) and
 * otherwise raw; bytes ≥ 0x80 are decoded as UTF-8 when valid, else as Latin-1.
 * Lines that are neither a field nor a continuation are skipped (headers.ts in checks reports them).
 */
export function parseHeaderFields(headerBytes: Buffer): HeaderField[] {
  const out: { name: string; value: string }[] = []
  for (const rawLine of splitLines(headerBytes)) {
    const line = decodeHeaderBytes(rawLine)
    if (/^[ \t]/.test(line)) {
      const last = out[out.length - 1]
      if (last) last.value += line
      continue
    }
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    const name = line.slice(0, colon)
    if (!/^[\x21-\x39\x3b-\x7e]+$/.test(name.trimEnd())) continue
    out.push({ name: name.trimEnd(), value: line.slice(colon + 1).replace(/^[ \t]+/, '') })
  }
  return out.map((f) => ({ name: f.name, value: trimEndChars(f.value, ' \t\r\n') }))
}

/** Re-decodes a latin1 string as UTF-8 when it holds valid UTF-8 multibyte sequences. */
function decodeHeaderBytes(latin1: string): string {
  // eslint-disable-next-line no-control-regex
  if (!/[\x80-\xff]/.test(latin1)) return latin1
  const bytes = Buffer.from(latin1, 'latin1')
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    return latin1
  }
}

/** First value of a header field (case-insensitive name), or undefined. */
export function headerValue(fields: readonly HeaderField[], name: string): string | undefined {
  const lower = name.toLowerCase()
  for (const f of fields) if (f.name.toLowerCase() === lower) return f.value
  return undefined
}

/** All values of a header field (case-insensitive name), in order. */
export function headerValues(fields: readonly HeaderField[], name: string): string[] {
  const lower = name.toLowerCase()
  return fields.filter((f) => f.name.toLowerCase() === lower).map((f) => f.value)
}

/** Decodes bytes in a named charset; unknown charsets fall back to Latin-1, never throws. */
export function decodeCharset(bytes: Buffer, charset: string | undefined): string {
  const cs = beforeChar((charset ?? 'us-ascii').trim().toLowerCase(), '*')
  if (cs === 'us-ascii' || cs === 'ascii' || cs === '') {
    const s = bytes.toString('latin1')
    // Mislabelled 8-bit data is common; prefer UTF-8 when it is valid.
    return /[\x80-\xff]/.test(s) ? decodeHeaderBytes(s) : s
  }
  try {
    return new TextDecoder(cs).decode(bytes)
  } catch {
    return bytes.toString('latin1')
  }
}

const ENCODED_WORD = /=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=/g

/** Decodes the bytes of one encoded word's text (B or Q encoding). */
function decodeWordBytes(encoding: string, text: string): Buffer {
  if (encoding === 'b' || encoding === 'B') return Buffer.from(text, 'base64')
  const q = text.replace(/_/g, ' ')
  return decodeQpBytes(q)
}

function decodeQpBytes(s: string): Buffer {
  const out: number[] = []
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 0x3d && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) {
      out.push(parseInt(s.slice(i + 1, i + 3), 16))
      i += 2
    } else out.push(c & 0xff)
  }
  return Buffer.from(out)
}

/**
 * Decodes RFC 2047 encoded-words in an unstructured header value. Whitespace between two
 * adjacent encoded-words is dropped, as the RFC requires; consecutive words in the same charset
 * are concatenated as bytes first, so multibyte characters split across words survive.
 */
export function decodeRfc2047(value: string): string {
  if (!value.includes('=?')) return value
  let out = ''
  let last = 0
  let pending: { charset: string; bytes: Buffer[] } | undefined
  const flush = () => {
    if (pending) out += decodeCharset(Buffer.concat(pending.bytes), beforeChar(pending.charset, '*'))
    pending = undefined
  }
  for (const m of value.matchAll(ENCODED_WORD)) {
    const between = value.slice(last, m.index)
    const charset = m[1].toLowerCase()
    const bytes = decodeWordBytes(m[2], m[3])
    if (pending && /^[ \t\r\n]*$/.test(between)) {
      if (pending.charset === charset) pending.bytes.push(bytes)
      else {
        flush()
        pending = { charset, bytes: [bytes] }
      }
    } else {
      flush()
      out += between
      pending = { charset, bytes: [bytes] }
    }
    last = m.index + m[0].length
  }
  flush()
  return out + value.slice(last)
}

/** Removes RFC 5322 comments `( … )`, outside quoted strings, with nesting and quoted-pairs. */
export function stripComments(value: string): string {
  let out = ''
  let depth = 0
  let inQuote = false
  for (let i = 0; i < value.length; i++) {
    const c = value[i]
    if (c === '\\' && (inQuote || depth > 0)) {
      if (depth === 0) out += c + (value[i + 1] ?? '')
      i++
      continue
    }
    if (depth === 0 && c === '"') inQuote = !inQuote
    if (!inQuote) {
      if (c === '(') {
        depth++
        continue
      }
      if (c === ')' && depth > 0) {
        depth--
        if (depth === 0) out += ' '
        continue
      }
    }
    if (depth === 0) out += c
  }
  return out
}

export interface StructuredValue {
  /** The value before the first `;`, lower-cased and trimmed (e.g. `multipart/mixed`, `attachment`). */
  readonly value: string
  /** Parameters with lower-cased names; RFC 2231 continuations joined and charsets decoded. */
  readonly params: Readonly<Record<string, string>>
  /** Problems seen while parsing (unterminated quote, parameter without `=`), for header checks. */
  readonly problems: readonly string[]
}

/** Parses `Content-Type` / `Content-Disposition` style values: `token; name=value; name*=charset'lang'pct`. Never throws. */
export function parseStructuredValue(raw: string): StructuredValue {
  const problems: string[] = []
  const s = stripComments(raw)
  const items: string[] = []
  let cur = ''
  let inQuote = false
  for (let i = 0; i < s.length; i++) {
    const c = s[i]
    if (inQuote && c === '\\') {
      cur += c + (s[i + 1] ?? '')
      i++
      continue
    }
    if (c === '"') inQuote = !inQuote
    if (c === ';' && !inQuote) {
      items.push(cur)
      cur = ''
      continue
    }
    cur += c
  }
  if (inQuote) problems.push('unterminated quoted string')
  items.push(cur)
  const value = (items.shift() ?? '').trim().toLowerCase()
  const simple: Record<string, string> = {}
  const continued: Record<string, { idx: number; encoded: boolean; text: string }[]> = {}
  const extended: Record<string, string> = {}
  for (const item of items) {
    const t = item.trim()
    if (!t) continue
    const eq = t.indexOf('=')
    if (eq <= 0) {
      problems.push(`parameter without value: ${t}`)
      continue
    }
    const name = t.slice(0, eq).trim().toLowerCase()
    let v = t.slice(eq + 1).trim()
    if (v.startsWith('"')) v = v.replace(/^"/, '').replace(/"$/, '').replace(/\\(.)/g, '$1')
    const cont = /^(.+)\*(\d+)(\*?)$/.exec(name)
    if (cont) {
      ;(continued[cont[1]] ??= []).push({ idx: Number(cont[2]), encoded: cont[3] === '*', text: v })
    } else if (name.endsWith('*')) {
      extended[name.slice(0, -1)] = v
    } else simple[name] = v
  }
  const params: Record<string, string> = { ...simple }
  for (const [name, v] of Object.entries(extended)) params[name] = decodeRfc2231Value(v, true).text
  for (const [name, segs] of Object.entries(continued)) {
    segs.sort((a, b) => a.idx - b.idx)
    let charset: string | undefined
    const bytes: Buffer[] = []
    segs.forEach((seg, i) => {
      if (seg.encoded) {
        const d = decodeRfc2231Bytes(seg.text, i === 0)
        if (i === 0) charset = d.charset
        bytes.push(d.bytes)
      } else bytes.push(Buffer.from(seg.text, 'utf8'))
    })
    params[name] = decodeCharset(Buffer.concat(bytes), charset ?? 'utf-8')
  }
  // RFC 2047 inside quoted parameters is not standard but ubiquitous (Outlook, Thunderbird).
  for (const k of Object.keys(params)) if (params[k].includes('=?')) params[k] = decodeRfc2047(params[k])
  return { value, params, problems }
}

function decodeRfc2231Bytes(v: string, withCharset: boolean): { charset?: string; bytes: Buffer } {
  let charset: string | undefined
  let text = v
  if (withCharset) {
    const m = /^([^']*)'([^']*)'(.*)$/s.exec(v)
    if (m) {
      charset = m[1] || undefined
      text = m[3]
    }
  }
  const out: number[] = []
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '%' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      out.push(parseInt(text.slice(i + 1, i + 3), 16))
      i += 2
    } else for (const b of Buffer.from(text[i], 'utf8')) out.push(b)
  }
  return { charset, bytes: Buffer.from(out) }
}

function decodeRfc2231Value(v: string, withCharset: boolean): { text: string } {
  const d = decodeRfc2231Bytes(v, withCharset)
  return { text: decodeCharset(d.bytes, d.charset ?? 'utf-8') }
}
