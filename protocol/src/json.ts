// Amavis::JSON-compatible encoder (spec §5.2): sorted keys, no whitespace, amavis's string
// escapes, and numbers emitted verbatim from their `%.3f` formatting.

/** A number that is written exactly as given (e.g. `-1.900`), as Perl emits a formatted number. */
export class RawNumber {
  readonly text: string
  constructor(text: string) {
    if (!/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(text)) throw new TypeError(`not a JSON number: ${text}`)
    this.text = text
  }
  toJSON(): number {
    return Number(this.text)
  }
}

/** `%.3f` number that keeps its trailing zeros in amavis JSON. */
export function num3(n: number): RawNumber {
  const s = n.toFixed(3)
  return new RawNumber(s === '-0.000' ? '0.000' : s)
}

// Characters escapeString rewrites; strings without any (nearly all) are copied whole.
const NEEDS_ESCAPE = /["\\\x00-\x1f\x7f\u2028\u2029]/

function escapeString(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return '"' + s + '"'
  let out = '"'
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    const ch = s[i]
    if (ch === '"') out += '\\"'
    else if (ch === '\\') out += '\\\\'
    else if (c < 0x20 || c === 0x7f || c === 0x2028 || c === 0x2029) {
      switch (c) {
        case 8:
          out += '\\b'
          break
        case 9:
          out += '\\t'
          break
        case 10:
          out += '\\n'
          break
        case 12:
          out += '\\f'
          break
        case 13:
          out += '\\r'
          break
        default:
          out += '\\u' + c.toString(16).toUpperCase().padStart(4, '0')
      }
    } else out += ch
  }
  return out + '"'
}

function compareKeys(a: string, b: string): number {
  // Perl's string sort compares code points; JS compares UTF-16 units. Same for the BMP.
  return a < b ? -1 : a > b ? 1 : 0
}

/** Encodes a value as Amavis::JSON does. `undefined` object members are omitted; `null` is kept. */
export function encodeAmavisJson(value: unknown): string {
  if (value === null || value === undefined) return 'null'
  if (value instanceof RawNumber) return value.text
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false'
    case 'number':
      if (!Number.isFinite(value)) return 'null'
      return Number.isInteger(value) ? String(value) : String(value)
    case 'bigint':
      return value.toString()
    case 'string':
      return escapeString(value)
    case 'object': {
      if (Array.isArray(value)) return '[' + value.map((v) => encodeAmavisJson(v)).join(',') + ']'
      const obj = value as Record<string, unknown>
      const keys = Object.keys(obj).sort(compareKeys)
      let out = '{'
      for (const k of keys) {
        const v = obj[k]
        if (v === undefined) continue
        if (out.length > 1) out += ','
        out += escapeString(k) + ':' + encodeAmavisJson(v)
      }
      return out + '}'
    }
    default:
      return 'null'
  }
}
