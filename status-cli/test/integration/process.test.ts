// The real bin/amavis-status.mjs as a process against a zeromq PUB in the test: stdout/stderr
// split, counts, usage, the quiet-bus notice and SIGTERM. No service beyond zeromq is needed.
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Publisher } from 'zeromq'
import { formatAbsTime } from '@vigil/protocol'
import { freePort, tmpDir, waitFor } from '../../../test/harness/index.ts'
import { HEADER } from '../../src/render/format.ts'
import { framesEpochMs, parseFramesFile } from '../../src/replay.ts'

const BIN = fileURLToPath(new URL('../../../bin/amavis-status.mjs', import.meta.url))

interface Run {
  child: ChildProcess
  stdout: () => string
  stderr: () => string
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

function runStatus(t: TestContext, args: string[]): Run {
  const child = spawn(process.execPath, [BIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, VIGIL_CONFIG: '' },
  })
  let out = ''
  let err = ''
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d))
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d))
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  )
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  return { child, stdout: () => out, stderr: () => err, exit }
}

/** Publishes a busy child (4321) and an idle one (4322) every 25 ms until stopped. */
async function startPublisher(
  t: TestContext,
  extra: string[][] = [],
): Promise<{ endpoint: string; sent: () => number }> {
  const port = await freePort()
  const endpoint = `tcp://127.0.0.1:${port}`
  const pub = new Publisher({ linger: 0 })
  await pub.bind(endpoint)
  const base = Date.now() / 1000 - 3.6
  let sent = 0
  let busy = false
  const timer = setInterval(() => {
    if (busy) return
    busy = true
    void (async () => {
      await pub.send(`am.st 4321 ${formatAbsTime(base)} m 04321-01`)
      await pub.send('am.st 4321 1500 S 04321-01')
      await pub.send(`am.st 4322 ${formatAbsTime(base)} -`)
      await pub.send('am.proc.busy 4321')
      await pub.send(['am.snmp InMsgs C32 1'])
      for (const m of extra) await pub.send(m)
      sent++
      busy = false
    })()
  }, 25)
  t.after(() => {
    clearInterval(timer)
    pub.close()
  })
  return { endpoint, sent: () => sent }
}

test('prints the header and blank lines on stdout and the busy processes on stderr (-c 2 -w 0.3)', async (t) => {
  const { endpoint } = await startPublisher(t)
  // Two cycles last about half a second. On a loaded machine the subscription may not be up by
  // the second one; that run is still checked for its shape, and the content is checked on the
  // first run whose last cycle saw the messages (at most three runs).
  let content: string | undefined
  for (let attempt = 1; attempt <= 3 && content === undefined; attempt++) {
    const r = runStatus(t, ['-c', '2', '-w', '0.3', '--connect', endpoint])
    const { code } = await r.exit
    assert.equal(code, 0, r.stderr())
    assert.equal(r.stdout(), HEADER + '\n\n')
    const cycles = r.stderr().match(/^\d+ active, \d+ idling processes$/gm) ?? []
    assert.equal(cycles.length, 2, `exactly two redraws:\n${r.stderr()}`)
    if (cycles[1] === '1 active, 1 idling processes') content = r.stderr()
  }
  assert.ok(content, 'no run received the published messages in time')
  const lines = content.trimEnd().split('\n')
  // The publisher re-sends `m` then `S` every 25 ms: a redraw between the two ends the bar on `m`.
  assert.match(lines.at(-3)!, /^PID {2}4321: 04321-01 {6}0:\d\d:\d\d [=S:]+(>|m)?$/)
  assert.equal(lines.at(-2), '1 active, 1 idling processes')
  assert.equal(lines.at(-1), '*.')
  assert.ok(!content.includes('PID  4322'), 'idle processes are not listed')
  assert.ok(!content.includes('am.snmp'), 'am.snmp is not subscribed to')
})

test('prints the legend and usage on stdout, the reason on stderr, and exits 1 on a bad option', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['-x'], /^amavis-status: unknown option -x\n$/],
    [['-c'], /^amavis-status: option -c needs a value\n$/],
    [['-w', 'soon'], /^amavis-status: bad wait interval "soon"\n$/],
  ]
  for (const [args, why] of cases) {
    const r = runStatus(t, args)
    const { code } = await r.exit
    assert.equal(code, 1)
    assert.match(r.stdout(), /^States legend:\n {2}A {2}accepted a connection\n/)
    assert.match(r.stdout(), /\nUsage: amavis-status \[-c <count>\] \[-w <wait-interval>\]\n/)
    assert.match(r.stderr(), why)
  }
})

