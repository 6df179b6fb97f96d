import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ErrorCode, VigilError } from '@vigil/protocol'
import { createScope, freePort, resolveBinary, sleep, spawnService, sweepOrphans, tmpDir, waitFor } from './index.ts'

function readFileSyncSafe(p: string): string {
  try {
    return readFileSync(p, 'utf8')
  } catch {
    return ''
  }
}

/** Running (zombies, exited but not yet reaped by init, count as gone). */
function alive(pid: number): boolean {
  const stat = readFileSyncSafe(`/proc/${pid}/stat`)
  return stat !== '' && !/^\d+ \(.*\) Z/.test(stat)
}

test('a missing binary fails with VIGIL_ERR_HARNESS_MISSING naming the Debian package', () => {
  assert.throws(
    () => resolveBinary('vigil-no-such-daemon', 'vigil-pkg'),
    (e: unknown) =>
      e instanceof VigilError &&
      e.code === ErrorCode.HARNESS_MISSING &&
      e.message === 'vigil-no-such-daemon not found: run scripts/provision.sh (Debian package vigil-pkg)',
  )
  assert.match(resolveBinary('redis-server'), /\/redis-server$/)
})

test('a service that exits during start-up fails with VIGIL_ERR_HARNESS_START and its log tail', async (t) => {
  const dir = await tmpDir(t, 'proc')
  await assert.rejects(
    spawnService({
      t,
      name: 'failing-service',
      cmd: 'sh',
      args: ['-c', 'echo "fatal: cannot open config" >&2; exit 3'],
      logFile: join(dir, 'svc.log'),
      ready: async () => false,
    }),
    (e: unknown) =>
      e instanceof VigilError &&
      e.code === ErrorCode.HARNESS_START &&
      /exit code 3/.test(e.message) &&
      /fatal: cannot open config/.test(e.message),
  )
})

test('a service that never becomes ready is killed and reported with VIGIL_ERR_HARNESS_START', async (t) => {
  const dir = await tmpDir(t, 'proc')
  let pid = 0
  await assert.rejects(
    spawnService({
      t,
      name: 'slow-service',
      cmd: 'sh',
      args: ['-c', 'echo starting; echo $$ > pid; exec sleep 60'],
      cwd: dir,
      logFile: join(dir, 'svc.log'),
      readyTimeoutMs: 300,
      ready: async () => {
        pid ||= Number(readFileSyncSafe(join(dir, 'pid')).trim())
        return false
      },
    }),
    (e: unknown) =>
      e instanceof VigilError && e.code === ErrorCode.HARNESS_START && /within 300 ms[\s\S]*starting/.test(e.message),
  )
  assert.ok(pid > 0)
  assert.equal(alive(pid), false)
})

test('stop() sends SIGTERM, escalates to SIGKILL after the grace period, and is idempotent', async (t) => {
  const dir = await tmpDir(t, 'proc')
  const svc = await spawnService({
    t,
    name: 'stubborn',
    cmd: 'sh',
    args: ['-c', `trap '' TERM; touch ${join(dir, 'up')}; while :; do sleep 0.1; done`],
    logFile: join(dir, 'svc.log'),
    graceMs: 300,
    ready: async () => existsSync(join(dir, 'up')),
  })
  assert.equal(svc.running(), true)
  const started = Date.now()
  await Promise.all([svc.stop(), svc.stop()])
  assert.equal(svc.running(), false)
  assert.equal((await svc.exited).signal, 'SIGKILL')
  assert.ok(Date.now() - started >= 250)
})

test('a scope stops its services newest first when closed', async () => {
  const scope = createScope()
  const dir = await tmpDir(scope, 'proc')
  const order: string[] = []
  const svc = await spawnService({
    t: scope,
    name: 'sleeper',
    cmd: 'sleep',
    args: ['30'],
    logFile: join(dir, 'l'),
    ready: async () => true,
  })
  scope.after(() => order.push('last-registered'))
  await scope.close()
  assert.deepEqual(order, ['last-registered'])
  assert.equal(svc.running(), false)
})

