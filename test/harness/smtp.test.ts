import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { encodeData, openSmtp, parseSinkDump, runSmtpSource, sendMail, startSmtpSink, tmpDir } from './index.ts'

test('smtp-sink receives every message smtp-source sends, and each dump parses', async (t) => {
  const sink = await startSmtpSink(t)
  const r = await runSmtpSource({
    port: sink.port,
    count: 6,
    sessions: 2,
    sizeBytes: 400,
    from: 'load@source.test',
    to: 'rcpt@sink.test',
    subject: 'load test',
    timeoutMs: 60_000,
  })
  assert.equal(r.code, 0, `smtp-source failed: ${r.stderr}`)
  const msgs = await sink.waitForMessages(6)
  assert.equal(msgs.length, 6)
  assert.equal(await sink.count(), 6)
  for (const m of msgs) {
    assert.equal(m.mailFrom, 'load@source.test')
    assert.deepEqual(m.rcpts, ['rcpt@sink.test'])
    assert.equal(m.clientAddr, '127.0.0.1')
    assert.equal(m.header('subject'), 'load test')
    assert.ok(m.body.length >= 380, `body of ${m.body.length} bytes`)
  }
})

test('sendMail reports the full transcript and the sink stores the exact message (dot-unstuffed)', async (t) => {
  const sink = await startSmtpSink(t)
  const data = 'From: <a@x.test>\r\nSubject: hello\r\nX-Folded: one\r\n two\r\n\r\n.leading dot\r\nbody\r\n'
  const r = await sendMail({
    port: sink.port,
    from: 'a@x.test',
    to: ['b@y.test', 'c@y.test'],
    data,
    xforward: { NAME: 'mx.example.net', ADDR: '192.0.2.1' },
  })
  assert.equal(r.accepted, true, r.transcript.join('\n'))
  assert.equal(r.finalCode, 250)
  assert.equal(r.stage, 'done')
  assert.equal(r.xforwardSent, true)
  assert.deepEqual(r.acceptedRcpts, ['b@y.test', 'c@y.test'])
  assert.match(r.replies[0], /^220 /)
  assert.ok(r.capabilities.some((c) => c.startsWith('XFORWARD')))
  assert.ok(r.transcript.includes('C: DATA'))
  const [m] = await sink.waitForMessages(1)
  assert.equal(m.mailFrom, 'a@x.test')
  assert.deepEqual(m.rcpts, ['b@y.test', 'c@y.test'])
  assert.equal(m.proto, 'ESMTP')
  assert.equal(m.dataCrlf.toString(), data)
  assert.equal(m.header('X-Folded'), 'one\n two')
  assert.equal(m.body.toString(), '.leading dot\nbody\n')
})

test('a sink told to tempfail end-of-data answers 4xx and keeps nothing', async (t) => {
  const sink = await startSmtpSink(t, { tempfail: '.', softReply: '451 4.3.0 try later' })
  const r = await sendMail({ port: sink.port, from: 'a@x.test', to: ['b@y.test'], data: 'Subject: x\n\nbody\n' })
  assert.equal(r.accepted, false)
  assert.equal(r.stage, 'done')
  assert.equal(r.finalCode, 451)
  assert.equal(r.finalReply?.enhanced, '4.3.0')
  assert.equal(await sink.count(), 0)
  assert.deepEqual(await sink.messages(), [])
  // smtp-sink did dump the refused transaction; attempts() shows it.
  assert.equal((await sink.attempts()).length, 1)
})

test('a sink told to reject RCPT answers 5xx and sendMail stops before DATA', async (t) => {
  const sink = await startSmtpSink(t, { reject: 'RCPT' })
  const r = await sendMail({ port: sink.port, from: 'a@x.test', to: ['b@y.test'], data: 'x\n' })
  assert.equal(r.accepted, false)
  assert.equal(r.stage, 'rcpt')
  assert.equal(r.finalCode, 500)
  assert.ok(!r.transcript.includes('C: DATA'))
})

test('an LMTP sink gives one end-of-data reply per recipient', async (t) => {
  const sink = await startSmtpSink(t, { lmtp: true })
  const r = await sendMail({
    port: sink.port,
    lmtp: true,
    from: '',
    to: ['b@y.test', 'c@y.test'],
    data: 'Subject: l\n\nx\n',
  })
  assert.equal(r.accepted, true, r.transcript.join('\n'))
  assert.equal(r.dataReplies.length, 2)
  const [m] = await sink.waitForMessages(1)
  assert.equal(m.proto, 'LMTP')
  assert.equal(m.mailFrom, '')
})

