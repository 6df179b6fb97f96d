// The forwarding client against Postfix's smtp-sink: pipelining or not, XFORWARD only when
// offered, per-recipient results, dot-stuffing, connection reuse and recovery from a cached
// connection the next hop dropped.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { freePort, startSmtpSink } from '../../../test/harness/index.ts'
import { SmtpClient, parseDeliveryMethod, type ClientCounterEvent } from '../../src/forward/client.ts'

const body = (s: string) => () => [Buffer.from(s)]

for (const pipelining of [true, false]) {
  test(`delivers with${pipelining ? '' : 'out'} PIPELINING, dot-stuffing lines that start with a dot`, async (t) => {
    const sink = await startSmtpSink(t, { noPipelining: !pipelining })
    const events: ClientCounterEvent[] = []
    const c = new SmtpClient(`smtp:[127.0.0.1]:${sink.port}`, {
      heloName: 'filter.test',
      onEvent: (e) => events.push(e),
    })
    const content = 'Subject: dots\r\n\r\n.leading\r\n..two\r\n.\r\nend\r\n'
    const r = await c.send({
      mailFrom: 'a@example.org',
      size: content.length,
      rcpts: [{ address: 'b@example.net' }],
      // Pieces split inside a line and right after a line end that a dot follows.
      content: () => [
        Buffer.from(content.slice(0, 20)),
        Readable.from(['ading\r\n', '..two\r\n', '.\r\nend\r\n'].map((p) => Buffer.from(p))),
      ],
    })
    assert.equal(r[0].code, 250, r[0].text)
    const r2 = await c.send({
      mailFrom: 'a@example.org',
      size: 10,
      rcpts: [{ address: 'c@example.net' }],
      content: body('Subject: 2\r\n\r\nx\r\n'),
    })
    assert.equal(r2[0].code, 250)
    await c.close()
    const got = await sink.waitForMessages(2)
    assert.equal(got.find((m) => m.header('subject') === 'dots')!.dataCrlf.toString(), content)
    assert.equal(c.extensions.has('PIPELINING'), pipelining)
    assert.deepEqual(events, ['OutConnNew', 'OutConnTransact', 'OutConnReuseRecent', 'OutConnTransact', 'OutConnQuit'])
  })
}

test('reports per-recipient results when the next hop rejects some recipients', async (t) => {
  const sink = await startSmtpSink(t, { reject: 'RCPT', hardReply: '550 5.1.1 no such user' })
  const c = new SmtpClient(`smtp:[127.0.0.1]:${sink.port}`, { heloName: 'f' })
  const r = await c.send({
    mailFrom: 'a@example.org',
    size: 10,
    rcpts: [{ address: 'b@example.net' }, { address: 'c@example.net' }],
    content: body('Subject: x\r\n\r\nx\r\n'),
  })
  assert.deepEqual(
    r.map((x) => x.code),
    [550, 550],
  )
  assert.equal(r[0].text, '550 5.1.1 no such user')
  await c.close()
})

test('sends XFORWARD only when the next hop offers it', async (t) => {
  // -v: smtp-sink logs each command it receives (our evidence of what was sent).
  const withXf = await startSmtpSink(t, { args: ['-v'] })
  const withoutXf = await startSmtpSink(t, { noXforward: true, args: ['-v'] })
  for (const [sink, offered] of [
    [withXf, true],
    [withoutXf, false],
  ] as const) {
    const c = new SmtpClient(`smtp:[127.0.0.1]:${sink.port}`, { heloName: 'f' })
    const r = await c.send({
      mailFrom: 'a@example.org',
      size: 10,
      rcpts: [{ address: 'b@example.net' }],
      xforward: { ADDR: '192.0.2.1', NAME: 'mx.example.org' },
      content: body('Subject: x\r\n\r\nx\r\n'),
    })
    assert.equal(r[0].code, 250)
    assert.equal(c.extensions.has('XFORWARD'), offered)
    await c.close()
    await sink.waitForMessages(1)
    const log = await sink.process.logTail(400)
    assert.equal(/XFORWARD ADDR=192\.0\.2\.1 NAME=mx\.example\.org/.test(log), offered, log.slice(-2000))
  }
})

test('tempfails every recipient when the next hop is down, and recovers a dropped cached connection', async (t) => {
  const port = await freePort()
  const down = new SmtpClient(`smtp:[127.0.0.1]:${port}`, { heloName: 'f' })
  const r = await down.send({
    mailFrom: 'a@example.org',
    size: 1,
    rcpts: [{ address: 'b@example.net' }, { address: 'c@example.net' }],
    content: body('x\r\n'),
  })
  assert.deepEqual(
    r.map((x) => x.code),
    [451, 451],
  )
  assert.match(r[0].text, /^451 4\.4\.1 smtp:\[127\.0\.0\.1\]:\d+: connect ECONNREFUSED/)

  const sink = await startSmtpSink(t, { port })
  const events: ClientCounterEvent[] = []
  const c = new SmtpClient(`smtp:[127.0.0.1]:${port}`, { heloName: 'f', onEvent: (e) => events.push(e) })
  assert.equal(
    (
      await c.send({
        mailFrom: 'a@example.org',
        size: 1,
        rcpts: [{ address: 'b@example.net' }],
        content: body('Subject: 1\r\n\r\nx\r\n'),
      })
    )[0].code,
    250,
  )
  await sink.stop()
  const sink2 = await startSmtpSink(t, { port })
  const r2 = await c.send({
    mailFrom: 'a@example.org',
    size: 1,
    rcpts: [{ address: 'b@example.net' }],
    content: body('Subject: 2\r\n\r\nx\r\n'),
  })
  assert.equal(r2[0].code, 250, r2[0].text)
  assert.ok(
    events.includes('OutConnReuseFail') || events.filter((e) => e === 'OutConnNew').length === 2,
    events.join(','),
  )
  await c.close()
  assert.equal((await sink2.waitForMessages(1))[0].header('subject'), '2')
})

test('parses delivery methods as amavis writes them', () => {
  assert.deepEqual(parseDeliveryMethod('smtp:[127.0.0.1]:10025'), {
    protocol: 'smtp',
    host: '127.0.0.1',
    port: 10025,
    raw: 'smtp:[127.0.0.1]:10025',
  })
  assert.deepEqual(parseDeliveryMethod('lmtp:[::1]:24'), {
    protocol: 'lmtp',
    host: '::1',
    port: 24,
    raw: 'lmtp:[::1]:24',
  })
  assert.deepEqual(parseDeliveryMethod('lmtp:unix:/run/dovecot/lmtp'), {
    protocol: 'lmtp',
    path: '/run/dovecot/lmtp',
    raw: 'lmtp:unix:/run/dovecot/lmtp',
  })
  assert.throws(() => parseDeliveryMethod('pipe:/bin/false'))
})
