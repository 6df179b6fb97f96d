import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import { ensureHome } from '../../src/commands/component.ts'

function scratch(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-home-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

describe('ensureHome', () => {
  it('creates missing parents and accepts an existing directory', (t) => {
    const home = join(scratch(t), 'a', 'b', 'home')
    assert.equal(ensureHome(home), undefined)
    assert.ok(statSync(home).isDirectory())
    assert.equal(ensureHome(home), undefined)
  })

  it('names the path and the reason when a file is in the way', (t) => {
    const file = join(scratch(t), 'file')
    writeFileSync(file, '')
    assert.equal(
      ensureHome(file),
      `vigil: cannot create home directory ${file}: EEXIST (set --home, VIGIL_HOME or \`home\`)\n`,
    )
    assert.match(ensureHome(join(file, 'home')) ?? '', /: ENOTDIR /)
  })

  it('returns (instead of looping like mkdir -p in Node 20) below /proc', { skip: !existsSync('/proc/self') }, () => {
    assert.match(
      ensureHome('/proc/vigil-no-such-dir/home') ?? '',
      /^vigil: cannot create home directory \/proc\/vigil-no-such-dir\/home: E/,
    )
  })
})