test('openSmtp exposes single commands and multi-line replies', async (t) => {
  const sink = await startSmtpSink(t, { hostname: 'next-hop.test' })
  const c = await openSmtp({ port: sink.port })
  t.after(() => c.destroy())
  assert.equal(c.greeting.code, 220)
  assert.match(c.greeting.raw, /next-hop\.test/)
  const ehlo = await c.command('EHLO client.test')
  assert.equal(ehlo.code, 250)
  assert.ok(ehlo.lines.length > 3)
  assert.ok(ehlo.lines.includes('PIPELINING'))
  assert.equal((await c.command('NOOP')).code, 250)
  assert.equal((await c.quit())?.code, 221)
})

test('sendMail reports a refused connection instead of throwing', async () => {
  const r = await sendMail({ port: 1, from: 'a@x', to: ['b@y'], data: 'x' })
  assert.equal(r.accepted, false)
  assert.equal(r.stage, 'greeting')
  assert.match(r.error ?? '', /ECONNREFUSED/)
})

test('smtp-source -F sends a prepared file', async (t) => {
  const dir = await tmpDir(t, 'smtp-src')
  const file = join(dir, 'msg.eml')
  await writeFile(file, 'Subject: from file\nX-Test: 1\n\nfile body\n')
  const sink = await startSmtpSink(t)
  const r = await runSmtpSource({ port: sink.port, count: 2, file, from: 'f@x.test', to: 't@y.test' })
  assert.equal(r.code, 0, r.stderr)
  const msgs = await sink.waitForMessages(2)
  assert.equal(msgs[0].header('x-test'), '1')
  assert.match(msgs[1].body.toString(), /file body/)
})

test('encodeData normalises line ends, dot-stuffs and terminates', () => {
  assert.equal(encodeData('a\n.b\r\n..c').toString(), 'a\r\n..b\r\n...c\r\n.\r\n')
  assert.equal(encodeData('').toString(), '.\r\n')
})

test('parseSinkDump returns null for a transaction still being written', () => {
  assert.equal(parseSinkDump(Buffer.from('X-Client-Addr: 127.0.0.1\nX-Mail-Args: <a@b>\n')), null)
  const full = parseSinkDump(
    Buffer.from(
      'X-Client-Addr: 127.0.0.1\nX-Client-Proto: ESMTP\nX-Mail-Args: <> BODY=8BITMIME\nX-Rcpt-Args: <r@x> NOTIFY=NEVER\n' +
        'Received: from h ([127.0.0.1])\n\tby s (smtp-sink) with ESMTP id 1;\n\tdate\nSubject: s\n\nb\n\n',
    ),
  )
  assert.ok(full)
  assert.equal(full.mailFrom, '')
  assert.deepEqual(full.rcpts, ['r@x'])
  assert.equal(full.data.toString(), 'Subject: s\n\nb\n')
})

test('smtp-sink listens on IPv6 loopback when asked', async (t) => {
  const sink = await startSmtpSink(t, { ipv6: true })
  assert.equal(sink.host, '::1')
  const r = await sendMail({
    host: '::1',
    port: sink.port,
    from: 'a@x.test',
    to: ['b@y.test'],
    data: 'Subject: v6\n\nx\n',
  })
  assert.equal(r.accepted, true, r.transcript.join('\n'))
  const [m] = await sink.waitForMessages(1)
  assert.equal(m.clientAddr, 'ipv6:::1')
})

test('an LMTP sink on a unix socket receives what sendMail sends over that socket', async (t) => {
  const sink = await startSmtpSink(t, { lmtp: true, unixSocket: true })
  assert.ok(sink.socketPath)
  const r = await sendMail({
    port: 0,
    path: sink.socketPath,
    lmtp: true,
    from: 'a@x.test',
    to: ['b@y.test'],
    data: 'Subject: u\n\nx\n',
  })
  assert.equal(r.accepted, true, r.transcript.join('\n'))
  const [m] = await sink.waitForMessages(1)
  assert.equal(m.proto, 'LMTP')
  assert.deepEqual(m.rcpts, ['b@y.test'])
})
