// IP address lookups (amavis Amavis::Lookup::IP lookup_ip_acl, README.lookups "ACL FOR IP
// ADDRESSES"): @mynetworks_maps and the tables of @client_ipaddr_policy. As in amavis, IPv4 is
// handled as IPv4-mapped IPv6 (`10.0.0.0/8` is `::ffff:10.0.0.0/104`), so `10.1.2.3` and
// `::ffff:10.1.2.3` are the same client, `0/0` matches every IPv4 client and `::/0` everything,
// even an address that does not parse. Matching is node:net's BlockList; this file only parses.
import { BlockList, isIP } from 'node:net'
import { type LookupValue, type LookupTable, type ProblemSink, isTrue, tableOf, throwOnProblem } from './table.ts'

export interface IpNetwork {
  /** IPv6 text of the network address (IPv4 as `::ffff:a.b.c.d`). */
  readonly address: string
  /** Prefix length on the IPv6 scale (IPv4 /8 is 104). */
  readonly prefix: number
  /** false for an entry written with an odd number of '!'. */
  readonly result: boolean
}

/**
 * Parses one ACL entry as ip_to_vec($net, 1): `!`-negation, `[v6]` brackets, `IPv6:` prefix,
 * `%zone`, `d.d.d.d/len`, `d.d.d.d/m.m.m.m`, shortened `10/8`, `v6/len`. Throws an Error saying why.
 */
export function parseIpNetwork(entry: string): IpNetwork {
  const bang = /^!+/.exec(entry)?.[0] ?? ''
  const spec = entry.slice(bang.length).trim()
  const slash = spec.indexOf('/')
  const len = slash < 0 ? undefined : spec.slice(slash + 1)
  const v = parseIp(slash < 0 ? spec : spec.slice(0, slash), len !== undefined)
  if (!v) throw new Error(`invalid IP network ${JSON.stringify(entry)}`)
  const result = bang.length % 2 === 0
  if (v.v4) {
    const bits = len === undefined ? 32 : ipv4PrefixOf(len)
    if (bits === undefined || bits > 32)
      throw new Error(`invalid IPv4 prefix length or mask in ${JSON.stringify(entry)}`)
    return { address: v.address, prefix: bits + 96, result }
  }
  const bits = len === undefined ? 128 : /^\d{1,3}$/.test(len) ? Number(len) : undefined
  if (bits === undefined || bits > 128) throw new Error(`invalid IPv6 prefix length in ${JSON.stringify(entry)}`)
  return { address: v.address, prefix: bits, result }
}

/**
 * An address to look up as ip_to_vec($ip, 0) reads it, or undefined when it does not parse:
 * its IPv6 text, its full form (`0000:…:0001`) and, for IPv4 and IPv4-mapped, the dotted quad.
 */
