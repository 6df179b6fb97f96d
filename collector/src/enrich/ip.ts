// One parse of a client address into the forms every lookup needs: the canonical text (the value
// stored as client_geo.ip), the family, and numbers for the range tables' binary searches.
import { isIP } from 'node:net'

export interface ParsedIp {
  /** Canonical text: dotted quad, or RFC 5952 compressed lower-case IPv6 (no brackets, no zone). */
  readonly ip: string
  readonly family: 4 | 6
  /** IPv4 as an unsigned 32-bit number (family 4 only). */
  readonly v4: number
  /** IPv6 as four unsigned 32-bit words, most significant first (family 6 only). */
  readonly v6: Uint32Array | undefined
}

/**
 * Parses a client address as amavis, Postfix or a dual-stack Node socket writes it: `a.b.c.d`, an
 * IPv6 literal (any case, optionally `[bracketed]`, optionally with a `%zone`), and the IPv4-mapped
 * `::ffff:a.b.c.d` (or NAT64 `64:ff9b::a.b.c.d`), which become the IPv4 address they carry because
 * the databases only know that form (notes §1.3: the mapped form looks up as null).
 * Returns undefined for anything that is not an address. Never throws.
 */
export function parseIp(raw: unknown): ParsedIp | undefined {
  if (typeof raw !== 'string' || raw.length > 100) return undefined
  let s = raw.trim()
  if (s.startsWith('[')) {
    const close = s.indexOf(']')
    if (close < 0) return undefined
    s = s.slice(1, close)
  }
  const zone = s.indexOf('%')
  if (zone >= 0 && s.includes(':')) s = s.slice(0, zone)
  const family = isIP(s)
  if (family === 4) return v4Of(parseV4(s))
  if (family !== 6) return undefined
  const h = parseV6(s)
  if (h === undefined) return undefined
  const embedded = embeddedV4(h)
  if (embedded !== undefined) return v4Of(embedded)
  const v6 = new Uint32Array(4)
  for (let i = 0; i < 4; i++) v6[i] = ((h[2 * i] << 16) | h[2 * i + 1]) >>> 0
  return { ip: formatV6(h), family: 6, v4: 0, v6 }
}

function v4Of(n: number): ParsedIp {
  return { ip: formatV4(n), family: 4, v4: n, v6: undefined }
}

/** A dotted quad already validated by net.isIP. */
export function parseV4(s: string): number {
  let n = 0
  let part = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 46) {
      n = n * 256 + part
      part = 0
    } else part = part * 10 + (c - 48)
  }
  return n * 256 + part
}

export function formatV4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`
}

/**
 * Eight 16-bit groups of an IPv6 literal (an embedded dotted quad allowed at the end), or
 * undefined when it is malformed. The CSV loader calls it 100,000 times without net.isIP first,
 * so it validates on its own, and scans char codes (a split()-based version took 0.5 s there).
 */
export function parseV6(s: string): Uint16Array | undefined {
  if (s.includes('.')) return parseV6WithV4(s)
  const out = new Uint16Array(8)
  const len = s.length
  let n = 0
  let gap = -1
  let val = 0
  let digits = 0
  let i = 0
  if (s.charCodeAt(0) === 58) {
    if (s.charCodeAt(1) !== 58) return undefined
    gap = 0
    i = 2
  }
  for (; i < len; i++) {
    const c = s.charCodeAt(i)
    if (c === 58) {
      if (digits === 0) {
        if (gap >= 0) return undefined
        gap = n
        continue
      }
      if (n === 8) return undefined
      out[n++] = val
      val = 0
      digits = 0
      continue
    }
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1
    if (d < 0 || ++digits > 4) return undefined
    val = val * 16 + d
  }
  if (digits > 0) {
    if (n === 8) return undefined
    out[n++] = val
  } else if (gap !== n) return undefined
  if (gap < 0) return n === 8 ? out : undefined
  if (n > 7) return undefined
  const tail = n - gap
  out.copyWithin(8 - tail, gap, n)
  out.fill(0, gap, 8 - tail)
  return out
}

/** The rare `…:a.b.c.d` form: the IPv4 tail becomes the last two groups. */
function parseV6WithV4(s: string): Uint16Array | undefined {
  const colon = s.lastIndexOf(':')
  const tail = s.slice(colon + 1)
  if (colon < 0 || isIP(tail) !== 4) return undefined
  const n = parseV4(tail)
  return parseV6(`${s.slice(0, colon + 1)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`)
}

/** The IPv4 address inside ::ffff:0:0/96 (mapped) or 64:ff9b::/96 (NAT64, RFC 6052), else undefined. */
function embeddedV4(h: Uint16Array): number | undefined {
  const mapped = h[0] === 0 && h[1] === 0 && h[2] === 0 && h[3] === 0 && h[4] === 0 && h[5] === 0xffff
  const nat64 = h[0] === 0x64 && h[1] === 0xff9b && h[2] === 0 && h[3] === 0 && h[4] === 0 && h[5] === 0
  return mapped || nat64 ? ((h[6] << 16) | h[7]) >>> 0 : undefined
}

/** RFC 5952 text: lower case, leading zeros dropped, the longest run (≥ 2) of zero groups as `::`. */
export function formatV6(h: Uint16Array): string {
  let bestAt = -1
  let bestLen = 1
  for (let i = 0; i < 8;) {
    if (h[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && h[j] === 0) j++
    if (j - i > bestLen) {
      bestAt = i
      bestLen = j - i
    }
    i = j
  }
  const hex = (from: number, to: number): string => Array.from(h.subarray(from, to), (g) => g.toString(16)).join(':')
  if (bestAt < 0) return hex(0, 8)
  return `${hex(0, bestAt)}::${hex(bestAt + bestLen, 8)}`
}
