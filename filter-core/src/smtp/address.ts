// Parsing of `MAIL FROM:<addr> params` and `RCPT TO:<addr> params` (RFC 5321 §4.1.2, with the
// RFC 1869 / 3461 / 6152 / 6531 parameters the filter advertises). Pure: literal in, result out.

export interface PathParse {
  address: string
  params: Record<string, string | true>
}
export type PathResult = { ok: true; value: PathParse } | { ok: false; reply: string }

const LOCAL_ATOM =
  /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\u{10FFFF}-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\u{10FFFF}-]+)*$/u
const QUOTED = /^"([\x20\x21\x23-\x5b\x5d-\x7e\u0080-\u{10FFFF}]|\\[\x20-\x7e])*"$/u
const DOMAIN =
  /^([A-Za-z0-9\u0080-\u{10FFFF}]([A-Za-z0-9\u0080-\u{10FFFF}-]*[A-Za-z0-9\u0080-\u{10FFFF}])?\.)*[A-Za-z0-9\u0080-\u{10FFFF}]([A-Za-z0-9\u0080-\u{10FFFF}-]*[A-Za-z0-9\u0080-\u{10FFFF}])?\.?$/u
const ADDR_LITERAL = /^\[(IPv6:[0-9A-Fa-f:.]+|[0-9.]+)\]$/

/** True for `local@domain` (dot-atom or quoted local part, domain name or address literal). */
export function isValidMailbox(addr: string): boolean {
  if (addr.length > 320) return false
  const at = addr.lastIndexOf('@')
  if (at <= 0 || at === addr.length - 1) return false
  const local = addr.slice(0, at)
  const domain = addr.slice(at + 1)
  if (!(LOCAL_ATOM.test(local) || QUOTED.test(local))) return false
  return DOMAIN.test(domain) || ADDR_LITERAL.test(domain)
}

/**
 * Parses the argument of MAIL (`FROM:<…> …`) or RCPT (`TO:<…> …`). `keyword` is FROM or TO.
 * Accepts a space after the colon (as Postfix does) and addresses without angle brackets.
 */
export function parsePath(arg: string, keyword: 'FROM' | 'TO'): PathResult {
  const m = /^\s*(FROM|TO)\s*:\s*/i.exec(arg)
  if (!m || m[1].toUpperCase() !== keyword)
    return { ok: false, reply: `501 5.5.4 Syntax: ${keyword === 'FROM' ? 'MAIL FROM:<address>' : 'RCPT TO:<address>'}` }
  let rest = arg.slice(m[0].length)
  let address: string
  if (rest.startsWith('<')) {
    // Find the closing bracket outside a quoted local part.
    let i = 1
    let inQuote = false
    for (; i < rest.length; i++) {
      const c = rest[i]
      if (inQuote && c === '\\') {
        i++
        continue
      }
      if (c === '"') inQuote = !inQuote
      else if (c === '>' && !inQuote) break
    }
    if (i >= rest.length) return { ok: false, reply: '501 5.1.7 Bad address syntax: missing >' }
    address = rest.slice(1, i)
    rest = rest.slice(i + 1)
    // Source route (@a,@b:user@c) is accepted and dropped, RFC 5321 §4.1.2.
    const sr = /^@[^:]+:/.exec(address)
    if (sr) address = address.slice(sr[0].length)
  } else {
    const sp = rest.search(/\s/)
    address = sp < 0 ? rest : rest.slice(0, sp)
    rest = sp < 0 ? '' : rest.slice(sp)
  }
  if (rest !== '' && !/^\s/.test(rest)) return { ok: false, reply: '501 5.5.4 Syntax error in parameters' }
  const params: Record<string, string | true> = {}
  for (const tok of rest.trim().split(/\s+/).filter(Boolean)) {
    const eq = tok.indexOf('=')
    const key = (eq < 0 ? tok : tok.slice(0, eq)).toUpperCase()
    if (!/^[A-Z0-9][A-Z0-9-]*$/.test(key))
      return { ok: false, reply: `501 5.5.4 Bad parameter ${JSON.stringify(tok.slice(0, 40))}` }
    params[key] = eq < 0 ? true : tok.slice(eq + 1)
  }
  if (keyword === 'FROM' && address === '') return { ok: true, value: { address, params } }
  if (keyword === 'TO' && /^postmaster$/i.test(address)) return { ok: true, value: { address, params } }
  if (!isValidMailbox(address))
    return { ok: false, reply: `501 5.1.${keyword === 'FROM' ? '7' : '3'} Bad address syntax` }
  return { ok: true, value: { address, params } }
}

/** Lower-cases the domain part, as amavis does for logging and lookups. */
export function normalizeAddress(addr: string): string {
  const at = addr.lastIndexOf('@')
  return at < 0 ? addr : addr.slice(0, at) + '@' + addr.slice(at + 1).toLowerCase()
}

export function domainOf(addr: string): string {
  const at = addr.lastIndexOf('@')
  return at < 0
    ? ''
    : addr
        .slice(at + 1)
        .toLowerCase()
        .replace(/\.$/, '')
}

/** xtext decoding (RFC 3461 §4): `+XX` hex escapes. */
export function xtextDecode(s: string): string {
  return s.replace(/\+([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)))
}
/** xtext encoding: `+`, `=`, controls and non-ASCII become `+XX` (per UTF-8 byte). */
export function xtextEncode(s: string): string {
  let out = ''
  for (const b of Buffer.from(s, 'utf8')) {
    if (b < 0x21 || b > 0x7e || b === 0x2b || b === 0x3d) out += '+' + b.toString(16).toUpperCase().padStart(2, '0')
    else out += String.fromCharCode(b)
  }
  return out
}
