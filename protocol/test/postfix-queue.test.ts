import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import {
  CountDeadlineError,
  countQueueEntries,
  nextQueueTtlMs,
  QUEUE_DIRS,
  queueGaugeName,
  resolveQueueDirectory,
} from '../src/postfix-queue.ts'
import { filesUnder, makePostfixQueue, postfixMissing } from './postfix-spool.ts'

describe('Postfix queue counting', () => {
  it('counts files and recurses into one-character hash directories only', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-spool-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    const deferred = join(dir, 'deferred')
    mkdirSync(join(deferred, 'A', 'B'), { recursive: true })
    mkdirSync(join(deferred, 'C'), { recursive: true })
    writeFileSync(join(deferred, 'A', '4A1B2C3D4E'), '')
    writeFileSync(join(deferred, 'A', 'B', '4A1B2C3D4F'), '')
    writeFileSync(join(deferred, 'C', '5C1B2C3D4E'), '')
    writeFileSync(join(deferred, 'top-level-file'), '')
    mkdirSync(join(deferred, 'not-a-hash-dir'))
    assert.equal(await countQueueEntries(deferred, 5000), 5)
  })

  it('counts a real Postfix queue built by Postfix itself (maildrop from postdrop, deferred/<hash>/ from qmgr)', async (t) => {
    const missing = postfixMissing()
    if (missing) return t.skip(missing)
    const q = await makePostfixQueue(t, { deferred: 3, maildrop: 2 })
    // Postfix really hashed the deferred queue (hash_queue_depth = 1): no file at its top level
    assert.ok(
      readdirSync(join(q.spool, 'deferred'), { withFileTypes: true }).every(
        (e) => e.isDirectory() && e.name.length === 1,
      ),
    )
    const counts = await Promise.all(QUEUE_DIRS.map((d) => countQueueEntries(join(q.spool, d), 5000)))
    assert.deepEqual(Object.fromEntries(QUEUE_DIRS.map((d, i) => [d, counts[i]])), {
      maildrop: 2,
      incoming: 0,
      active: 0,
      deferred: 3,
    })
    assert.equal(counts[3], filesUnder(join(q.spool, 'deferred')))
  })

  it('gives up with CountDeadlineError instead of a partial count once its deadline has passed', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-spool-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    for (let i = 0; i < 20; i++) writeFileSync(join(dir, `f${i}`), '')
    await assert.rejects(countQueueEntries(dir, -1), CountDeadlineError)
    assert.equal(await countQueueEntries(dir, 5000), 20)
  })

  it('stops counting when its signal aborts', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-spool-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    writeFileSync(join(dir, 'f'), '')
    await assert.rejects(countQueueEntries(dir, 5000, AbortSignal.abort()), { name: 'AbortError' })
  })

  it('rejects for a missing directory so the caller can serve 0 and log', async () => {
    await assert.rejects(countQueueEntries('/nonexistent/vigil/spool/active', 1000), /ENOENT/)
  })

  it('adapts the TTL to the cost of counting, capped at 20 minutes', () => {
    assert.equal(nextQueueTtlMs(18000, 10, 60000), 18000)
    assert.equal(nextQueueTtlMs(18000, 3000, 60000), 24000)
    assert.equal(nextQueueTtlMs(18000, 4500, 100000), 150000)
    assert.equal(nextQueueTtlMs(18000, 600000, 0), 1200000)
  })

  it('names the MIB gauges and resolves a configured directory as given', async () => {
    assert.deepEqual(QUEUE_DIRS.map(queueGaugeName), [
      'MtaQueueEntriesMaildrop',
      'MtaQueueEntriesIncoming',
      'MtaQueueEntriesActive',
      'MtaQueueEntriesDeferred',
    ])
    assert.equal(await resolveQueueDirectory('/srv/postfix'), '/srv/postfix')
    assert.match(await resolveQueueDirectory(''), /^\//)
  })
})
