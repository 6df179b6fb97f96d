// The JS ZMTP publisher against real libzmq peers (zeromq.js SUB and XSUB, bound as msg-forwarder
// and the collector bind the inner socket): tcp over IPv4 and IPv6, ipc, multi-part and long
// frames, prefix subscriptions, reconnecting when the peer comes back, and peers that are not a
// subscriber or do not speak ZMTP at all (reported, retried, never a crash).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { Pull, Subscriber, XSubscriber } from 'zeromq'
import { createZmtpPublisher, createZmtpPusher, zmtpSupports, type ZmtpPublisher } from '../../src/telemetry/zmtp.ts'
import { freePort, tmpDir } from '../../../test/harness/index.ts'

async function until(pred: () => boolean, what: string, ms = 5000) {
  const end = Date.now() + ms
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** Sends `msgs` until the subscriber has seen `probe` (subscriptions take a moment to arrive). */
async function sendWhenJoined(pub: ZmtpPublisher, got: string[][], probe = 'am.st join') {
  await until(() => {
    pub.send([probe])
    return got.some((m) => m[0] === probe)
  }, 'the subscriber to join')
  await new Promise((r) => setTimeout(r, 150)) // probes still in flight
  got.length = 0
}

function collect(sock: Subscriber | XSubscriber): string[][] {
  const got: string[][] = []
  void (async () => {
    try {
      for await (const parts of sock) got.push(parts.map((p) => p.toString('utf8')))
    } catch {
      /* closed */
    }
  })()
  return got
}

for (const [label, host] of [
  ['IPv4', '127.0.0.1'],
  ['IPv6', '::1'],
] as const) {
  test(`delivers one-part and multi-part messages over tcp (${label}), long frames and UTF-8 intact`, async (t) => {
    const port = await freePort(host)
    const ep = host.includes(':') ? `tcp://[${host}]:${port}` : `tcp://${host}:${port}`
    const sub = new Subscriber({ linger: 0, ipv6: host.includes(':') })
    await sub.bind(ep)
    sub.subscribe()
    t.after(() => sub.close())
    const got = collect(sub)
    const pub = createZmtpPublisher({ endpoints: [ep] })
    t.after(() => pub.close(0))
    await sendWhenJoined(pub, got)
    const long = 'am.snmp entropy STR ' + 'x'.repeat(300)
    pub.send(['am.st 1 2.000 A', ['am.snmp InMsgs C32 1', long, 'am.snmp Ünïcödé STR é']])
    await until(() => got.length === 2, 'two messages')
    assert.deepEqual(got, [['am.st 1 2.000 A'], ['am.snmp InMsgs C32 1', long, 'am.snmp Ünïcödé STR é']])
  })
}

test('sends each message only to peers subscribed to a prefix of it (an XSUB forwards its subscriptions)', async (t) => {
  const home = await tmpDir(t, 'zmtp-sub-')
  const epA = `ipc://${join(home, 'a.sock')}`
  const epB = `ipc://${join(home, 'b.sock')}`
  const a = new Subscriber({ linger: 0 })
  await a.bind(epA)
  a.subscribe('am.st')
  const b = new XSubscriber({ linger: 0 })
  await b.bind(epB)
  t.after(() => {
    a.close()
    b.close()
  })
  const gotA = collect(a)
  const gotB = collect(b)
  const pub = createZmtpPublisher({ endpoints: [epA, epB] })
  t.after(() => pub.close(0))
  await sendWhenJoined(pub, gotA)
  // The XSUB subscribes by sending the subscription message itself.
  await b.send(Buffer.from('\x01am.snmp'))
  await until(() => {
    pub.send(['am.snmp probe'])
    return gotB.length > 0
  }, 'the XSUB subscription')
  await new Promise((r) => setTimeout(r, 150))
  gotA.length = 0
  gotB.length = 0
  pub.send(['am.st 7 1.000 A', ['am.snmp InMsgs C32 1'], 'am.proc.busy 7'])
  await until(() => gotA.length === 1 && gotB.length === 1, 'one message each')
  await new Promise((r) => setTimeout(r, 100))
  assert.deepEqual(gotA, [['am.st 7 1.000 A']])
  assert.deepEqual(gotB, [['am.snmp InMsgs C32 1']])
  // Cancelled: nothing more for B.
  await b.send(Buffer.from('\x00am.snmp'))
  await new Promise((r) => setTimeout(r, 100))
  pub.send([['am.snmp InMsgs C32 1'], 'am.st 7 2.000 -'])
  await until(() => gotA.length === 2, 'the second am.st')
  await new Promise((r) => setTimeout(r, 100))
  assert.equal(gotB.length, 1)
})

test('reconnects when the subscriber comes back on the same endpoint', async (t) => {
  const home = await tmpDir(t, 'zmtp-reconnect-')
  const ep = `ipc://${join(home, 'bus.sock')}`
  const pub = createZmtpPublisher({ endpoints: [ep], reconnectMs: 50 })
  t.after(() => pub.close(0))
  // Nobody there yet: sends go nowhere, nothing throws.
  pub.send(['am.st 1 1.000 A'])
  for (let round = 0; round < 2; round++) {
    const sub = new Subscriber({ linger: 0 })
    await sub.bind(ep)
    sub.subscribe()
    const got = collect(sub)
    await sendWhenJoined(pub, got)
    pub.send([`am.st 1 ${round}.000 m`])
    await until(() => got.length === 1, `round ${round}`)
    assert.deepEqual(got, [[`am.st 1 ${round}.000 m`]])
    sub.close()
  }
})

test('a peer that is not a subscriber, or does not speak ZMTP, is reported and retried, never a crash', async (t) => {
  const home = await tmpDir(t, 'zmtp-bad-')
  const pullEp = `ipc://${join(home, 'pull.sock')}`
  const pull = new Pull({ linger: 0 })
  await pull.bind(pullEp)
  t.after(() => pull.close())
  const junkPort = await freePort()
  let junkConnections = 0
  const junk = createServer((c) => {
    junkConnections++
    c.on('error', () => {})
    c.end(Buffer.alloc(80, 0x41))
  })
  await new Promise<void>((r) => junk.listen(junkPort, '127.0.0.1', r))
  t.after(() => junk.close())
  const errors: string[] = []
  const pub = createZmtpPublisher({
    endpoints: [pullEp, `tcp://127.0.0.1:${junkPort}`],
    reconnectMs: 50,
    onError: (e) => errors.push((e as Error).message),
  })
  t.after(() => pub.close(0))
  await until(() => junkConnections >= 2, 'a retry of the junk peer')
  await until(
    () =>
      errors.some((e) => /socket type PULL|pull\.sock: peer closed the connection during the ZMTP handshake/.test(e)),
    'the PULL peer to be refused',
  )
  assert.ok(
    errors.some((e) => /does not speak ZMTP 3/.test(e)),
    errors.join('; '),
  )
  pub.send(['am.st 1 1.000 A'])
  assert.equal(pub.dropped, 0)
})

test('knows which endpoints it can reach without libzmq', () => {
  assert.equal(zmtpSupports('ipc:///var/amavis/amavisd-zmq.sock'), true)
  assert.equal(zmtpSupports('ipc://@abstract'), true)
  assert.equal(zmtpSupports('tcp://127.0.0.1:23232'), true)
  assert.equal(zmtpSupports('tcp://[::1]:23232'), true)
  assert.equal(zmtpSupports('tcp://localhost:23232'), true)
  assert.equal(zmtpSupports('inproc://bus'), false)
  assert.equal(zmtpSupports('tcp://*:23232'), false)
  assert.equal(zmtpSupports('epgm://eth0;239.192.1.1:5555'), false)
})

test('PUSH hands bursts to a PULL peer in order, and takes nothing while no peer is connected', async (t) => {
  const home = await tmpDir(t, 'zmtp-push-')
  const ep = `ipc://${join(home, 'events.sock')}`
  const pusher = createZmtpPusher({ endpoints: [ep], reconnectMs: 50 })
  t.after(() => pusher.close(0))
  assert.equal(pusher.push(['{"n":0}']), 0, 'no peer yet: nothing taken')
  const pull = new Pull({ linger: 0 })
  await pull.bind(ep)
  t.after(() => pull.close())
  const got: string[] = []
  void (async () => {
    try {
      for await (const [m] of pull) got.push(m.toString())
    } catch {
      /* closed */
    }
  })()
  await until(() => pusher.push(['{"n":0}']) === 1, 'the PULL peer to be ready')
  for (let i = 1; i <= 1000; i += 100)
    assert.equal(pusher.push(Array.from({ length: 100 }, (_, k) => `{"n":${i + k}}`)), 100)
  await until(() => got.length === 1001, 'all 1001 events')
  assert.deepEqual(
    got.map((g) => JSON.parse(g).n),
    Array.from({ length: 1001 }, (_, i) => i),
  )
})
