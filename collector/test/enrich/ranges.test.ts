import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { parseIp } from '../../src/enrich/ip.ts'
import { BlockList } from 'node:net'
import { createSpecialRanges, SPECIAL_RANGES } from '../../src/enrich/ranges.ts'

describe('special ranges', () => {
  const ranges = createSpecialRanges()
  const cases: Array<[string, string | undefined]> = [
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['0.1.2.3', 'reserved'],
    ['127.0.0.1', 'loopback'],
    ['::1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['fd12:3456::1', 'private'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.254', 'cgnat'],
    ['169.254.1.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['192.0.2.1', 'documentation'],
    ['198.51.100.7', 'documentation'],
    ['203.0.113.9', 'documentation'],
    ['2001:db8::1', 'documentation'],
    ['3fff::1', 'documentation'],
    ['198.18.0.1', 'benchmarking'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'reserved'],
    ['::ffff:10.0.0.1', 'private'],
    // Ordinary space, including the neighbours of each range.
    ['8.8.8.8', undefined],
    ['172.32.0.1', undefined],
    ['100.128.0.1', undefined],
    ['192.0.3.1', undefined],
    ['2a00:1450:4001:80b::200e', undefined],
    ['2001:db9::1', undefined],
    ['1.1.1.1', undefined],
  ]
  for (const [ip, label] of cases)
    it(`labels ${ip} ${label ?? 'as ordinary'}`, () => assert.equal(ranges.label(parseIp(ip)!), label))

  it('agrees with net.BlockList on 20,000 random addresses near and inside every range', () => {
    const lists = SPECIAL_RANGES.map(([label, cidrs]) => {
      const v4 = new BlockList()
      const v6 = new BlockList()
      for (const c of cidrs) {
        const [net, bits] = c.split('/')
        if (net.includes(':')) v6.addSubnet(net, Number(bits), 'ipv6')
        else v4.addSubnet(net, Number(bits), 'ipv4')
      }
      return { label, v4, v6 }
    })
    const oracle = (ip: string, v6: boolean) =>
      lists.find((l) => (v6 ? l.v6.check(ip, 'ipv6') : l.v4.check(ip, 'ipv4')))?.label
    let seed = 7
    const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0)
    const hex = () => (rnd() & 0xffff).toString(16)
    // Random bits under each range's first octets/groups, so most samples land in or next to one.
    const v4Bases = [0, 10, 100, 127, 169, 172, 192, 198, 203, 224, 240, 255, 8]
    const v6Bases = ['0', '100', '2001', '3fff', 'fc00', 'fd00', 'fe80', 'febf', 'ff02', '2a00']
    for (let i = 0; i < 10000; i++) {
      const a = `${v4Bases[i % v4Bases.length]}.${rnd() & 255}.${rnd() & 255}.${rnd() & 255}`
      assert.equal(ranges.label(parseIp(a)!), oracle(a, false), a)
      const base = v6Bases[i % v6Bases.length]
      const b = base === '0' ? `::${i % 3 ? hex() : '1'}` : `${base}:${i % 2 ? 'db8' : hex()}::${hex()}`
      assert.equal(ranges.label(parseIp(b)!), oracle(b, true), b)
    }
  })
})
