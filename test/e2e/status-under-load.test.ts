// Acceptance: under smtp-source load, `amavis-status` (the real bin, plain mode) shows the busy
// filter workers with sensible state letters. Real collector (bus + minder) and filter in this
// process, a real Postfix smtp-sink that answers DATA slowly, and real smtp-source.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { copyFileSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { STATE_LETTERS } from '@vigil/protocol'
import { framesEpochMs, parseFramesFile, replayPlain } from '@vigil/status-cli/replay.ts'
import { runSmtpSource, waitFor } from '../harness/index.ts'
import { needs, ROOT, startStack } from './stack.ts'

const BIN = join(ROOT, 'bin/amavis-status.mjs')
const HEADER =
  'process-id task-id     elapsed in    elapsed-bar (dots indicate idle)\n           or state   idle or busy\n'

test('under smtp-source load, amavis-status -c shows the busy filter workers with sensible letters', async (t) => {
  if (!needs(t, 'collector/src/app.ts', 'filter-core/src/app.ts')) return
  const stack = await startStack(t, {
    name: 'e2e-status',
    myhostname: 'status.e2e.test',
    maxServers: 3,
    sink: { dataDelaySecs: 1 },
  })
  const { home, outer, filterPort } = stack
  const sink = stack.sink!

  const recording = join(home, 'load.frames')
  const child = spawn(process.execPath, [BIN, '-c', '12', '-w', '1', '--connect', outer, '--record', recording], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, VIGIL_CONFIG: '' },
  })
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  let out = ''
  let err = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d))
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d))
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  // The viewer is up once its first cycle is drawn; then the load starts.
  await waitFor(() => / idling processes\n/.test(err), { timeoutMs: 60_000, what: 'the first amavis-status cycle' })

  const load = runSmtpSource({ port: filterPort, count: 9, sessions: 3, sizeBytes: 2000, timeoutMs: 120_000 })
  assert.equal(await exited, 0, err)
  const src = await load
  assert.equal(src.code, 0, src.stderr)
  await sink.waitForMessages(9, 60_000)

  if (process.env.VIGIL_SHOW_OUTPUT) process.stderr.write(err)
  assert.equal(out, HEADER + '\n'.repeat(12), 'stdout carries only the header and the cycle separators')
  const busy = err.split('\n').filter((l) => l.startsWith('PID '))
  assert.ok(busy.length > 0, `no busy worker was ever shown:\n${err}\n${stack.logs}`)
  const letters = new Set<string>(STATE_LETTERS)
  const pids = new Set<number>()
  for (const line of busy) {
    const m = /^PID +(\d+): (\S+) +(?:\d+d|  )\d+:\d\d:\d\d (\S+)$/.exec(line)
    assert.ok(m, `malformed line ${JSON.stringify(line)}`)
    pids.add(Number(m[1]))
    const [, , label, bar] = m
    assert.ok(
      /^\d{5,}-\d+(-\d+)?$/.test(label) || letters.has(label),
      `label ${label} is neither a task id nor a state letter`,
    )
    assert.match(bar, /^[AbmdGDVSPrQF=.:?]*>?$/, `bar ${bar}`)
    if (/^\d{5,}-/.test(label))
      assert.equal(Number(label.split('-')[0]), Number(m[1]), 'the task id starts with the pid')
  }
  assert.ok(pids.size <= 3, `more busy PIDs than workers: ${[...pids]}`)
  assert.ok(!pids.has(process.pid), 'the busy PIDs are worker processes')
  assert.ok(
    busy.some((l) => /[dF]/.test(l.slice(l.lastIndexOf(' ') + 1))),
    `a worker waiting on the slow next hop shows d or F in its bar:\n${busy.join('\n')}`,
  )
  const counts = [...err.matchAll(/^(\d+) active, (\d+) idling processes$/gm)].map((m) => [Number(m[1]), Number(m[2])])
  assert.equal(counts.length, 12)
  assert.ok(
    counts.some(([a]) => a >= 2),
    `two or more workers busy at once under 3 parallel sessions: ${JSON.stringify(counts)}`,
  )
  assert.ok(
    counts.every(([a, i]) => a + i <= 3 + 1),
    `never more processes than workers: ${JSON.stringify(counts)}`,
  )

  // The recording replays to the same kind of screens (timing aside, live and replay differ by
  // when exactly a timer fired), so it can serve as a fixture of what our filter publishes.
  const text = readFileSync(recording, 'utf8')
  if (process.env.VIGIL_KEEP_RECORDING) copyFileSync(recording, process.env.VIGIL_KEEP_RECORDING)
  const messages = parseFramesFile(text)
  assert.ok(
    messages.some((m) => m.parts.some((p) => / F \d{5,}-\d+$/.test(p))),
    "the recording has the workers' F states",
  )
  const replayed = replayPlain(messages, { count: 40, waitSecs: 1, epochMs: framesEpochMs(text) })
  assert.ok(/^PID +\d+: \d{5,}-\d+ +0:00:0\d F/m.test(replayed.stderr), replayed.stderr)
})
