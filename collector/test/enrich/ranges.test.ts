import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { parseIp } from '../../src/enrich/ip.ts'
import { createSpecialRanges } from '../../src/enrich/ranges.ts'

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
})
