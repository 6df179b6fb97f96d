// Special-purpose address ranges (IANA IPv4/IPv6 Special-Purpose Address Registries, RFC 6890),
// labelled so a dashboard can say "private" instead of showing an empty country. Test and demo
// traffic lives almost entirely here (notes §1.3), and the shipped databases know none of it.
import { parseIp, type ParsedIp } from './ip.ts'

export type RangeLabel =
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'cgnat'
  | 'link-local'
  | 'documentation'
  | 'benchmarking'
  | 'multicast'
  | 'reserved'

/** First match wins, so narrower ranges come before the wider ones containing them (0.0.0.0 in 0/8). */
const RANGES: ReadonlyArray<readonly [RangeLabel, ReadonlyArray<string>]> = [
  ['unspecified', ['0.0.0.0/32', '::/128']],
  ['loopback', ['127.0.0.0/8', '::1/128']],
  ['private', ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7']],
  ['cgnat', ['100.64.0.0/10']],
  ['link-local', ['169.254.0.0/16', 'fe80::/10']],
  // RFC 5737, RFC 3849, RFC 9637 (3fff::/20).
  ['documentation', ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24', '2001:db8::/32', '3fff::/20']],
  ['benchmarking', ['198.18.0.0/15', '2001:2::/48']],
  ['multicast', ['224.0.0.0/4', 'ff00::/8']],
  // "This network", IETF protocol assignments, the old 6to4 relay anycast, class E and the limited
  // broadcast, the IPv6 discard prefix, the deprecated IPv4-compatible ::/96.
  ['reserved', ['0.0.0.0/8', '192.0.0.0/24', '192.88.99.0/24', '240.0.0.0/4', '100::/64', '::/96']],
]

export interface SpecialRanges {
  /** The label of the range holding this address, or undefined for ordinary (global unicast) space. */
  label(ip: ParsedIp): RangeLabel | undefined
}

/** The table itself, for tests that check the matcher against net.BlockList. */
export const SPECIAL_RANGES = RANGES

interface Rule {
  label: RangeLabel
  /** Network address: one word (IPv4) or four (IPv6), most significant first. */
  net: Uint32Array
  bits: number
}

/**
 * Matches on the parsed numbers. net.BlockList was the first version and measured 62 µs a lookup
 * here (about 7 µs per check(): it builds a SocketAddress per call), twenty times the two database
 * lookups together; prefix compares on the words take well under a microsecond for all rules.
 * ranges.test.ts checks this matcher against BlockList on random addresses.
 */
export function createSpecialRanges(): SpecialRanges {
  const v4: Rule[] = []
  const v6: Rule[] = []
  for (const [label, cidrs] of RANGES)
    for (const cidr of cidrs) {
      const [addr, bits] = cidr.split('/')
      const p = parseIp(addr)!
      // parseIp turns ::ffff:0:0/96-style prefixes into IPv4; none is listed, so the family is the text's.
      if (addr.includes(':')) v6.push({ label, net: p.v6!, bits: Number(bits) })
      else v4.push({ label, net: Uint32Array.of(p.v4), bits: Number(bits) })
    }
  return {
    label(ip) {
      const rules = ip.family === 4 ? v4 : v6
      const words = ip.family === 4 ? Uint32Array.of(ip.v4) : ip.v6!
      for (const r of rules) if (inPrefix(words, r)) return r.label
      return undefined
    },
  }
}

function inPrefix(words: Uint32Array, r: Rule): boolean {
  let bits = r.bits
  for (let k = 0; bits > 0; k++, bits -= 32) {
    const mask = bits >= 32 ? 0xffffffff : ~(0xffffffff >>> bits) >>> 0
    if ((words[k] & mask) >>> 0 !== (r.net[k] & mask) >>> 0) return false
  }
  return true
}
