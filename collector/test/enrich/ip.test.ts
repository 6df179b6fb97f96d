import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { isIP } from 'node:net'
import { formatV6, parseIp, parseV6 } from '../../src/enrich/ip.ts'

describe('parseIp', () => {
  const cases: Array<[input: unknown, ip: string | undefined, family?: 4 | 6]> = [
    ['8.8.8.8', '8.8.8.8', 4],
    [' 8.8.8.8 ', '8.8.8.8', 4],
    ['::ffff:8.8.8.8', '8.8.8.8', 4],
    ['::FFFF:808:808', '8.8.8.8', 4],
    ['[::ffff:8.8.8.8]', '8.8.8.8', 4],
    ['64:ff9b::8.8.8.8', '8.8.8.8', 4],
    ['2A00:1450:4001:080B:0:0:0:200E', '2a00:1450:4001:80b::200e', 6],
    ['[2001:db8::1]', '2001:db8::1', 6],
    ['[2001:db8::1]:25', '2001:db8::1', 6],
    ['fe80::1%eth0', 'fe80::1', 6],
    ['[fe80::1%25en0]', 'fe80::1', 6],
    ['::', '::', 6],
    ['::1', '::1', 6],
    ['garbage', undefined],
    ['', undefined],
    ['1.2.3', undefined],
    ['01.2.3.4', undefined],
    ['256.1.1.1', undefined],
    ['[::1', undefined],
    ['1:2:3:4:5:6:7', undefined],
    [12, undefined],
    [null, undefined],
    [{ ip: '8.8.8.8' }, undefined],
    ['1'.repeat(200), undefined],
  ]
  for (const [input, ip, family] of cases) {
    it(`${ip ? 'reads' : 'rejects'} ${JSON.stringify(input).slice(0, 40)}`, () => {
      const p = parseIp(input)
      assert.equal(p?.ip, ip)
      if (family) assert.equal(p?.family, family)
    })
  }

  it('gives IPv6 as four 32-bit words, most significant first', () => {
    assert.deepEqual([...parseIp('2a00:1450:4001:80b::200e')!.v6!], [0x2a001450, 0x4001080b, 0, 0x200e])
    assert.equal(parseIp('193.0.6.139')!.v4, 193 * 2 ** 24 + 6 * 256 + 139)
  })
})

describe('parseV6', () => {
  it('agrees with net.isIP on valid and invalid literals and formats as RFC 5952', () => {
    const cases: Array<[string, string | undefined]> = [
      ['1::', '1::'],
      ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
      ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
      ['::1:2:3:4:5:6:7', '0:1:2:3:4:5:6:7'],
      ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
      ['0:0:1:0:0:1:0:0', '::1:0:0:1:0:0'],
      ['1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:102:304'],
      [':::', undefined],
      ['1:', undefined],
      [':1', undefined],
      ['1::2::3', undefined],
      ['1:2:3:4:5:6:7:8:9', undefined],
      ['12345::', undefined],
      ['g::', undefined],
    ]
    for (const [s, formatted] of cases) {
      const h = parseV6(s)
      assert.equal(h ? formatV6(h) : undefined, formatted, s)
      assert.equal(h !== undefined, isIP(s) === 6, `${s} vs net.isIP`)
    }
  })
})
