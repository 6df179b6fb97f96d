import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readZip, DEFAULT_ZIP_LIMITS } from '../../src/mime/zip.ts'
import { buildZip } from '../../src/mime/zip-writer.ts'

describe('readZip', () => {
  it('extracts stored and deflated members with their paths', () => {
    const z = readZip(
      buildZip([
        { name: 'a.txt', data: Buffer.from('stored text') },
        { name: 'dir/b.txt', data: Buffer.from('deflated '.repeat(50)), deflate: true },
      ]),
    )
    assert.equal(z.error, undefined)
    assert.deepEqual(
      z.members.map((m) => [m.path, m.content?.toString()]),
      [
        ['a.txt', 'stored text'],
        ['dir/b.txt', 'deflated '.repeat(50)],
      ],
    )
  })

  it('skips directory entries', () => {
    const z = readZip(
      buildZip([
        { name: 'dir/', data: Buffer.alloc(0) },
        { name: 'dir/x', data: Buffer.from('x') },
      ]),
    )
    assert.deepEqual(
      z.members.map((m) => m.path),
      ['dir/x'],
    )
  })

  const rejects: Array<[what: string, zip: () => Buffer, reason: RegExp, limits?: typeof DEFAULT_ZIP_LIMITS]> = [
    ['an encrypted member', () => buildZip([{ name: 's.txt', data: Buffer.from('x'), flags: 0x801 }]), /^encrypted$/],
    [
      'a member whose compression ratio is a zip bomb',
      () => buildZip([{ name: 'zeros', data: Buffer.alloc(2 * 1024 * 1024), deflate: true }]),
      /compression ratio/,
    ],
    [
      'a member bigger than the member limit',
      () => buildZip([{ name: 'big', data: Buffer.alloc(4096, 1) }]),
      /size limit/,
      { ...DEFAULT_ZIP_LIMITS, maxMemberBytes: 1024 },
    ],
    [
      'a member whose declared size understates its real size',
      () => buildZip([{ name: 'liar', data: Buffer.alloc(100_000, 7), deflate: true, declaredSize: 10 }]),
      /corrupt/,
    ],
    [
      'a member with an unknown compression method',
      () => {
        const z = buildZip([{ name: 'm', data: Buffer.from('abc') }])
        const cen = z.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]))
        z.writeUInt16LE(14, cen + 10) // LZMA
        return z
      },
      /unsupported compression method 14/,
    ],
  ]
  for (const [what, zip, reason, limits] of rejects) {
    it(`flags ${what} without content`, () => {
      const z = readZip(zip(), limits)
      assert.equal(z.members.length, 1)
      assert.equal(z.members[0].content, undefined)
      assert.match(z.members[0].undecodableReason!, reason)
    })
  }

  const broken: Array<[what: string, zip: () => Buffer, error: RegExp]> = [
    ['a zip64 archive', () => buildZip([{ name: 'a', data: Buffer.from('a') }], { zip64Eocd: true }), /zip64/],
    ['bytes without an end record', () => Buffer.from('PK\x03\x04 truncated'), /no end of central directory/],
    [
      'a central directory pointing past the end',
      () => {
        const z = buildZip([{ name: 'a', data: Buffer.from('a') }])
        z.writeUInt32LE(0x7fffffff, z.length - 6)
        return z
      },
      /out of range/,
    ],
    [
      'more members than allowed',
      () => buildZip(Array.from({ length: 5 }, (_, i) => ({ name: `f${i}`, data: Buffer.from('x') }))),
      /too many zip members/,
    ],
  ]
  for (const [what, zip, error] of broken) {
    it(`reports ${what} as an archive error instead of throwing`, () => {
      const z = readZip(zip(), { ...DEFAULT_ZIP_LIMITS, maxMembers: 4 })
      assert.match(z.error!, error)
    })
  }

  it('bounds the unpacked bytes of nested archives by one budget for the whole message', async () => {
    const { parseMessage } = await import('../../src/mime/parse.ts')
    const inner = buildZip([{ name: 'big.txt', data: Buffer.alloc(600_000, 'x'), deflate: true }])
    const outer = buildZip(Array.from({ length: 4 }, (_, i) => ({ name: `inner${i}.zip`, data: inner })))
    const raw = Buffer.from(
      `Content-Type: application/zip\nContent-Transfer-Encoding: base64\n\n${outer.toString('base64')}\n`,
    )
    const m = parseMessage(raw, { maxUnpackedBytes: 1_500_000 })
    const reasons = m.leaves.map((l) => l.undecodableReason ?? 'ok')
    assert.deepEqual(reasons.filter((r) => r === 'ok').length, 2)
    assert.ok(reasons.includes('exceeds size limit'), reasons.join(','))
  })
})
