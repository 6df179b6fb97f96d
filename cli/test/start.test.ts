// `vigil start` as a process, with the hidden test component (so it does not depend on the real
// components): pid file, `[name]` output, refusal of a second supervisor, clean SIGINT shutdown.
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { it } from 'node:test'

const BIN = fileURLToPath(new URL('../../bin/vigil.mjs', import.meta.url))

function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return false
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH'
  }
}

async function waitForOutput(what: string, check: () => boolean, out: () => string): Promise<void> {
  const deadline = Date.now() + 60_000
  while (!check()) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}:\n${out()}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

it('vigil start supervises its components, restarts them on SIGHUP, stops them all on SIGINT', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-start-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const home = join(dir, 'home')
  const configFile = join(dir, 'vigil.yaml')
  writeFileSync(configFile, 'myhostname: start-test.example\n')
  const env = { ...process.env, VIGIL_CONFIG: '', VIGIL_HOME: '', VIGIL_LOG_LEVEL: '' }
  const sup = spawn(
    process.execPath,
    [BIN, 'start', '--config', configFile, '--home', home, '--only', 'test-component'],
    {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  t.after(() => {
    if (sup.exitCode === null) sup.kill('SIGKILL')
  })
  let out = ''
  sup.stdout.on('data', (d) => (out += d))
  sup.stderr.on('data', (d) => (out += d))
  const exited = new Promise<number | null>((resolve) => sup.on('exit', (code) => resolve(code)))

  const deadline = Date.now() + 60_000
  while (!/\[test-component\] listening: test-component on 127\.0\.0\.1:\d+/.test(out)) {
    assert.ok(Date.now() < deadline, `no listening line from the child:\n${out}`)
    assert.equal(sup.exitCode, null, `supervisor exited early:\n${out}`)
    await new Promise((r) => setTimeout(r, 50))
  }
  assert.equal(readFileSync(join(home, 'vigil.pid'), 'utf8'), `${sup.pid}\n`)
  const childPid = Number(/Process \[(\d+)\] started \(vigil test-component\)/.exec(out)?.[1])
  assert.ok(childPid > 0 && !isGone(childPid))

  const second = spawnSync(process.execPath, [BIN, 'start', '--home', home, '--only', 'test-component'], {
    env,
    encoding: 'utf8',
    timeout: 60_000,
  })
  assert.equal(second.status, 75, second.stderr)
  assert.equal(second.stderr, `vigil: already running with pid ${sup.pid} (${join(home, 'vigil.pid')})\n`)

  // An invalid file on SIGHUP is reported and changes nothing.
  writeFileSync(configFile, 'bogus: 1\n')
  sup.kill('SIGHUP')
  await waitForOutput(
    'the reload verdict',
    () => /Configuration problem: bogus: unknown key \(line 1\)/.test(out),
    () => out,
  )
  assert.ok(!isGone(childPid))
  // A valid one restarts the components.
  writeFileSync(configFile, 'myhostname: reloaded.example\n')
  const reload = spawnSync(process.execPath, [BIN, 'reload', '--home', home], {
    env,
    encoding: 'utf8',
    timeout: 60_000,
  })
  assert.equal(reload.status, 0, reload.stderr)
  assert.equal(reload.stdout, `vigil: reload requested (pid ${sup.pid}); the supervisor logs the outcome\n`)
  const started = () =>
    [...out.matchAll(/Process \[(\d+)\] started \(vigil test-component\)/g)].map((m) => Number(m[1]))
  await waitForOutput(
    'a restarted component',
    () => started().length === 2 && out.split('listening:').length === 3,
    () => out,
  )
  const newPid = started()[1]
  assert.ok(isGone(childPid), 'the old component is gone')
  assert.doesNotMatch(out, /Restarting \(/)

  sup.kill('SIGINT')
  assert.equal(await exited, 0, out)
  assert.ok(isGone(newPid), 'the component is gone')
  assert.ok(!existsSync(join(home, 'vigil.pid')), 'the pid file is removed')
  assert.match(out, /Received SIGINT; stopping every component\./)
  assert.match(out, new RegExp(`Process \\[${newPid}\\] exited \\(vigil test-component\\) after [\\d.]+ s: exit 0`))
  assert.match(out, /Supervisor stopped\./)
})

it('a component stops by itself when its supervisor is killed', async (t) => {
  const home = join(mkdtempSync(join(tmpdir(), 'vigil-start-')), 'home')
  t.after(() => rmSync(join(home, '..'), { recursive: true, force: true }))
  const env = { ...process.env, VIGIL_CONFIG: '', VIGIL_HOME: '', VIGIL_LOG_LEVEL: '' }
  const sup = spawn(process.execPath, [BIN, 'start', '--home', home, '--only', 'test-component'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  sup.stdout.on('data', (d) => (out += d))
  sup.stderr.on('data', (d) => (out += d))
  const exited = new Promise<void>((resolve) => sup.on('exit', () => resolve()))
  t.after(() => {
    if (sup.exitCode === null && sup.signalCode === null) sup.kill('SIGKILL')
  })
  const deadline = Date.now() + 60_000
  let childPid = 0
  // Killed as soon as the child exists, typically while it is still loading: the stop request
  // must not be lost in that window.
  while (!(childPid = Number(/Process \[(\d+)\] started/.exec(out)?.[1] ?? 0))) {
    assert.ok(Date.now() < deadline, `the component did not start:\n${out}`)
    await new Promise((r) => setTimeout(r, 50))
  }
  t.after(() => {
    if (!isGone(childPid)) process.kill(childPid, 'SIGKILL')
  })
  sup.kill('SIGKILL')
  await exited
  const gone = Date.now() + 15_000
  while (!isGone(childPid)) {
    assert.ok(Date.now() < gone, `component ${childPid} outlived its supervisor`)
    await new Promise((r) => setTimeout(r, 50))
  }
})

it('vigil stop stops the supervisor of a home and waits for it', async (t) => {
  const home = join(mkdtempSync(join(tmpdir(), 'vigil-start-')), 'home')
  t.after(() => rmSync(join(home, '..'), { recursive: true, force: true }))
  const env = { ...process.env, VIGIL_CONFIG: '', VIGIL_HOME: '', VIGIL_LOG_LEVEL: '' }
  const sup = spawn(process.execPath, [BIN, 'start', '--home', home, '--only', 'test-component'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  t.after(() => {
    if (sup.exitCode === null && sup.signalCode === null) sup.kill('SIGKILL')
  })
  let out = ''
  sup.stdout.on('data', (d) => (out += d))
  sup.stderr.on('data', (d) => (out += d))
  const exited = new Promise<number | null>((resolve) => sup.on('exit', (code) => resolve(code)))
  await waitForOutput(
    'the component',
    () => out.includes('listening:'),
    () => out,
  )
  const childPid = Number(/Process \[(\d+)\] started/.exec(out)?.[1])

  const stop = spawn(process.execPath, [BIN, 'stop', '--home', home], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stopOut = ''
  stop.stdout.on('data', (d) => (stopOut += d))
  stop.stderr.on('data', (d) => (stopOut += d))
  const stopCode = await new Promise<number | null>((resolve) => stop.on('exit', (code) => resolve(code)))
  assert.equal(stopCode, 0, stopOut)
  assert.equal(stopOut, `vigil: stopped (pid ${sup.pid})\n`)
  assert.equal(await exited, 0, out)
  assert.match(out, /Received SIGTERM; stopping every component\./)
  assert.ok(isGone(childPid))
  assert.ok(!existsSync(join(home, 'vigil.pid')))
})

it("a component's own bugs are logged with their stacks: a rejection is survived, an exception is exit 70 and a restart", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-start-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const home = join(dir, 'home')
  const env = {
    ...process.env,
    VIGIL_CONFIG: '',
    VIGIL_HOME: '',
    VIGIL_LOG_LEVEL: '',
    VIGIL_TEST_COMPONENT_BUG_MS: '300',
  }
  const sup = spawn(process.execPath, [BIN, 'start', '--home', home, '--only', 'test-component'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  t.after(() => {
    if (sup.exitCode === null) sup.kill('SIGKILL')
  })
  let out = ''
  sup.stdout.on('data', (d) => (out += d))
  sup.stderr.on('data', (d) => (out += d))
  const exited = new Promise<number | null>((resolve) => sup.on('exit', (code) => resolve(code)))
  const started = () =>
    [...out.matchAll(/Process \[(\d+)\] started \(vigil test-component\)/g)].map((m) => Number(m[1]))
  await waitForOutput(
    'a restart after the exception',
    () => started().length >= 2,
    () => out,
  )
  const first = started()[0]
  const lines = out.split('\n')
  const rejection = lines.find((l) =>
    /Unhandled promise rejection: the operation failed, the component goes on\./.test(l),
  )
  assert.ok(rejection, out)
  assert.match(rejection, /rejected on purpose/)
  assert.match(rejection, /stack=.*test-component\.ts/, 'the stack is in the line')
  assert.match(rejection, /count=1/)
  const fatal = lines.find((l) => /Uncaught exception: stopping for the supervisor to restart this component\./.test(l))
  assert.ok(fatal, out)
  assert.match(fatal, /thrown on purpose/)
  assert.match(fatal, /exit_code=70/)
  assert.ok(out.indexOf(rejection) < out.indexOf(fatal), 'the component went on after the rejection')
  assert.match(out, new RegExp(`Process \\[${first}\\] exited \\(vigil test-component\\) after [\\d.]+ s: exit 70`))
  sup.kill('SIGINT')
  assert.equal(await exited, 0, out)
})
