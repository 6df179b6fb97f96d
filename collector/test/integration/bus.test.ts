// msg-forwarder behaviour against real zeromq peers: an amavis-style child PUB on the inner
// socket, a SUB on the outer socket, multi-part boundaries and bytes preserved.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { Subscriber } from 'zeromq'
import { createLogger } from '@vigil/protocol'
import { createCollector } from '../../src/app.ts'
import { tmpDir, freePort } from '../../../test/harness/index.ts'
import {
  amavisChild,
  busClients,
  collectorInTmp,
  outerSubscriber,
  startCollector,
  syncBus,
  testConfig,
  text,
  waitFor,
} from '../helpers.ts'

const COLD_START = [
  'am.snmp sysDescr STR amavis-2.13.0 (20230106)',
  'am.snmp sysObjectID OID 1.3.6.1.4.1.15312.2',
  'am.snmp sysUpTime INT 1700000000',
  'am.snmp sysContact STR ',
  'am.snmp sysName STR mx1.example.net',
  'am.snmp sysLocation STR ',
  'am.snmp sysServices INT 64',
]

for (const forwarder of ['native', 'js'] as const) {
  test(`republishes every inner message unchanged, multi-part boundaries included (${forwarder} forwarder)`, async (t) => {
    const { env, c } = await collectorInTmp(t, 'collector-bus', {}, { forwarder })
    const { pub, sub } = await busClients(t, env)

    const sent: string[][] = [
      ['am.st 4321 1700000100.000 A'],
      ['am.st 4321 1 b'],
      ['am.st 4321 1700000100.004 m 04321-01'],
      COLD_START,
      ['am.snmp InMsgs C32 1', 'am.snmp InMsgsSize C64 2345', 'am.snmp TimeElapsedTotal C32 1954'],
      ['am.st 4321 2110 .'],
      ['am.log.** 4321 1700000100.500 not emitted by 2.13 but forwarded'],
    ]
    for (const m of sent) await pub.send(m)
    const got: string[][] = []
    while (got.length < sent.length) got.push(text(await sub.receive()))
    assert.deepEqual(got, sent)
    // the forwarder path also fed the minder and the responder
    await waitFor(() => c.internals.table.rows().find((r) => r.pid === 4321)?.state === '.', 'table updated')
    assert.equal(c.internals.totals.get('InMsgs')?.value, '1')
    assert.equal(c.internals.stats.malformed, 0)
    assert.ok(c.describe().some((l) => l.includes(forwarder === 'native' ? 'native proxy' : 'js forwarder')))
  })
}

test('counts malformed frames; the js forwarder drops them, the native one forwards them as amavis does', async (t) => {
  for (const forwarder of ['js', 'native'] as const) {
    const { env, c } = await collectorInTmp(t, 'collector-bus', {}, { forwarder })
    const { pub, sub } = await busClients(t, env)
    await pub.send([Buffer.from([0xff, 0x00, 0xfe])])
    await pub.send('am.st 12 garbage')
    await pub.send('am.st 12 1700000100.000 A')
    const first = text(await sub.receive())
    if (forwarder === 'js') assert.deepEqual(first, ['am.st 12 1700000100.000 A'])
    else {
      assert.deepEqual(first, [Buffer.from([0xff, 0x00, 0xfe]).toString('utf8')])
      assert.deepEqual(text(await sub.receive()), ['am.st 12 garbage'])
    }
    await waitFor(() => c.internals.stats.malformed === 2, `${forwarder}: two malformed frames counted`)
    assert.equal(c.internals.stats.droppedMalformed, forwarder === 'js' ? 2 : 0)
    await c.stop()
  }
})

test('a subscriber to am.st sees only am.st messages, as amavisd-status subscribes', async (t) => {
  const { env } = await collectorInTmp(t, 'collector-bus')
  // an am.proc.busy probe syncs the subscription; then am.snmp must be filtered out, am.st not
  const { pub, sub: st } = await busClients(t, env, ['am.st ', 'am.proc.'], 'am.proc.busy 999999')
  await pub.send(['am.snmp InMsgs C32 1'])
  await pub.send(['am.st 77 1700000100.000 A'])
  assert.deepEqual(text(await st.receive()), ['am.st 77 1700000100.000 A'])
})

