// Interop: a REAL amavisd (Debian amavisd-new 2.13, foreground, two pre-forked children, $enable_zmq = 1, every
// check bypassed, forwarding to Postfix's smtp-sink) publishes into Vigil's collector. Its master's
// cold-start burst and its children's am.st/am.snmp land in the collector: /api/status lists the children,
// the collector's responder has InMsgs = N and the master's sysDescr. Amavis loads Amavis::ZMQ on
// the test-only ZMQ::LibZMQ3 shim (README.md).
//
// amavisd refuses a config file in a directory its user can write, and drops root privileges to
// $daemon_user: as root the test runs it as Debian's `amavis` user with a root-owned conf/ dir, and
// opens the collector's inner ipc socket (0777) so that user can connect to it.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { chmodSync, existsSync } from 'node:fs'
import { createLogger } from '@vigil/protocol'
import { createResponderClient } from '@vigil/snmp-agent/responder-client.ts'
import { runSmtpSource, startSmtpSink, waitFor } from '../harness/index.ts'
import { needs, startStack } from '../e2e/stack.ts'
import { assertAmavisInstalled, startAmavisd } from './amavis.ts'

const N = 3
const HOST = 'real-amavisd.interop.test'

test('real amavisd children publish into Vigil collector: /api/status lists them, InMsgs = N, sysDescr is amavis-2.13.0', async (t) => {
  if (!needs(t, 'collector/src/app.ts', 'snmp-agent/src/responder-client.ts')) return
  assertAmavisInstalled()
  assert.ok(existsSync('/usr/sbin/amavisd'), 'needs /usr/sbin/amavisd (Debian package amavisd-new)')
  const stack = await startStack(t, {
    name: 'interop-amavisd',
    myhostname: 'collector.interop.test',
    collector: { http_listen: '127.0.0.1:0', nanny_interval_secs: 1 },
  })
  const inner = stack.common.zmq.inner[0]
  assert.match(inner, /^ipc:\/\//)
  const root = process.getuid?.() === 0
  if (root) {
    await waitFor(() => existsSync(inner.slice('ipc://'.length)), { what: "the collector's inner socket file" })
    chmodSync(inner.slice('ipc://'.length), 0o777)
  }

  const sink = await startSmtpSink(t)
  const amavis = await startAmavisd(t, {
    name: 'interop-amavisd-home',
    myhostname: HOST,
    forwardPort: sink.port,
    conf: ['$enable_zmq = 1;', `@zmq_sockets = ('${inner}');`],
  })

  type Row = { host: string; pid: number; state: string; busy: boolean }
  const status = async () => (await (await fetch(`http://${stack.http}/api/status`)).json()) as { processes: Row[] }
  // An amavisd child creates its ZMQ socket lazily: its first am.st comes with its first connection.
  const src = await runSmtpSource({ port: amavis.port, count: N, sessions: 1, sizeBytes: 800, timeoutMs: 120_000 })
  assert.equal(src.code, 0, src.stderr)
  await sink.waitForMessages(N, 60_000)

  const log = createLogger({ name: 'interop', level: 'warn', write: () => {} })
  const client = createResponderClient({ endpoint: stack.common.zmq.snmp, timeoutMs: 10_000, log })
  t.after(() => client.close())
  const values = await waitFor(
    async () => {
      const v = (await client.query('am.snmp')).values
      return Number(v.get('InMsgs')?.value) >= N ? v : undefined
    },
    { timeoutMs: 60_000, intervalMs: 250, what: `InMsgs = ${N} in Vigil's responder` },
  )
  assert.deepEqual(values.get('InMsgs'), { type: 'C32', value: String(N) })
  assert.equal(values.get('OutMsgs')?.value, String(N))
  // The real master's cold-start burst (spec §2.3) went through Vigil's bus.
  assert.deepEqual(values.get('sysDescr'), { type: 'STR', value: 'amavis-2.13.0 (20230106)' })
  assert.deepEqual(values.get('sysName'), { type: 'STR', value: HOST })

  // The same child, idle again, with the state letters amavis sent; nothing else in the table.
  const after = await waitFor(
    async () => {
      const s = await status()
      return s.processes.every((r) => !r.busy) ? s : undefined
    },
    { timeoutMs: 30_000, what: 'the amavisd child idle after the mail' },
  )
  // Children announce themselves on their first connection, so one or both pre-forked children.
  // amavis task ids are sprintf('%05d', pid) (spec §7.2): PID 5606 logs as (05606-01).
  const taskPrefix = (pid: number) => String(pid).padStart(5, '0')
  assert.ok(after.processes.length >= 1 && after.processes.length <= 2, JSON.stringify(after.processes))
  for (const child of after.processes) {
    assert.notEqual(child.pid, amavis.process.pid, 'a child, not the master')
    assert.equal(child.state, '-', 'idle (amavis sends "-" when the session is over)')
    // amavis writes its log file asynchronously to the ZMQ stream: allow it to catch up.
    await waitFor(() => amavis.log().includes(`amavisd[${child.pid}]: (${taskPrefix(child.pid)}-`), {
      timeoutMs: 15_000,
      what: `PID ${child.pid} to be an amavisd child that logged a task`,
    })
  }
  const logged = amavis.log()
  assert.ok(
    after.processes.some((c) => logged.includes(`amavisd[${c.pid}]: (${taskPrefix(c.pid)}-01) `)),
    'at least one listed child logged the mail it processed',
  )
})