export function parseIpAddress(ip: string): { address: string; full: string; v4?: string } | undefined {
  const v = parseIp(ip.trim(), false)
  if (!v) return undefined
  const full = fullIpv6(v.address)
  if (!full.startsWith('0000:0000:0000:0000:0000:ffff:')) return { address: v.address, full }
  const n = parseInt(full.slice(30).replace(':', ''), 16)
  return { address: v.address, full, v4: [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.') }
}

function parseIp(text: string, shortV4: boolean): { address: string; v4: boolean } | undefined {
  let a = text.replace(/^\[(.*)\]$/s, '$1')
  const v6 = /^IPv6:/i.test(a) || /:[0-9a-f]*:/i.test(a)
  a = a.replace(/^IPv6:/i, '').replace(/%[A-Za-z0-9._~-]*$/, '')
  if (!v6 && /^\d{1,3}(\.\d{1,3}){0,3}$/.test(a)) {
    const f = a.split('.').map(Number)
    if (f.some((n) => n > 255) || (f.length < 4 && !shortV4)) return undefined
    while (f.length < 4) f.push(0)
    return { address: `::ffff:${f.join('.')}`, v4: true }
  }
  if (!v6 || isIP(a) !== 6) return undefined
  return { address: a.toLowerCase(), v4: false }
}

function ipv4PrefixOf(len: string): number | undefined {
  if (/^\d{1,9}$/.test(len)) return Number(len)
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(len)
  if (!m) return undefined
  const bytes = m.slice(1).map(Number)
  if (bytes.some((b) => b > 255)) return undefined
  const bitsText = bytes.map((b) => b.toString(2).padStart(8, '0')).join('')
  if (!/^1*0*$/.test(bitsText)) return undefined // not a CIDR mask
  return bitsText.replace(/0+$/, '').length
}

/** Consecutive entries with the same result share one BlockList; the first group that matches decides. */
interface Group {
  readonly result: boolean
  readonly list: BlockList
  readonly entries: string[]
  /** A `::/0` entry: matches even an address that does not parse. */
  matchesAll: boolean
}

/** An IP access list (an array in @mynetworks_maps): first match wins, `!` negates, no match is undefined. */
export function createIpAclTable(
  entries: readonly string[],
  report: ProblemSink = throwOnProblem,
): LookupTable<boolean> {
  const groups: Group[] = []
  entries.forEach((e, i) => {
    let net: IpNetwork
    try {
      net = parseIpNetwork(e)
    } catch (err) {
      report([i], (err as Error).message)
      return
    }
    let g = groups.at(-1)
    if (!g || g.result !== net.result) {
      g = { result: net.result, list: new BlockList(), entries: [], matchesAll: false }
      groups.push(g)
    }
    g.list.addSubnet(net.address, net.prefix, 'ipv6')
    g.entries.push(e)
    if (net.prefix === 0) g.matchesAll = true
  })
  return tableOf('ip-acl', (ip) => {
    const a = parseIpAddress(ip)
    for (const g of groups) {
      if (g.matchesAll || (a && g.list.check(a.address, 'ipv6'))) return { key: g.entries.join(' '), value: g.result }
    }
    return undefined
  })
}

/**
 * An IP hash (amavis: a hash in @mynetworks_maps): an IPv4 client is tried as its dotted quad and
 * then with trailing bytes removed (`10.11.12.13`, `10.11.12`, `10.11`, `10`), then every client as
 * the full form `0000:…:0001` amavis writes. A null value is undef (no answer).
 */
export function createIpHashTable<T = LookupValue>(entries: Readonly<Record<string, T | null>>): LookupTable<T> {
  const map = new Map(Object.entries(entries).map(([k, v]) => [k.toLowerCase(), v]))
  return tableOf('ip-hash', (ip) => {
    const a = parseIpAddress(ip)
    if (!a) return undefined
    const keys: string[] = []
    if (a.v4) for (let f = a.v4.split('.'); f.length; f.pop()) keys.push(f.join('.'))
    keys.push(a.full)
    for (const key of keys) {
      const v = map.get(key)
      if (v !== undefined && v !== null) return { key, value: v }
    }
    return undefined
  })
}

function fullIpv6(address: string): string {
  const m = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(address)
  let a = address
  if (m) {
    const b = m[2].split('.').map(Number)
    a = `${m[1]}${((b[0] << 8) | b[1]).toString(16)}:${((b[2] << 8) | b[3]).toString(16)}`
  }
  const [head, tail] = a.includes('::') ? a.split('::') : [a, undefined]
  const h = head ? head.split(':') : []
  const t = tail ? tail.split(':') : []
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t]
  return groups.map((g) => g.padStart(4, '0')).join(':')
}

/**
 * @client_ipaddr_policy: pairs of (IP table, comma-separated bank names). The first pair whose
 * table says true for the client names the banks; a client without an address is 0.0.0.0.
 */
export function createClientIpPolicy(
  pairs: readonly { readonly table: LookupTable<LookupValue>; readonly banks: string }[],
): (clientIp: string | undefined) => string[] {
  return (clientIp) => {
    const ip = clientIp ? clientIp : '0.0.0.0'
    for (const p of pairs) {
      if (isTrue(p.table.lookup(ip)))
        return p.banks
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
    }
    return []
  }
}
