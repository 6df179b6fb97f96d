// Value coercion of the embedded store, mirroring the engines' mapping rules (ES/OpenSearch with
// `coerce: true`, the default) so that a document one backend rejects is rejected by all of them
// with a 'mapper_parsing_exception' reason, and the values one backend indexes are the values
// the others index (float fields are 32-bit in the engines, so they are here: Math.fround).
import { isIP } from 'node:net'
import { isDoubleField, type FieldType } from '../../search/fields.ts'

/** A leaf value accepted for a field, in its stored form. */
export type Coerced = string | number | Buffer

/** Why a value cannot be indexed in a field (the document is rejected with this reason). */
export class MappingError extends Error {
  constructor(reason: string) {
    super(reason)
    this.name = 'MappingError'
  }
}

/** The rejection of a value that does not fit its field's type. */
export function typeMismatch(field: string, type: FieldType, got: unknown): MappingError {
  return new MappingError(`mapper_parsing_exception: field [${field}] expects ${type}, got ${describe(got)}`)
}

function describe(v: unknown): string {
  if (v !== null && typeof v === 'object') return 'an object'
  return JSON.stringify(v) ?? String(v)
}

// ES parses numeric strings with Java's number grammar (leading/trailing blanks trimmed).
const NUMERIC = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/

/**
 * The stored form of one scalar for a field type, or null when ES treats it as missing (the empty
 * string for numbers and booleans). Throws MappingError where ES would reject the document.
 */
export function coerceLeaf(field: string, type: FieldType, v: unknown): Coerced | null {
  switch (type) {
    case 'keyword':
    case 'text':
      if (typeof v === 'string') return v
      if (typeof v === 'number' || typeof v === 'boolean') return String(v)
      break
    case 'long': {
      const n = toNumber(v)
      if (n === null) return null
      // coerce: true truncates decimals; beyond the long range ES refuses the value.
      if (n !== undefined && Math.abs(n) < 9.223372036854776e18) return Math.trunc(n)
      break
    }
    case 'float': {
      const n = toNumber(v)
      if (n === null) return null
      if (n !== undefined && isDoubleField(field) && Number.isFinite(n)) return n
      if (n !== undefined && Number.isFinite(Math.fround(n))) return Math.fround(n)
      break
    }
    case 'date': {
      if (typeof v === 'number' && Number.isFinite(v)) return Math.trunc(v)
      if (typeof v === 'string') {
        const ms = parseDateMs(v)
        if (ms !== undefined) return ms
      }
      break
    }
    case 'boolean':
      if (v === true || v === 'true') return 1
      if (v === false || v === 'false') return 0
      if (v === '') return null
      break
    case 'ip':
      if (typeof v === 'string') {
        const b = parseIp(v)
        if (b) return b
      }
      break
    case 'geo_point':
      break
  }
  throw typeMismatch(field, type, v)
}

// undefined: not a number; null: the empty string (missing).
function toNumber(v: unknown): number | null | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined
  if (typeof v === 'string') {
    const s = v.trim()
    if (s === '') return null
    if (NUMERIC.test(s)) return Number(s)
  }
  return undefined
}

/** A geo point from {lat, lon}, "lat,lon" or [lon, lat]; throws MappingError otherwise. */
export function coerceGeoPoint(field: string, v: unknown): { lat: number; lon: number } {
  let lat: unknown, lon: unknown
  if (Array.isArray(v) && v.length === 2) [lon, lat] = v
  else if (typeof v === 'string' && /^\s*[^,]+,[^,]+$/.test(v)) [lat, lon] = v.split(',')
  else if (v && typeof v === 'object') ({ lat, lon } = v as { lat?: unknown; lon?: unknown })
  const la = toNumber(lat)
  const lo = toNumber(lon)
  if (typeof la === 'number' && typeof lo === 'number' && Math.abs(la) <= 90 && Math.abs(lo) <= 180)
    return { lat: la, lon: lo }
  throw typeMismatch(field, 'geo_point', v)
}

/**
 * 16-byte form of an IPv4 or IPv6 address (v4 as ::ffff:a.b.c.d, as Lucene's InetAddressPoint
 * stores it, so `192.0.2.1` and `::ffff:192.0.2.1` are one value), or undefined if invalid.
 * A zone id (`fe80::1%eth0`) is not an address for the engines either.
 */
export function parseIp(s: string): Buffer | undefined {
  const kind = isIP(s)
  if (kind === 4) {
    const b = Buffer.alloc(16)
    b[10] = 0xff
    b[11] = 0xff
    s.split('.').forEach((p, i) => (b[12 + i] = Number(p)))
    return b
  }
  if (kind !== 6 || s.includes('%')) return undefined
  return parseIp6(s)
}

