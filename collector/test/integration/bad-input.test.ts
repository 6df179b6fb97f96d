// Garbage on the real inner socket: random and truncated frames, unknown topics, invalid UTF-8
// and 1 MB frames are counted as malformed, never crash the collector, and the bus and the
// responder keep working.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { busClients, collectorInTmp, requester, text, waitFor } from '../helpers.ts'

for (const forwarder of ['native', 'js'] as const)
  test(`counts garbage from a real PUB as malformed and keeps forwarding and answering (${forwarder})`, async (t) => {
    const { env, c } = await collectorInTmp(t, 'collector-bad', {}, { forwarder })
    const { pub, sub } = await busClients(t, env, ['am.st 99 '], 'am.st 99 1700000000.000 -')
    const valid = 'am.st 4321 1700000100.004 m 04321-01'
    let sent = 0
    for (let i = 0; i < 300; i++) {
      await pub.send(randomBytes(1 + (i % 200)))
      await pub.send(valid.slice(0, i % valid.length))
      sent += 2
    }
    const odd: (string | Buffer)[][] = [
      ['am.bogus topic'],
      [Buffer.from([0x61, 0x6d, 0x2e, 0x73, 0x74, 0x20, 0xc3, 0x28])],
      [Buffer.concat([Buffer.from('am.snmp sysDescr STR '), Buffer.alloc(1024 * 1024, 0x61)])],
      ['am.snmp InMsgs C32 1', Buffer.from([0xff])],
    ]
    for (const m of odd) await pub.send(m)
    sent += odd.length
    // everything arrived and was judged before the marker
    await pub.send('am.st 99 1700000100.000 A')
    assert.deepEqual(text(await sub.receive()), ['am.st 99 1700000100.000 A'])
    await waitFor(
      () => c.internals.stats.messagesIn - c.internals.stats.framesInjected >= sent + 1,
      'all messages ingested',
    )
    assert.ok(c.internals.stats.malformed >= 300, `malformed ${c.internals.stats.malformed}`)
    assert.equal(c.internals.totals.get('InMsgs')?.value, '1', 'the good frame of a mixed message still counts')
    assert.equal(c.internals.table.rows().find((r) => r.pid === 99)?.state, 'A')
    const req = requester(t, env.common.zmq.snmp)
    await req.send('am.snmp?')
    assert.ok(text(await req.receive()).includes('am.snmp InMsgs C32 1'))
  })