test('services of a test process that was SIGKILLed are swept by the next harness load', async (t) => {
  const dir = await tmpDir(t, 'proc')
  const script = join(dir, 'orphan.mts')
  const index = fileURLToPath(new URL('./index.ts', import.meta.url))
  await writeFile(
    script,
    `import { spawnService } from ${JSON.stringify(index)}\n` +
      `const s = await spawnService({ t: null, name: 'orphan', cmd: 'sleep', args: ['120'], logFile: ${JSON.stringify(join(dir, 'o.log'))}, ready: async () => true })\n` +
      `console.log(s.pid)\nsetInterval(() => {}, 1000)\n`,
  )
  const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.after(() => child.kill('SIGKILL'))
  let out = ''
  child.stdout.on('data', (d: Buffer) => (out += d.toString()))
  const pid = await waitFor(() => Number(out.trim()) || 0, { timeoutMs: 30_000, what: 'orphan pid' })
  child.kill('SIGKILL') // no exit hooks run
  await new Promise((r) => child.once('exit', r))
  assert.equal(alive(pid), true, 'the service outlived its SIGKILLed owner')
  assert.ok(sweepOrphans() >= 1)
  await waitFor(() => !alive(pid), { timeoutMs: 5000, what: `orphan ${pid} to die` })
})

test('freePort hands out distinct bindable ports outside the ephemeral range and the Vigil defaults', async () => {
  const ports = new Set<number>()
  for (let i = 0; i < 20; i++) ports.add(await freePort())
  assert.equal(ports.size, 20)
  for (const p of ports) {
    assert.ok(p >= 20000 && p < 32768, String(p))
    assert.ok(![23232, 23233, 23234, 10024, 10025].includes(p))
  }
})

test('a port handed out by freePort is reserved machine-wide until its process exits', async () => {
  const port = await freePort()
  const file = join(tmpdir(), 'vigil-harness-ports', String(port))
  assert.equal(readFileSync(file, 'utf8').split(' ')[0], String(process.pid))
})

test('a readiness probe that hangs is cut off at the start-up deadline', async (t) => {
  const dir = await tmpDir(t, 'proc')
  const started = Date.now()
  await assert.rejects(
    spawnService({
      t,
      name: 'hanging-probe',
      cmd: 'sleep',
      args: ['30'],
      logFile: join(dir, 'l'),
      readyTimeoutMs: 300,
      ready: () => new Promise<boolean>(() => {}),
    }),
    (e: unknown) => e instanceof VigilError && e.code === ErrorCode.HARNESS_START,
  )
  assert.ok(Date.now() - started < 10_000)
})

test('a tmpDir outlives every t.after hook of its test, even ones registered later', async (t) => {
  let seenInHook = false
  let dir = ''
  await t.test('inner', async (tt) => {
    dir = await tmpDir(tt, 'order')
    tt.after(async () => {
      await sleep(20)
      seenInHook = existsSync(dir)
    })
  })
  assert.equal(seenInHook, true, 'the directory still existed in the later hook')
  assert.equal(existsSync(dir), false, 'and was removed when the test ended')
})

test('a test process ended by SIGTERM stops its services and removes its temp dirs', async (t) => {
  const dir = await tmpDir(t, 'proc')
  const script = join(dir, 'term.mts')
  const index = fileURLToPath(new URL('./index.ts', import.meta.url))
  await writeFile(
    script,
    `import { spawnService, tmpDir } from ${JSON.stringify(index)}\n` +
      `const owner = { after() {} }\n` +
      `const d = await tmpDir(owner, 'sigterm')\n` +
      `const s = await spawnService({ t: null, name: 'sleeper', cmd: 'sleep', args: ['120'], logFile: d + '/l', ready: async () => true })\n` +
      `console.log(JSON.stringify({ pid: s.pid, dir: d }))\nsetInterval(() => {}, 1000)\n`,
  )
  const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.after(() => child.kill('SIGKILL'))
  let out = ''
  child.stdout.on('data', (d: Buffer) => (out += d.toString()))
  const info = await waitFor(() => (out.includes('}') ? (JSON.parse(out) as { pid: number; dir: string }) : null), {
    timeoutMs: 30_000,
    what: 'child output',
  })
  assert.equal(existsSync(info.dir), true)
  const exited = new Promise<NodeJS.Signals | null>((r) => child.once('exit', (_code, sig) => r(sig)))
  child.kill('SIGTERM')
  assert.equal(await exited, 'SIGTERM', 'the process still dies of the signal')
  await waitFor(() => !alive(info.pid), { timeoutMs: 5000, what: 'service to stop' })
  assert.equal(existsSync(info.dir), false)
})