function parseIp6(s: string): Buffer {
  const b = Buffer.alloc(16)
  let str = s
  let tail: number[] = []
  const lastColon = str.lastIndexOf(':')
  if (str.slice(lastColon + 1).includes('.')) {
    tail = str
      .slice(lastColon + 1)
      .split('.')
      .map(Number)
    str = str.slice(0, lastColon + 1) + '0:0'
  }
  const [head, rest] = str.split('::') as [string, string | undefined]
  const hs = head ? head.split(':') : []
  const rs = rest !== undefined && rest !== '' ? rest.split(':') : []
  const groups = [...hs, ...Array(8 - hs.length - rs.length).fill('0'), ...rs]
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), i * 2))
  if (tail.length) tail.forEach((p, i) => (b[12 + i] = p))
  return b
}

/** Display form of a stored address, as the engines return ip keys: dotted v4 for mapped addresses. */
export function formatIp(b: Uint8Array): string {
  const isMapped = b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff
  if (isMapped) return `${b[12]}.${b[13]}.${b[14]}.${b[15]}`
  const groups: number[] = []
  for (let i = 0; i < 16; i += 2) groups.push((b[i] << 8) | b[i + 1])
  // RFC 5952: the longest run (≥ 2) of zero groups becomes '::'.
  let best = -1
  let bestLen = 1
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLen) [best, bestLen] = [i, j - i]
    i = j
  }
  const hex = groups.map((g) => g.toString(16))
  if (best < 0) return hex.join(':')
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`
}

/** [lowest, highest] 16-byte addresses of an address or CIDR (`192.0.2.0/24`, `2001:db8::/32`), or undefined. */
export function parseIpOrCidr(s: string): [Buffer, Buffer] | undefined {
  const slash = s.indexOf('/')
  if (slash < 0) {
    const b = parseIp(s)
    return b && [b, b]
  }
  const addr = s.slice(0, slash)
  const bitsText = s.slice(slash + 1)
  const base = parseIp(addr)
  if (!base || !/^\d{1,3}$/.test(bitsText)) return undefined
  const v4 = isIP(addr) === 4
  const bits = Number(bitsText) + (v4 ? 96 : 0)
  if (bits > 128) return undefined
  const lo = Buffer.from(base)
  const hi = Buffer.from(base)
  for (let i = 0; i < 128; i++) {
    if (i < bits) continue
    const byte = i >> 3
    const mask = 0x80 >> (i & 7)
    lo[byte] &= ~mask
    hi[byte] |= mask
  }
  return [lo, hi]
}

/**
 * Epoch ms of an ISO 8601 date-time (ES strict_date_optional_time: date, optional time, optional
 * fraction and zone; UTC when no zone) or an epoch-ms string, else undefined.
 */
export function parseDateMs(s: string): number | undefined {
  if (/^-?\d+$/.test(s)) return Number(s)
  const r = dateRange(s)
  return r?.[0]
}

const ISO =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:[T ](\d{2})(?::(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?)?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/

/**
 * The span of epoch ms an ISO date covers at its precision ([start, end] inclusive): `2024-01-01`
 * is the whole day, as the engines read a date term (their date math rounds the upper bound up).
 */
export function dateRange(s: string): [number, number] | undefined {
  const m = ISO.exec(s.trim())
  if (!m) return undefined
  const [, y, mo, d, h, mi, sec, frac, zone] = m
  const parts = [y, mo, d, h, mi, sec].map((p) => (p === undefined ? undefined : Number(p)))
  const depth = parts.findIndex((p) => p === undefined)
  const fracMs = frac === undefined ? undefined : Math.floor(Number(`0.${frac}`) * 1000)
  const startMs = Date.UTC(
    parts[0]!,
    (parts[1] ?? 1) - 1,
    parts[2] ?? 1,
    parts[3] ?? 0,
    parts[4] ?? 0,
    parts[5] ?? 0,
    fracMs ?? 0,
  )
  if (Number.isNaN(startMs)) return undefined
  const offsetMs = zoneOffsetMs(zone)
  const start = startMs - offsetMs
  if (frac !== undefined) return [start, start]
  const unitEnd = [
    () => Date.UTC(parts[0]! + 1, 0, 1),
    () => Date.UTC(parts[0]!, parts[1]!, 1),
    () => startMs + 86400000,
    () => startMs + 3600000,
    () => startMs + 60000,
    () => startMs + 1000,
  ]
  const level = depth < 0 ? 5 : depth - 1
  return [start, unitEnd[level]() - offsetMs - 1]
}

function zoneOffsetMs(zone: string | undefined): number {
  if (!zone || zone === 'Z') return 0
  const sign = zone[0] === '-' ? -1 : 1
  const digits = zone.slice(1).replace(':', '')
  const h = Number(digits.slice(0, 2))
  const m = Number(digits.slice(2) || '0')
  return sign * (h * 60 + m) * 60000
}
