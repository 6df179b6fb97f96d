// snmp-responder over a real REQ socket: totals built from frames published by an amavis-style
// child, exact reply frames, and a REP socket that keeps answering after garbage requests.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { Request } from 'zeromq'
import { busClients, collectorInTmp, requester, text, waitFor } from '../helpers.ts'

test('answers am.snmp? with running totals and am.nanny? with the minder gauges', async (t) => {
  const { env, c } = await collectorInTmp(t, 'collector-resp')
  const { pub } = await busClients(t, env)
  await pub.send('am.snmp FLUSH')
  await pub.send([
    'am.snmp sysDescr STR amavis-2.13.0 (20230106)',
    'am.snmp sysObjectID OID 1.3.6.1.4.1.15312.2',
    'am.snmp sysUpTime INT 1700000000',
    'am.snmp sysContact STR ',
    'am.snmp sysName STR mx1.example.net',
    'am.snmp sysLocation STR ',
    'am.snmp sysServices INT 64',
  ])
  for (let i = 0; i < 3; i++)
    await pub.send(['am.snmp InMsgs C32 1', 'am.snmp InMsgsSize C64 2345', 'am.snmp TimeElapsedTotal C32 1954'])
  await waitFor(() => c.internals.stats.messagesIn >= 6, 'messages ingested')
  const req = requester(t, env.common.zmq.snmp)
  await req.send('am.snmp?')
  assert.deepEqual(text(await req.receive()), [
    'am.snmp sysDescr STR amavis-2.13.0 (20230106)',
    'am.snmp sysObjectID OID 1.3.6.1.4.1.15312.2',
    'am.snmp sysUpTime INT 1700000000',
    'am.snmp sysContact STR ',
    'am.snmp sysName STR mx1.example.net',
    'am.snmp sysLocation STR ',
    'am.snmp sysServices INT 64',
    'am.snmp InMsgs C32 3',
    'am.snmp InMsgsSize C64 7035',
    'am.snmp TimeElapsedTotal C32 5862',
  ])
  await req.send('am.nanny?')
  assert.deepEqual(text(await req.receive()), ['am.error no-data am.nanny'])
  await c.internals.minderRound()
  await req.send('am.nanny?')
  const nanny = text(await req.receive())
  assert.equal(nanny.length, 30)
  assert.ok(nanny.includes('am.nanny ProcAll G32 0'))
  assert.ok(nanny.every((f) => f.startsWith('am.nanny Proc')))
})

test('keeps answering after garbage requests, each answered with one am.error frame and counted', async (t) => {
  const { env, c } = await collectorInTmp(t, 'collector-resp')
  const req = requester(t, env.common.zmq.snmp)
  const garbage: (string | Buffer)[][] = [
    ['am.snmp'],
    ['am.snmp? '],
    ['AM.SNMP?'],
    [''],
    [randomBytes(300)],
    [Buffer.from([0xff, 0xfe, 0x00, 0x41])],
    [Buffer.alloc(1024 * 1024, 0x61)],
    ['am.snmp?', 'am.nanny?'],
  ]
  for (const g of garbage) {
    await req.send(g)
    const reply = text(await req.receive())
    assert.equal(reply.length, 1)
    assert.match(reply[0], /^am\.error unknown-request /)
  }
  assert.equal(c.internals.stats.responderMalformed, garbage.length)
  await req.send('am.snmp?')
  const ok = text(await req.receive())
  assert.ok(ok.includes('am.snmp sysObjectID OID 1.3.6.1.4.1.15312.2'))
  assert.ok(ok.includes('am.snmp sysServices INT 64'))
  assert.ok(ok.some((f) => /^am\.snmp sysUpTime INT \d{10}$/.test(f)))
})

test('serves several REQ clients in turn, as amavis agents on two hosts would', async (t) => {
  const { env } = await collectorInTmp(t, 'collector-resp')
  const clients: Request[] = [
    requester(t, env.common.zmq.snmp),
    requester(t, env.common.zmq.snmp),
    requester(t, env.common.zmq.snmp),
  ]
  const replies = await Promise.all(
    clients.map(async (r) => {
      await r.send('am.snmp?')
      return text(await r.receive())
    }),
  )
  for (const r of replies) assert.equal(r.length, 3)
})
