import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { gzipSync } from 'node:zlib'
import { readGzip, readTar } from '../../src/mime/archives.ts'
import { DEFAULT_ZIP_LIMITS } from '../../src/mime/zip.ts'

/** One ustar header block (+ data blocks) for a file; `type` '0' file, '5' dir, 'L' GNU long name. */
function tarEntry(name: string, data: Buffer, type = '0'): Buffer {
  const h = Buffer.alloc(512)
  h.write(name.slice(0, 100), 0, 'utf8')
  h.write('0000644\0', 100)
  h.write('0000000\0', 108)
  h.write('0000000\0', 116)
  h.write(data.length.toString(8).padStart(11, '0') + '\0', 124)
  h.write('00000000000\0', 136)
  h.write(type, 156)
  h.write('ustar\x0000', 257, 'latin1')
  h.fill(0x20, 148, 156)
  let sum = 0
  for (const b of h) sum += b
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1')
  const padded = Buffer.alloc(Math.ceil(data.length / 512) * 512)
  data.copy(padded)
  return Buffer.concat([h, padded])
}
const tar = (...entries: Buffer[]) => Buffer.concat([...entries, Buffer.alloc(1024)])

describe('readTar', () => {
  it('lists regular files with their content, skipping directories', () => {
    const t = tar(
      tarEntry('dir/', Buffer.alloc(0), '5'),
      tarEntry('dir/a.txt', Buffer.from('hello')),
      tarEntry('b.bin', Buffer.alloc(700, 1)),
    )
    const r = readTar(t)
    assert.equal(r.error, undefined)
    assert.deepEqual(
      r.members.map((m) => [m.path, m.content?.length]),
      [
        ['dir/a.txt', 5],
        ['b.bin', 700],
      ],
    )
  })

  it('uses GNU long names', () => {
    const long = 'very/'.repeat(30) + 'deep.exe'
    const r = readTar(
      tar(tarEntry('././@LongLink', Buffer.from(long + '\0'), 'L'), tarEntry(long.slice(0, 99), Buffer.from('MZ'))),
    )
    assert.deepEqual(
      r.members.map((m) => m.path),
      [long],
    )
  })

  it('reports a bad header checksum as an archive error', () => {
    const t = tar(tarEntry('a', Buffer.from('x')))
    t[0] = 0x42
    assert.match(readTar(t).error!, /bad header checksum/)
  })

  it('flags a truncated member and members over the size limit', () => {
    const full = tarEntry('big', Buffer.alloc(2048, 7))
    assert.equal(readTar(full.subarray(0, 1024)).members[0].undecodableReason, 'corrupt tar member: truncated')
    const r = readTar(tar(full), { ...DEFAULT_ZIP_LIMITS, maxMemberBytes: 1000 })
    assert.equal(r.members[0].undecodableReason, 'exceeds size limit')
  })
})

describe('readGzip', () => {
  it('names the member by the gzip FNAME field', () => {
    // gzip(1) output for "hello\n" with FNAME "greeting.txt".
    const header = Buffer.from([0x1f, 0x8b, 8, 8, 0, 0, 0, 0, 0, 3])
    const body = gzipSync(Buffer.from('hello\n')).subarray(10)
    const r = readGzip(Buffer.concat([header, Buffer.from('greeting.txt\0'), body]), 'x.gz')
    assert.deepEqual(
      r.members.map((m) => [m.path, m.content?.toString()]),
      [['greeting.txt', 'hello\n']],
    )
  })

  const names: Array<[declared: string | undefined, member: string]> = [
    ['report.csv.gz', 'report.csv'],
    ['backup.tgz', 'backup.tar'],
    [undefined, 'unnamed'],
  ]
  for (const [declared, member] of names)
    it(`derives the member name ${member} from ${declared ?? 'nothing'}`, () => {
      assert.equal(readGzip(gzipSync(Buffer.from('x')), declared).members[0].path, member)
    })

  it('refuses a gzip bomb by its declared size and ratio', () => {
    const bomb = gzipSync(Buffer.alloc(4 * 1024 * 1024))
    assert.equal(readGzip(bomb, 'z.gz').members[0].undecodableReason, 'exceeds compression ratio limit')
    assert.equal(
      readGzip(bomb, 'z.gz', { ...DEFAULT_ZIP_LIMITS, maxMemberBytes: 1024 }).members[0].undecodableReason,
      'exceeds size limit',
    )
  })

  it('caps the output when the size trailer lies', () => {
    const bomb = gzipSync(Buffer.alloc(2 * 1024 * 1024))
    bomb.writeUInt32LE(10, bomb.length - 4)
    assert.equal(
      readGzip(bomb, 'z.gz', { ...DEFAULT_ZIP_LIMITS, maxMemberBytes: 4096 }).members[0].undecodableReason,
      'exceeds size limit',
    )
  })

  it('reports corrupt data without throwing', () => {
    assert.equal(
      readGzip(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9]), 'a.gz').members[0]
        .undecodableReason,
      'corrupt gzip',
    )
    assert.equal(readGzip(Buffer.from('not gzip'), 'a.gz').error, 'corrupt gzip')
  })
})
