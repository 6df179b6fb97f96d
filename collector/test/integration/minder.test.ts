// childproc-minder against real processes: liveness probes with kill(pid, 0), purge and ProcGone,
// opt-in TERM of overdue children, and remote hosts' PIDs never signalled. The collector's clock is
// shifted forward instead of sleeping through the minder's 10 s / 15 min thresholds.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { once } from 'node:events'
import type { Subscriber } from 'zeromq'
import { createLogger, formatAbsTime } from '@vigil/protocol'
import { tmpDir, type Owner } from '../../../test/harness/index.ts'
import { createCollector } from '../../src/app.ts'
import { amavisChild, outerSubscriber, syncBus, testConfig, text, waitFor, type TestEnv } from '../helpers.ts'

function sleeper(t: Owner): ChildProcess {
  const c = spawn('sleep', ['60'], { stdio: 'ignore' })
  t.after(() => {
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  })
  return c
}

async function start(t: Owner, env: TestEnv) {
  let offset = 0
  const log = createLogger({ name: 'collector', level: 'debug', write: (l) => env.logs.push(l) })
  const c = createCollector(env.common, env.cfg, { log, now: () => Date.now() / 1000 + offset })
  t.after(() => c.stop())
  await c.start()
  return { c, advance: (secs: number) => (offset += secs) }
}

/** Next message on `sub` whose first frame starts with `prefix` (others are skipped). */
async function next(sub: Subscriber, prefix: string): Promise<string[]> {
  for (;;) {
    const m = text(await sub.receive())
    if (m[0].startsWith(prefix)) return m
  }
}

test('purges a local child that died without a word, publishes purged and counts ProcGone', async (t) => {
  const dir = await tmpDir(t, 'collector-minder')
  const env = testConfig(dir)
  const { c, advance } = await start(t, env)
  const child = sleeper(t)
  const pid = child.pid!
  const pub = amavisChild(t, env.common.zmq.inner[0])
  const sub = outerSubscriber(t, env.common.zmq.outer, ['am.st ', 'am.nanny ', 'am.proc.'])
  await syncBus(pub, sub, 'am.proc.busy 999999')
  await pub.send(`am.st ${pid} ${formatAbsTime(Date.now() / 1000)} A`)
  await waitFor(() => c.internals.table.size === 1, 'row for the child')
  advance(11)
  await c.internals.minderRound()
  assert.equal(c.internals.table.size, 1, 'alive: kept')
  assert.deepEqual(await next(sub, 'am.proc.busy'), [`am.proc.busy ${pid}`])
  child.kill('SIGKILL')
  await once(child, 'exit')
  advance(11)
  await c.internals.minderRound()
  const purged = await next(sub, `am.st ${pid} `)
  assert.match(purged[0], new RegExp(`^am\\.st ${pid} \\d{10}\\.\\d{3} purged$`))
  const nanny = await next(sub, 'am.nanny ')
  assert.deepEqual(nanny.slice(-4), [
    'am.nanny ProcGone C32 1',
    'am.nanny ProcAll G32 0',
    'am.nanny ProcBusy G32 0',
    'am.nanny ProcIdle G32 0',
  ])
  assert.equal(c.internals.table.size, 0)
  await waitFor(() => c.internals.totals.get('ProcGone')?.value === '1', 'ProcGone total')
  assert.match(env.logs.join('\n'), new RegExp(`PID ${pid} went away`))
})

test('sends SIGTERM to an overdue local child only with kill_overdue', async (t) => {
  const dir = await tmpDir(t, 'collector-minder')
  const env = testConfig(dir, {}, { kill_overdue: true, active_ttl_secs: 60 })
  const { c, advance } = await start(t, env)
  const child = sleeper(t)
  const pub = amavisChild(t, env.common.zmq.inner[0])
  await syncBus(pub, outerSubscriber(t, env.common.zmq.outer))
  await pub.send(`am.st ${child.pid} ${formatAbsTime(Date.now() / 1000)} m ${child.pid}-01`)
  await waitFor(() => c.internals.table.size === 1, 'row for the child')
  const exited = once(child, 'exit')
  advance(61)
  await c.internals.minderRound()
  const [, signal] = await exited
  assert.equal(signal, 'SIGTERM')
  assert.equal(c.internals.stats.signalsSent, 1)
  advance(3)
  await c.internals.minderRound()
  assert.equal(c.internals.table.size, 0, 'terminated child purged on the next check')
  assert.equal(c.internals.table.goneTotal, 0, 'terminated, not gone')
})

test('leaves an overdue child alone by default', async (t) => {
  const dir = await tmpDir(t, 'collector-minder')
  const env = testConfig(dir, {}, { active_ttl_secs: 60 })
  const { c, advance } = await start(t, env)
  const child = sleeper(t)
  const pub = amavisChild(t, env.common.zmq.inner[0])
  await syncBus(pub, outerSubscriber(t, env.common.zmq.outer))
  await pub.send(`am.st ${child.pid} ${formatAbsTime(Date.now() / 1000)} m ${child.pid}-01`)
  await waitFor(() => c.internals.table.size === 1, 'row for the child')
  advance(61)
  await c.internals.minderRound()
  await new Promise((r) => setTimeout(r, 100))
  assert.equal(child.exitCode, null)
  assert.equal(child.signalCode, null)
  assert.match(env.logs.join('\n'), /is overdue/)
})

test('keys rows by the host endpoint; a remote PID is never signalled and goes stale after its TTL', async (t) => {
  const dir = await tmpDir(t, 'collector-minder')
  const far = `ipc://${join(dir, 'far.sock')}`
  const env = testConfig(
    dir,
    {},
    { kill_overdue: true, active_ttl_secs: 60, remote_busy_ttl_secs: 120, hosts: [{ name: 'far', endpoint: far }] },
  )
  const { c, advance } = await start(t, env)
  const child = sleeper(t)
  const local = amavisChild(t, env.common.zmq.inner[0])
  const remote = amavisChild(t, far)
  const watch = outerSubscriber(t, env.common.zmq.outer)
  await syncBus(local, watch)
  await syncBus(remote, watch)
  const abs = formatAbsTime(Date.now() / 1000)
  await remote.send(`am.st ${child.pid} ${abs} V ${child.pid}-01`)
  await local.send(`am.st ${process.pid} ${abs} -`)
  await waitFor(() => c.internals.table.size === 2, 'two rows')
  assert.deepEqual(
    c.internals.table.rows().map((r) => [r.host, r.pid, r.local]),
    [
      ['far', child.pid, false],
      ['mx-test', process.pid, true],
    ],
  )
  advance(100) // overdue by the local TTL, within the remote TTL
  await c.internals.minderRound()
  assert.equal(child.signalCode, null)
  assert.equal(c.internals.table.size, 2)
  advance(30)
  await c.internals.minderRound()
  assert.deepEqual(
    c.internals.table.rows().map((r) => r.host),
    ['mx-test'],
  )
  assert.equal(child.exitCode, null, 'never signalled')
  assert.equal(c.internals.stats.signalsSent, 0)
})

test('refuses a remote host named like this host, whose PIDs would otherwise be signalled here', async (t) => {
  const dir = await tmpDir(t, 'collector-minder')
  const env = testConfig(dir, {}, { hosts: [{ name: 'mx-test', endpoint: `ipc://${join(dir, 'x.sock')}` }] })
  const log = createLogger({ name: 'collector', write: () => {} })
  assert.throws(() => createCollector(env.common, env.cfg, { log }), { code: 'VIGIL_ERR_CONFIG_INVALID' })
})
