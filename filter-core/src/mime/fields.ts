// Extracts the header-derived fields of the amavis JSON event (spec §5.3):
// attached_file_names, author/to_addr/cc_addr, ip_trace/ip_proto_trace, references, user_agent.
import type { MimePart, ParsedMessage } from '../checks/check.ts'
import { decodeRfc2047, headerValue, headerValues, stripComments, type HeaderField } from './headers.ts'
import { parseMessageIds } from './parse.ts'

/**
 * Declared file names, depth-first, not descending below a part that has a name (spec §5.3):
 * one string per named part, or an array of strings when that part declared several names.
 */
export function attachedFileNames(msg: ParsedMessage): (string | string[])[] {
  const out: (string | string[])[] = []
  const walk = (p: MimePart) => {
    if (p.declaredNames.length === 1) out.push(p.declaredNames[0])
    else if (p.declaredNames.length > 1) out.push([...p.declaredNames])
    else for (const c of p.children) walk(c)
  }
  walk(msg.root)
  return out
}

export interface Mailbox {
  /** Display name, unquoted and RFC 2047 decoded; absent for a bare address. */
  readonly name?: string
  /** The address without angle brackets or source route. */
  readonly address: string
}

/**
 * Mailboxes of an address-list header value (From/To/Cc/Sender/Reply-To), in order, group
 * names dropped and comments removed. Unparseable items are kept as trimmed text. Never throws.
 */
export function mailboxList(value: string | undefined): Mailbox[] {
  if (value === undefined) return []
  const s = stripComments(value)
  const items: string[] = []
  let cur = ''
  let inQuote = false
  let inAngle = false
  for (let i = 0; i < s.length; i++) {
    const c = s[i]
    if (inQuote && c === '\\') {
      cur += c + (s[i + 1] ?? '')
      i++
      continue
    }
    if (c === '"') inQuote = !inQuote
    else if (!inQuote && c === '<') inAngle = true
    else if (!inQuote && c === '>') inAngle = false
    else if (!inQuote && !inAngle && c === ':') {
      // Group display name ("undisclosed-recipients:"): drop it, keep its members.
      cur = ''
      continue
    } else if (!inQuote && !inAngle && (c === ',' || c === ';')) {
      items.push(cur)
      cur = ''
      continue
    }
    cur += c
  }
  items.push(cur)
  const out: Mailbox[] = []
  for (const item of items) {
    const t = item.trim()
    if (!t) continue
    // Find the angle-addr outside quoted strings (same length, so indexes carry over).
    const masked = t.replace(
      /"(?:[^"\\]|\\.)*"?/g,
      (q) => '"' + '_'.repeat(Math.max(0, q.length - 2)) + (q.length > 1 ? '"' : ''),
    )
    const angle = /<([^<>]*)>/.exec(masked)
    const addr = (angle ? t.slice(angle.index + 1, angle.index + 1 + angle[1].length) : t)
      .replace(/^@[^:]*:/, '')
      .trim()
    if (!addr) continue
    const rawName = angle ? t.slice(0, angle.index).trim() : ''
    const name = decodeRfc2047(rawName.replace(/^"(.*)"$/s, '$1').replace(/\\(.)/g, '$1')).trim()
    out.push(name ? { name, address: addr } : { address: addr })
  }
  return out
}

/** Addresses of an address-list header value (see mailboxList), as the JSON author/to_addr/cc_addr fields list them. */
export function addressList(value: string | undefined): string[] {
  return mailboxList(value).map((m) => m.address)
}

export interface ReceivedTrace {
  /** Public IP addresses from the `from` clauses of Received headers, newest first. */
  readonly ipTrace: string[]
  /** One element per Received header: `with://ip`, `with://[ip]:port`, or `x` when it names no IP. */
  readonly ipProtoTrace: string[]
}

/**
 * Reads the Received trace (newest first). The IP is the bracketed address of the `from`
 * clause (`[192.0.2.1]`, `[IPv6:2001:db8::1]`), the port the `]:port` that Postfix writes with
 * smtpd_client_port_logging (or Exim's `port=`), the protocol the `with` word (empty when absent).
 */
