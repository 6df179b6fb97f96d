import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import { acquirePidFile, releasePidFile } from '../../src/supervisor/pid-file.ts'

function pidPath(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-pid-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return join(dir, 'vigil.pid')
}

describe('pid file', () => {
  it('writes our pid and removes it on release', (t) => {
    const path = pidPath(t)
    assert.deepEqual(acquirePidFile(path), { ok: true })
    assert.equal(readFileSync(path, 'utf8'), `${process.pid}\n`)
    releasePidFile(path)
    assert.ok(!existsSync(path))
  })

  it('refuses while the recorded process is alive', (t) => {
    const path = pidPath(t)
    writeFileSync(path, `${process.ppid}\n`)
    assert.deepEqual(acquirePidFile(path), { ok: false, runningPid: process.ppid })
    assert.equal(readFileSync(path, 'utf8'), `${process.ppid}\n`)
  })

  const stale: Array<[what: string, content: string]> = [
    ['a dead process', '2147483646\n'],
    ['garbage', 'not a pid\n'],
    ['an empty file', ''],
  ]
  for (const [what, content] of stale)
    it(`replaces a pid file holding ${what}`, (t) => {
      const path = pidPath(t)
      writeFileSync(path, content)
      assert.deepEqual(acquirePidFile(path), { ok: true })
      assert.equal(readFileSync(path, 'utf8'), `${process.pid}\n`)
    })

  it('leaves a pid file that another process took over', (t) => {
    const path = pidPath(t)
    writeFileSync(path, `${process.ppid}\n`)
    releasePidFile(path)
    assert.ok(existsSync(path))
  })

  it('reports a directory that cannot hold the file', (t) => {
    const blocker = pidPath(t)
    writeFileSync(blocker, '')
    assert.deepEqual(acquirePidFile(join(blocker, 'vigil.pid')), {
      ok: false,
      error: `${join(blocker, 'vigil.pid')}: ENOTDIR`,
    })
  })
})
