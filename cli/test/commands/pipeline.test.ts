// `vigil pipeline` against a real collector: it reads /api/pipeline, prints the figures and says
// whether they balance (exit 0), and reports an unreachable collector (exit 69).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { formatVigilStats } from '@vigil/protocol'
import { runCli } from '../../src/cli.ts'
import { collectorInTmp, eventsPusher, waitFor } from '../../../collector/test/helpers.ts'

async function run(argv: string[]) {
  let stdout = ''
  let stderr = ''
  const code = await runCli(argv, {
    stdout: (s) => (stdout += s),
    stderr: (s) => (stderr += s),
    env: {},
    cwd: process.cwd(),
    proc: new EventEmitter(),
  })
  return { code, stdout, stderr }
}

test('vigil pipeline prints the accounting of a running collector and whether it balances', async (t) => {
  const { env, c } = await collectorInTmp(t, 'cli-pipeline')
  const url = `http://${c.internals.httpAddress}`
  const push = eventsPusher(t, env.common.zmq.events!)
  const ev = (i: number) =>
    JSON.stringify({
      '@timestamp': new Date(Date.now() - i * 1000).toISOString(),
      type: 'amavis',
      log_id: `1-${i}`,
      mail_id: `m${i}`,
      action: ['PASS'],
      recipients: [],
      rcpt_to: [],
      mail_from: '',
      content_type: 'Clean',
      message: 'x',
    })
  for (let i = 0; i < 3; i++) await push.send(ev(i))
  // the filters say they produced 4: one is still missing, so it does not balance
  await c.internals.inject('mx-test', [formatVigilStats({ pid: 1, events_produced: 4 })])
  await waitFor(
    async () => (await run(['pipeline', '--url', url, '--json'])).stdout.includes('"indexed": 3'),
    '3 indexed',
  )
  const off = await run(['pipeline', '--url', url])
  assert.equal(off.code, 1, off.stdout + off.stderr)
  assert.match(off.stdout, /^produced\s+4$/m)
  assert.match(off.stdout, /^indexed\s+3$/m)
  assert.match(off.stdout, /NOT balanced/)
  await push.send(ev(3))
  const ok = await waitFor(async () => {
    const r = await run(['pipeline', '--url', url])
    return r.code === 0 ? r : undefined
  }, 'balanced')
  assert.match(ok.stdout, /^balanced: indexed 4 = produced 4/m)
  assert.match(ok.stdout, /^backend\s+embedded up/m)
})

test('vigil pipeline says when the collector cannot be reached', async () => {
  const r = await run(['pipeline', '--url', 'http://127.0.0.1:9'])
  assert.equal(r.code, 69)
  assert.match(r.stderr, /cannot reach the collector at http:\/\/127\.0\.0\.1:9/)
})