export function parseReceivedTrace(headers: readonly HeaderField[]): ReceivedTrace {
  const ipTrace: string[] = []
  const ipProtoTrace: string[] = []
  for (const value of headerValues(headers, 'received')) {
    const r = parseReceived(value)
    if (!r.ip) {
      ipProtoTrace.push('x')
      continue
    }
    ipProtoTrace.push(r.port !== undefined ? `${r.with}://[${r.ip}]:${r.port}` : `${r.with}://${r.ip}`)
    if (isPublicIp(r.ip)) ipTrace.push(r.ip)
  }
  return { ipTrace, ipProtoTrace }
}

/** Fields of one Received header value used by the trace. */
export function parseReceived(value: string): { ip?: string; port?: number; with: string } {
  const v = value.replace(/\s+/g, ' ')
  const withM = /(?:^|[\s)])with\s+([A-Za-z0-9_.+-]+)/i.exec(v)
  const proto = withM ? withM[1] : ''
  const fromM = /^\s*from\s+(.*?)(?:\s+by\s+|;|$)/i.exec(v)
  if (!fromM) return { with: proto }
  const from = fromM[1]
  const br = /\[(?:IPv6:)?([0-9A-Fa-f:.]+)\](?::(\d{1,5}))?/gi
  let ip: string | undefined
  let port: number | undefined
  for (const m of from.matchAll(br)) {
    if (!isIpLiteral(m[1])) continue
    ip = m[1].toLowerCase()
    port = m[2] !== undefined ? Number(m[2]) : undefined
  }
  if (!ip) {
    const bare = /\(\s*(?:[^()]*\s)?(\d{1,3}(?:\.\d{1,3}){3})\s*\)/.exec(from)
    if (bare && isIpLiteral(bare[1])) ip = bare[1]
  }
  if (ip && port === undefined) {
    const p = /\bport[= ](\d{1,5})\b/i.exec(from)
    if (p) port = Number(p[1])
  }
  return { ip, port, with: proto }
}

function isIpLiteral(s: string): boolean {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(s)) return s.split('.').every((o) => Number(o) <= 255)
  return s.includes(':') && /^[0-9a-f:.]+$/i.test(s)
}

/** False for loopback, private (RFC 1918, ULA), link-local, CGNAT, unspecified and multicast addresses. */
export function isPublicIp(ip: string): boolean {
  const v4 = /^(?:::ffff:)?(\d{1,3})\.(\d{1,3})\.\d{1,3}\.\d{1,3}$/i.exec(ip)
  if (v4) {
    const a = Number(v4[1])
    const b = Number(v4[2])
    if (a === 0 || a === 10 || a === 127 || a >= 224) return false
    if (a === 169 && b === 254) return false
    if (a === 172 && b >= 16 && b <= 31) return false
    if (a === 192 && b === 168) return false
    if (a === 100 && b >= 64 && b <= 127) return false
    return true
  }
  const x = ip.toLowerCase()
  if (x === '::1' || x === '::') return false
  if (/^fe[89ab]/.test(x)) return false // link-local fe80::/10
  if (/^f[cd]/.test(x)) return false // unique local fc00::/7
  if (/^ff/.test(x)) return false // multicast
  return true
}

/** Message-ids of References followed by those of In-Reply-To not already listed. */
export function references(headers: readonly HeaderField[]): string[] {
  const out: string[] = []
  for (const name of ['references', 'in-reply-to']) {
    for (const v of headerValues(headers, name))
      for (const id of parseMessageIds(v)) if (!out.includes(id)) out.push(id)
  }
  return out
}

/** `User-Agent`, otherwise `X-Mailer`, whitespace-collapsed and trimmed; undefined when neither is present. */
export function userAgent(headers: readonly HeaderField[]): string | undefined {
  const v = headerValue(headers, 'user-agent') ?? headerValue(headers, 'x-mailer')
  if (v === undefined) return undefined
  const t = v.replace(/\s+/g, ' ').trim()
  return t === '' ? undefined : t
}