test('binds tcp inner and outer endpoints on IPv6 loopback', async (t) => {
  const dir = await tmpDir(t, 'collector-bus6')
  const [pi, po] = [await freePort(), await freePort()]
  const env = testConfig(dir, {
    zmq: {
      inner: [`tcp://[::1]:${pi}`],
      outer: `tcp://[::1]:${po}`,
      snmp: `ipc://${join(dir, 'snmp.sock')}`,
      events: `ipc://${join(dir, 'events.sock')}`,
    },
  })
  await startCollector(t, env)
  const pub = amavisChild(t, `tcp://[::1]:${pi}`)
  const sub = outerSubscriber(t, `tcp://[::1]:${po}`)
  await syncBus(pub, sub)
  await pub.send(['am.snmp InMsgs C32 1', 'am.snmp InMsgsRecips C32 2'])
  assert.deepEqual(text(await sub.receive()), ['am.snmp InMsgs C32 1', 'am.snmp InMsgsRecips C32 2'])
})

test('the minder announces itself with am.st <pid> <abs> FLUSH one second after start', async (t) => {
  const dir = await tmpDir(t, 'collector-bus')
  const env = testConfig(dir)
  // connected before the collector binds, as a long-running amavisd-status would be
  const sub = outerSubscriber(t, env.common.zmq.outer)
  await startCollector(t, env)
  const flush = text(await sub.receive())
  assert.equal(flush.length, 1)
  assert.match(flush[0], new RegExp(`^am\\.st ${process.pid} \\d{10}\\.\\d{3} FLUSH$`))
})

test('publishes each minder round on the outer bus: one am.nanny message, then the two PID lists', async (t) => {
  const { env, c } = await collectorInTmp(t, 'collector-bus')
  const sub = outerSubscriber(t, env.common.zmq.outer, ['am.nanny ', 'am.proc.'])
  const pub = amavisChild(t, env.common.zmq.inner[0])
  await syncBus(pub, sub, 'am.proc.busy 999999')
  await c.internals.minderRound()
  const nanny = text(await sub.receive())
  assert.equal(nanny.length, 30)
  assert.ok(nanny.every((f) => f.startsWith('am.nanny ')))
  assert.deepEqual(text(await sub.receive()), ['am.proc.busy '])
  assert.deepEqual(text(await sub.receive()), ['am.proc.idle '])
  await waitFor(() => c.internals.totals.get('ProcAll')?.value === '0', 'ProcAll in totals')
  assert.match(env.logs.join('\n'), /Collector started/)
})

test('with outer_nodrop, a stuck subscriber makes the js forwarder refuse and count messages instead of queueing', async (t) => {
  const { env, c } = await collectorInTmp(
    t,
    'collector-bus',
    {},
    { forwarder: 'js', outer_nodrop: true, outer_hwm: 10 },
  )
  const { pub, sub: live } = await busClients(t, env)
  live.close() // only the stuck subscriber remains
  const stuck = new Subscriber({ linger: 0, receiveHighWaterMark: 10 })
  stuck.connect(env.common.zmq.outer)
  stuck.subscribe('')
  t.after(() => stuck.close())
  const before = { ...c.internals.stats }
  // the stuck subscriber may take a moment to connect under load: send until refusals show up
  let sent = 0
  await waitFor(async () => {
    for (let i = 0; i < 500; i++, sent++) await pub.send(`am.st ${1000 + (sent % 50)} ${sent} V ${sent}-01`)
    await new Promise((r) => setTimeout(r, 50))
    return c.internals.stats.droppedHwm > before.droppedHwm
  }, 'HWM refusals counted')
  await waitFor(
    () =>
      c.internals.stats.messagesIn - before.messagesIn - (c.internals.stats.framesInjected - before.framesInjected) >=
      sent,
    'all ingested',
  )
  const s = c.internals.stats
  const out = s.messagesOut - before.messagesOut
  const dropped = s.droppedHwm - before.droppedHwm
  assert.ok(dropped > 0 && out > 0)
  assert.equal(out + dropped, s.messagesIn - before.messagesIn, 'every message either sent or counted as refused')
})

test('refuses to start on ipc endpoints another collector is listening on, and leaves that one working', async (t) => {
  const { env, c: first } = await collectorInTmp(t, 'collector-bus')
  const second = createCollector(env.common, env.cfg, { log: createLogger({ name: 'second', write: () => {} }) })
  await assert.rejects(second.start(), { code: 'VIGIL_ERR_ZMQ_BIND_FAILED', message: /another process is listening/ })
  await second.stop()
  const { pub } = await busClients(t, env)
  await pub.send('am.st 5 1700000100.000 A')
  await waitFor(() => first.internals.table.size === 1, 'first collector still ingesting')
})
