import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFile, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { CC, ErrorCode } from '@vigil/protocol'
import { createQuarantine, quarantinePrefix } from '../../src/quarantine/quarantine.ts'
import { tmpDir } from '../../../test/harness/index.ts'
import { readMail } from '../fixtures/mail.ts'

const HEADERS =
  'X-Envelope-From: <alice@example.com>\nX-Envelope-To: <bob@example.net>\nX-Quarantine-ID: <Jnk7NzYB8pvl>\n'

describe('file quarantine', () => {
  it('stores a gzip file named <ccat>-<mail_id>.gz under a one-character subdirectory', async (t) => {
    const dir = await tmpDir(t, 'quar')
    const q = createQuarantine({ dir, fsync: true })
    const raw = readMail('plain.eml')
    const stored = await q.store('Jnk7NzYB8pvl', raw, {
      ccat: { major: CC.SPAM, minor: 0 },
      sender: 'alice@example.com',
      recipients: ['bob@example.net'],
    })
    assert.deepEqual(stored, { location: 'J/spam-Jnk7NzYB8pvl.gz', type: 'Z' })
    const onDisk = gunzipSync(await readFile(join(dir, stored.location)))
    assert.equal(onDisk.toString('latin1'), HEADERS + raw.toString('latin1'))
    assert.deepEqual(await readdir(join(dir, 'J')), ['spam-Jnk7NzYB8pvl.gz'], 'no temporary file left behind')
  })

  it('reads a stored message back by mail_id', async (t) => {
    const q = createQuarantine({ dir: await tmpDir(t, 'quar'), subdirLevels: 0 })
    const raw = readMail('zip-exe.eml')
    const stored = await q.store('abc-_123XYZ', raw, { ccat: CC.BANNED })
    assert.equal(stored.location, 'banned-abc-_123XYZ.gz')
    assert.equal((await q.read('abc-_123XYZ')).subarray(-raw.length).toString('latin1'), raw.toString('latin1'))
    assert.equal(await q.find('abc-_123XYZ'), 'banned-abc-_123XYZ.gz')
  })

  it('streams a message from a file path', async (t) => {
    const dir = await tmpDir(t, 'quar')
    const src = join(dir, 'incoming.eml')
    const raw = Buffer.concat([readMail('alternative.eml'), Buffer.alloc(200_000, 'x')])
    await writeFile(src, raw)
    const q = createQuarantine({ dir: join(dir, 'q') })
    await q.store('Vfile0000001', src, { ccat: CC.VIRUS })
    const back = await q.read('Vfile0000001')
    assert.equal(back.toString('latin1'), 'X-Quarantine-ID: <Vfile0000001>\n' + raw.toString('latin1'))
  })

  it('refuses to overwrite an existing quarantine with the same mail_id', async (t) => {
    const q = createQuarantine({ dir: await tmpDir(t, 'quar') })
    await q.store('Dup000000001', Buffer.from('first'), { ccat: CC.SPAM })
    await assert.rejects(q.store('Dup000000001', Buffer.from('second'), { ccat: CC.VIRUS }), {
      code: ErrorCode.QUARANTINE_FAILED,
      message: /already quarantined/,
    })
    assert.match((await q.read('Dup000000001')).toString(), /first$/)
  })

  it('fails with QUARANTINE_FAILED and leaves no temp file when the source cannot be read', async (t) => {
    const dir = await tmpDir(t, 'quar')
    const q = createQuarantine({ dir })
    await assert.rejects(q.store('Missing00001', join(dir, 'nope.eml'), { ccat: CC.SPAM }), {
      code: ErrorCode.QUARANTINE_FAILED,
      message: /ENOENT/,
    })
    assert.deepEqual(await readdir(join(dir, 'M')), [])
  })

  it('fails with QUARANTINE_FAILED when the directory cannot be created', async (t) => {
    const dir = await tmpDir(t, 'quar')
    await writeFile(join(dir, 'file'), 'not a directory')
    const q = createQuarantine({ dir: join(dir, 'file') })
    await assert.rejects(q.store('Abc000000001', Buffer.from('x'), { ccat: CC.SPAM }), {
      code: ErrorCode.QUARANTINE_FAILED,
    })
  })

  it('rejects mail_ids that could escape the directory', async (t) => {
    const q = createQuarantine({ dir: await tmpDir(t, 'quar') })
    await assert.rejects(q.store('../../etc', Buffer.from('x'), { ccat: CC.SPAM }), {
      code: ErrorCode.QUARANTINE_FAILED,
    })
    await assert.rejects(q.read('../x'), { code: ErrorCode.RELEASE_NOT_FOUND })
  })

  it('reports RELEASE_NOT_FOUND for an unknown mail_id', async (t) => {
    const q = createQuarantine({ dir: await tmpDir(t, 'quar') })
    await assert.rejects(q.read('Unknown00001'), { code: ErrorCode.RELEASE_NOT_FOUND })
  })

  const prefixes: Array<[number, string]> = [
    [CC.VIRUS, 'virus'],
    [CC.BANNED, 'banned'],
    [CC.SPAM, 'spam'],
    [CC.SPAMMY, 'spam'],
    [CC.BADH, 'badh'],
    [CC.UNCHECKED, 'unchecked'],
    [CC.CLEAN, 'clean'],
    [CC.CATCHALL, 'other'],
  ]
  for (const [major, prefix] of prefixes)
    it(`names category ${major} files ${prefix}-`, () => assert.equal(quarantinePrefix({ major, minor: 0 }), prefix))
})