test('prints only the header for -c 0', async (t) => {
  const r = runStatus(t, ['-c', '0', '--connect', 'tcp://127.0.0.1:9'])
  assert.equal((await r.exit).code, 0)
  assert.equal(r.stdout(), HEADER)
  assert.equal(r.stderr(), '')
})

test('says so on stderr when nothing answers, keeps waiting, and prints `exited` on SIGTERM', async (t) => {
  const port = await freePort()
  const dir = await tmpDir(t, 'status-quiet')
  const cfg = join(dir, 'vigil.yaml')
  writeFileSync(cfg, `status:\n  no_messages_warn_secs: 0.3\n  wait_secs: 0.2\n`)
  const r = runStatus(t, ['--config', cfg, '--connect', `tcp://127.0.0.1:${port}`, '--plain'])
  await waitFor(() => r.stderr().includes('yet (is the collector'), { timeoutMs: 20_000 })
  assert.match(
    r.stderr(),
    new RegExp(
      `amavis-status: no messages from tcp://127\\.0\\.0\\.1:${port} yet \\(is the collector / amavis-services msg-forwarder running\\?\\)\n`,
    ),
  )
  await waitFor(() => r.stderr().split('0 active, 0 idling processes').length > 3, { timeoutMs: 20_000 })
  assert.equal(r.child.exitCode, null, 'still running')
  r.child.kill('SIGTERM')
  const { code } = await r.exit
  assert.equal(code, 0)
  assert.ok(r.stdout().startsWith(HEADER))
  assert.ok(r.stdout().endsWith('exited\n'), JSON.stringify(r.stdout().slice(-40)))
})

test('exits 78 listing the problems of a bad configuration', async (t) => {
  const dir = await tmpDir(t, 'status-badcfg')
  const cfg = join(dir, 'vigil.yaml')
  writeFileSync(cfg, `status:\n  wait_secs: -1\n  colour: yes\n`)
  const r = runStatus(t, ['--config', cfg, '-c', '1'])
  assert.equal((await r.exit).code, 78)
  assert.match(r.stderr(), /status\.wait_secs/)
  assert.match(r.stderr(), /colour/)
})

test('--record writes what it receives as a replayable .frames file, multi-part messages grouped', async (t) => {
  const dir = await tmpDir(t, 'status-record')
  const file = join(dir, 'rec.frames')
  const { endpoint } = await startPublisher(t, [['am.st 4323 1700000000.000 A', 'am.st 4323 5 b']])
  const before = Date.now()
  const r = runStatus(t, ['--plain', '--connect', endpoint, '--record', file])
  await waitFor(
    () => {
      try {
        return readFileSync(file, 'utf8').includes('+\tam.st 4323 5 b\n')
      } catch {
        return false
      }
    },
    { timeoutMs: 20_000, what: 'the multi-part message in the recording' },
  )
  r.child.kill('SIGTERM')
  assert.equal((await r.exit).code, 0, r.stderr())
  const text = readFileSync(file, 'utf8')
  const epoch = framesEpochMs(text)!
  assert.ok(epoch >= before && epoch <= Date.now(), 'the epoch header is the recording start')
  const msgs = parseFramesFile(text)
  assert.ok(msgs.length > 0)
  assert.ok(
    msgs.some((m) => m.parts.length === 2 && m.parts[1] === 'am.st 4323 5 b'),
    text.slice(0, 400),
  )
  assert.ok(msgs.some((m) => m.parts[0] === 'am.proc.busy 4321'))
  assert.ok(!text.includes('am.snmp'), 'only subscribed topics are recorded')
})

test('--replay prints a recording as the live program would have, stdout and stderr apart', async (t) => {
  const fixture = fileURLToPath(new URL('../fixtures/spec-sample-2.frames', import.meta.url))
  const r = runStatus(t, ['--replay', fixture, '-c', '7', '-w', '1'])
  assert.equal((await r.exit).code, 0, r.stderr())
  assert.equal(r.stdout(), HEADER + '\n'.repeat(7))
  const sample = readFileSync(new URL('../golden/spec-sample-2.spec.txt', import.meta.url), 'utf8')
  assert.ok(r.stderr().endsWith(sample), r.stderr())
})
