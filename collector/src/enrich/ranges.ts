// Special-purpose address ranges (IANA IPv4/IPv6 Special-Purpose Address Registries, RFC 6890),
// labelled so a dashboard can say "private" instead of showing an empty country. Test and demo
// traffic lives almost entirely here (notes §1.3), and the shipped databases know none of it.
import { BlockList } from 'node:net'
import type { ParsedIp } from './ip.ts'

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
  // broadcast, the IPv6 discard prefix; the rest of ::/8 (IPv4-compatible, deprecated).
  [
    'reserved',
    ['0.0.0.0/8', '192.0.0.0/24', '192.88.99.0/24', '240.0.0.0/4', '100::/64', '::/8'],
  ],
]

export interface SpecialRanges {
  /** The label of the range holding this address, or undefined for ordinary (global unicast) space. */
  label(ip: ParsedIp): RangeLabel | undefined
}

export function createSpecialRanges(): SpecialRanges {
  const lists = RANGES.map(([label, cidrs]) => {
    const list = new BlockList()
    for (const cidr of cidrs) {
      const [net, bits] = cidr.split('/')
      list.addSubnet(net, Number(bits), net.includes(':') ? 'ipv6' : 'ipv4')
    }
    return [label, list] as const
  })
  return {
    label(ip) {
      const type = ip.family === 4 ? 'ipv4' : 'ipv6'
      for (const [label, list] of lists) if (list.check(ip.ip, type)) return label
      return undefined
    },
  }
}
