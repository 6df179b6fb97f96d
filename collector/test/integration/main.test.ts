// The standalone entry (src/main.ts): config file → start → SIGTERM → clean exit with the totals
// saved; an invalid config exits 78 (EX_CONFIG) listing every problem.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { tmpDir } from '../../../test/harness/index.ts'
import { waitFor } from '../helpers.ts'

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url))

function run(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  child.stderr.on('data', (d) => (out += d))
  return { child, output: () => out, exit: once(child, 'exit') as Promise<[number | null, string | null]> }
}

test('runs from a config file, prints where it listens and stops cleanly on SIGTERM', async (t) => {
  const dir = await tmpDir(t, 'collector-main')
  const cfg = join(dir, 'vigil.yaml')
  await writeFile(
    cfg,
    [
      `home: ${dir}`,
      'zmq:',
      `  outer: ipc://${dir}/outer.sock`,
      `  snmp: ipc://${dir}/snmp.sock`,
      'collector:',
      '  http_listen: 127.0.0.1:0',
      '',
    ].join('\n'),
  )
  const p = run(['--config', cfg])
  t.after(() => {
    if (p.child.exitCode === null) p.child.kill('SIGKILL')
  })
  await waitFor(
    () => /HTTP \(API, \/api\/stream, \/metrics\): http:\/\/127\.0\.0\.1:\d+/.test(p.output()),
    'listening lines',
    30000,
  )
  assert.match(p.output(), new RegExp(`inner SUB \\(localhost\\): ipc://${dir}/amavisd-zmq.sock`))
  p.child.kill('SIGTERM')
  const [code] = await p.exit
  assert.equal(code, 0, p.output())
  assert.match(p.output(), /Collector stopped\./)
  assert.ok(existsSync(join(dir, 'collector-totals.json')))
})

test('exits 78 and lists every problem of an invalid config', async (t) => {
  const dir = await tmpDir(t, 'collector-main')
  const cfg = join(dir, 'vigil.yaml')
  await writeFile(cfg, 'zmq:\n  outer: nowhere\ncollector:\n  outer_hwm: 0\n  kill_overdue: maybe\n')
  const p = run(['--config', cfg])
  const [code] = await p.exit
  assert.equal(code, 78)
  assert.match(p.output(), /zmq\.outer/)
  assert.match(p.output(), /collector\.outer_hwm/)
  assert.match(p.output(), /collector\.kill_overdue/)
})
