// `vigil user add|list|del|passwd`: the dashboard's users in <home>/dashboard/dashboard.db,
// passwords from stdin (never printed), the same store the dashboard logs in against.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { EventEmitter } from 'node:events'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { runCli } from '../../src/cli.ts'
import { createUserStore } from '@vigil/dashboard-server/auth/users.ts'
import { tmpDir } from '../../../test/harness/index.ts'

const VIGIL = fileURLToPath(new URL('../../../bin/vigil.mjs', import.meta.url))

async function setup(t: import('node:test').TestContext) {
  const home = await tmpDir(t, 'cli-user-')
  const config = join(home, 'vigil.yaml')
  await writeFile(config, `home: ${home}\ndashboard:\n  auth:\n    scrypt_log_n: 10\n`)
  const run = async (argv: string[], input?: string) => {
    let stdout = ''
    let stderr = ''
    const code = await runCli(['--config', config, ...argv], {
      stdout: (s) => (stdout += s),
      stderr: (s) => (stderr += s),
      env: {},
      cwd: process.cwd(),
      proc: new EventEmitter(),
      stdin: Readable.from(input === undefined ? [] : [Buffer.from(input)]),
    })
    return { code, stdout, stderr }
  }
  return { home, config, run }
}

test('vigil user add / list / passwd / del, in process', async (t) => {
  const { home, run } = await setup(t)
  const added = await run(['user', 'add', 'ann', '--role', 'admin', '--password-stdin'], 'secret-pass-1\n')
  assert.equal(added.code, 0, added.stderr)
  assert.match(added.stdout, /added user ann \(admin\)/)
  assert.ok(!(added.stdout + added.stderr).includes('secret-pass-1'), 'nothing secret printed')
  assert.equal(
    (await run(['user', 'add', 'vic', '--role', 'viewer'], 'viewer-pass-1\n')).code,
    0,
    'a pipe needs no flag',
  )
  const dup = await run(['user', 'add', 'ann', '--role', 'viewer'], 'whatever-123\n')
  assert.equal(dup.code, 1)
  assert.match(dup.stderr, /exists already/)
  const short = await run(['user', 'add', 'bob', '--role', 'viewer'], 'short\n')
  assert.equal(short.code, 1)
  assert.match(short.stderr, /too short/)
  assert.equal((await run(['user', 'add', 'bob', '--role', 'root'], 'long-enough-1\n')).code, 1)
  assert.equal((await run(['user', 'add', 'bob'], 'long-enough-1\n')).code, 64, '--role is required')
  const list = await run(['user', 'list'])
  assert.equal(list.code, 0)
  assert.match(list.stdout, /^ann\s+admin\s+\d{4}-/m)
  assert.match(list.stdout, /^vic\s+viewer\s+/m)
  assert.ok(!list.stdout.includes('scrypt'))

  assert.equal((await run(['user', 'passwd', 'vic'], 'new-viewer-pass\n')).code, 0)
  const store = createUserStore(home, { scryptLogN: 10 })
  t.after(() => store.close())
  assert.ok(await store.verify('vic', 'new-viewer-pass'))
  assert.equal(await store.verify('vic', 'viewer-pass-1'), undefined)
  assert.ok(await store.verify('ann', 'secret-pass-1'))

  assert.equal((await run(['user', 'del', 'vic'])).code, 0)
  assert.equal((await run(['user', 'del', 'vic'])).code, 1)
  assert.equal(store.get('vic'), undefined)
  assert.equal((await run(['user', 'frob'])).code, 64)
})

test('the real `vigil user add` reads the password from a pipe', async (t) => {
  const { home, config } = await setup(t)
  const out = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(
      process.execPath,
      [VIGIL, '--config', config, 'user', 'add', 'carol', '--role', 'viewer', '--password-stdin'],
      { timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    )
    child.stdin!.end('carol-password-1\n')
  })
  assert.equal(out.code, 0, out.stderr)
  assert.match(out.stdout, /added user carol \(viewer\)/)
  const store = createUserStore(home, { scryptLogN: 10 })
  t.after(() => store.close())
  assert.equal(store.get('carol')?.role, 'viewer')
  assert.ok(await store.verify('carol', 'carol-password-1'))
})
