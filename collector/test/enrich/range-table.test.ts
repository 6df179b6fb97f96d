import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tmpDir } from '../../../test/harness/index.ts'
import { parseIp } from '../../src/enrich/ip.ts'
import { loadRangeTable, type RangeTable } from '../../src/enrich/range-table.ts'

const ASN = ['uint', 'string'] as const
const at = (t: RangeTable, ip: string) => {
  const row = t.find(parseIp(ip)!)
  return row < 0 ? undefined : `${t.uint(row, 0)} ${t.text(row, 1)}`
}

describe('range table', () => {
  it('reads text and numeric addresses, RFC 4180 quoting, CRLF, and skips what does not parse', async (t) => {
    const dir = await tmpDir(t, 'range-table')
    const f = join(dir, 'asn-ipv4.csv')
    writeFileSync(
      f,
      [
        'start,end,asn,org', // a header: skipped, counted
        '192.0.2.0,192.0.2.127,64496,"Example Mail, Inc."',
        '3221226112,3221226239,64497,"LLC ""QUOTED"""',
        '198.51.100.0,198.51.100.255,64498,Plain Org',
        '203.0.113.0,203.0.113.255,notanumber,Bad',
        '203.0.113.0,203.0.113.9,64499,"unclosed',
        '10.0.0.9,10.0.0.1,64500,End before start',
        '',
      ].join('\r\n'),
    )
    const table = await loadRangeTable([f], { columns: ASN })
    assert.equal(table.v4Count, 3)
    assert.equal(table.skipped, 4)
    assert.equal(at(table, '192.0.2.0'), '64496 Example Mail, Inc.')
    assert.equal(at(table, '192.0.2.127'), '64496 Example Mail, Inc.')
    assert.equal(at(table, '192.0.2.128'), '64497 LLC "QUOTED"')
    assert.equal(at(table, '198.51.100.200'), '64498 Plain Org')
    assert.equal(at(table, '203.0.113.1'), undefined)
    assert.equal(at(table, '0.0.0.1'), undefined)
    assert.equal(at(table, '255.255.255.255'), undefined)
  })

  it('sorts unsorted files, keeps both families apart and finds a range that encloses a nested one', async (t) => {
    const dir = await tmpDir(t, 'range-table')
    const v4 = join(dir, 'a-ipv4.csv')
    const v6num = join(dir, 'a-ipv6-num.csv')
    writeFileSync(
      v4,
      ['10.0.0.0,10.255.255.255,1,Outer', '9.0.0.0,9.0.0.255,3,Before', '10.1.0.0,10.1.0.255,2,Inner'].join('\n'),
    )
    // 2001:db8::/32 as decimal: numeric addresses in an *ipv6* file are IPv6.
    writeFileSync(
      v6num,
      '42540766411282592856903984951653826560,42540766490510755371168322545197776895,64511,"Doc six"\n',
    )
    const table = await loadRangeTable([v4, v6num], { columns: ASN })
    assert.deepEqual([table.v4Count, table.v6Count], [3, 1])
    assert.equal(at(table, '9.0.0.1'), '3 Before')
    assert.equal(at(table, '10.1.0.1'), '2 Inner')
    assert.equal(at(table, '10.2.0.1'), '1 Outer')
    assert.equal(at(table, '2001:db8:1::5'), '64511 Doc six')
    assert.equal(at(table, '2001:db9::'), undefined)
    assert.equal(at(table, '::ffff:10.2.0.1'), '1 Outer')
  })

  it('reads a valid binary cache instead of the CSV, and parses again when the CSV changes', async (t) => {
    const dir = await tmpDir(t, 'range-table')
    const cacheDir = join(dir, 'cache')
    const f = join(dir, 'asn-ipv6.csv')
    writeFileSync(f, '2001:db8::,2001:db8::ffff,64496,Ünïcödé Org\n192.0.2.0,192.0.2.255,64497,Four\n')
    const first = await loadRangeTable([f], { columns: ASN, cacheDir })
    const second = await loadRangeTable([f], { columns: ASN, cacheDir })
    assert.deepEqual([first.fromCache, second.fromCache], [false, true])
    for (const tb of [first, second]) {
      assert.equal(at(tb, '2001:db8::1'), '64496 Ünïcödé Org')
      assert.equal(at(tb, '192.0.2.9'), '64497 Four')
    }
    writeFileSync(f, '2001:db8::,2001:db8::ffff,64499,Changed\n')
    utimesSync(f, new Date(), new Date(Date.now() + 5000))
    const third = await loadRangeTable([f], { columns: ASN, cacheDir })
    assert.equal(third.fromCache, false)
    assert.equal(at(third, '2001:db8::1'), '64499 Changed')
    // A damaged cache is ignored (and rewritten), never trusted.
    const [cacheFile] = readdirSync(cacheDir)
    writeFileSync(join(cacheDir, cacheFile), 'not a cache')
    const fourth = await loadRangeTable([f], { columns: ASN, cacheDir })
    assert.equal(fourth.fromCache, false)
    assert.equal(at(fourth, '2001:db8::1'), '64499 Changed')
  })

  it('rejects when a file is missing', async () => {
    await assert.rejects(loadRangeTable(['/nonexistent/asn-ipv4.csv'], { columns: ASN }), /ENOENT/)
  })
})
