import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { CountDeadlineError, countQueueEntries, nextQueueTtlMs } from '../src/postfix-queue.ts'

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

  it('gives up with CountDeadlineError instead of a partial count once its deadline has passed', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-spool-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    for (let i = 0; i < 20; i++) writeFileSync(join(dir, `f${i}`), '')
    await assert.rejects(countQueueEntries(dir, -1), CountDeadlineError)
    assert.equal(await countQueueEntries(dir, 5000), 20)
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
})
