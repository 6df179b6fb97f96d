import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createClientIpPolicy, createIpAclTable, createIpHashTable, parseIpNetwork } from '../../src/lookup/ip.ts'
import { createMapsList } from '../../src/lookup/maps.ts'

// README.lookups, ACL FOR IP ADDRESSES:
//   given: @acl = qw( !192.168.1.12 172.16.3.3 !172.16.3.0/255.255.255.0
//                     10.0.0.0/8 172.16.0.0/12 192.168.0.0/16
//                     !0.0.0.0/8 !:: 127.0.0.0/8 ::1 );
//   matches rfc1918 private address space except host 192.168.1.12 and net 172.16.3/24 (but
//   host 172.16.3.3 within 172.16.3/24 still matches). In addition, the 'unspecified' IPv4 and
//   IPv6 addresses return false, and IPv4 and IPv6 loopback addresses match and return true.
const readme = createIpAclTable([
  '!192.168.1.12',
  '172.16.3.3',
  '!172.16.3.0/255.255.255.0',
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '!0.0.0.0/8',
  '!::',
  '127.0.0.0/8',
  '::1',
])
const readmeCases: [string, boolean | undefined][] = [
  ['192.168.1.12', false],
  ['192.168.1.13', true],
  ['172.16.3.3', true],
  ['172.16.3.4', false],
  ['172.31.0.1', true],
  ['10.200.0.1', true],
  ['0.0.0.0', false],
  ['::', false],
  ['127.0.0.1', true],
  ['::1', true],
  ['192.0.2.1', undefined],
  ['2001:db8::1', undefined],
  ['::ffff:10.1.2.3', true], // IPv4-mapped IPv6 is the IPv4 client
  ['::ffff:c0a8:10c', false], // 192.168.1.12, hex-written
  ['[::1]', true],
  ['IPv6:::1', true],
]
for (const [ip, want] of readmeCases) {
  test(`the README's IP acl answers ${want} for ${ip}`, () => assert.equal(readme.lookup(ip), want))
}

// "'::/0' always matches any IPv4 or IPv6 address (even syntactically invalid address). The
// '0/0' is equivalent to '::FFFF:0:0/96' and matches any syntactically valid IPv4 address
// (including IPv4-mapped IPv6 addresses), but not other IPv6 addresses!"
test('0/0 matches every IPv4 client, ::/0 every client even one that does not parse', () => {
  const v4 = createIpAclTable(['0/0'])
  assert.equal(v4.lookup('198.51.100.7'), true)
  assert.equal(v4.lookup('::ffff:198.51.100.7'), true)
  assert.equal(v4.lookup('2001:db8::7'), undefined)
  assert.equal(v4.lookup('not-an-ip'), undefined)
  const all = createIpAclTable(['::/0'])
  assert.equal(all.lookup('2001:db8::7'), true)
  assert.equal(all.lookup('not-an-ip'), true)
})

test('IPv6 prefixes, brackets and zones', () => {
  const t = createIpAclTable(['[2001:db8::]/32', 'fe80::/10'])
  assert.equal(t.lookup('2001:db8:1::25'), true)
  assert.equal(t.lookup('2001:db9::1'), undefined)
  assert.equal(t.lookup('fe80::1%eth0'), true)
})

test('bad networks are reported with their index; shortened IPv4 needs a length as in ip_to_vec', () => {
  const problems: string[] = []
  createIpAclTable(['10/8', '1.2.3', '300.1.1.1', '10.0.0.0/33', '::1/129', '10.0.0.0/255.0.255.0', 'x'], (p, m) =>
    problems.push(`${p[0]}: ${m}`),
  )
  assert.deepEqual(
    problems.map((p) => p.split(':')[0]),
    ['1', '2', '3', '4', '5', '6'],
  )
  assert.deepEqual(parseIpNetwork('10/8'), { address: '::ffff:10.0.0.0', prefix: 104, result: true })
})

// "For IPv4 addresses a simple classful subnet specification is allowed in hash keys by
// truncating trailing bytes ... ('10.11.12.13'=>1, '192.168.1.2'=>0, '192.168'=>1, '127'=>1, '10'=>1)"
test('an IP hash tries the dotted quad with trailing bytes removed, then the full IPv6 form', () => {
  const h = createIpHashTable({
    '10.11.12.13': 1,
    '192.168.1.2': 0,
    '192.168': 1,
    '127': 1,
    '2001:0db8:0000:0000:0000:0000:0000:0001': 'v6',
  })
  assert.equal(h.lookup('192.168.1.2'), 0)
  assert.equal(h.lookup('192.168.7.7'), 1)
  assert.equal(h.lookup('127.0.0.1'), 1)
  assert.equal(h.lookup('::ffff:127.0.0.1'), 1)
  assert.equal(h.lookup('2001:db8::1'), 'v6')
  assert.equal(h.lookup('192.0.2.1'), undefined)
})

test('@mynetworks_maps: the first table that knows the client decides', () => {
  const maps = createMapsList([createIpAclTable(['!10.1.0.0/16']), createIpAclTable(['10.0.0.0/8'])])
  assert.equal(maps.lookup('10.1.2.3'), false)
  assert.equal(maps.lookup('10.2.2.3'), true)
})

// amavisd.conf-default: "@client_ipaddr_policy = map { $_ => 'MYNETS' } @mynetworks_maps;"
test('@client_ipaddr_policy: the first pair whose table is true names the banks; no address is 0.0.0.0', () => {
  const policy = createClientIpPolicy([
    { table: createIpAclTable(['192.0.2.0/24']), banks: 'CUSTOMER, NOVIRUSCHECK' },
    { table: createIpAclTable(['!10.9.0.0/16', '10.0.0.0/8']), banks: 'MYNETS' },
    { table: createIpAclTable(['0.0.0.0']), banks: 'UNKNOWN' },
  ])
  assert.deepEqual(policy('192.0.2.9'), ['CUSTOMER', 'NOVIRUSCHECK'])
  assert.deepEqual(policy('10.1.1.1'), ['MYNETS'])
  assert.deepEqual(policy('10.9.1.1'), [])
  assert.deepEqual(policy(undefined), ['UNKNOWN'])
})
