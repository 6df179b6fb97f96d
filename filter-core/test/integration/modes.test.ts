// Listener kinds (IPv4, IPv6, unix socket, LMTP), pre-queue mode (replies mirror the next hop,
// rejects inside the session), post-queue 4xx/5xx propagation, LMTP forwarding, XFORWARD/DSN
// pass-through, and the originating/direction classification with its event fields.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { join } from 'node:path'
import {
  freePort,
  mimeWithAttachment,
  openSmtp,
  plainMessage,
  sendMail,
  startSmtpSink,
  tmpDir,
} from '../../../test/harness/index.ts'
import { innerEndpoint, startBus, startFilterStack, startTestFilter, waitWorkersReady } from '../helpers.ts'

test('listens on IPv4, IPv6 and a unix socket (SMTP and LMTP) at once', async (t) => {
  const sink = await startSmtpSink(t)
  const home = await tmpDir(t, 'vigil-filter-')
  const bus = await startBus(t, innerEndpoint(home))
  const p4 = await freePort()
  const p6 = await freePort('::1')
  const sock = join(home, 'amavisd.sock')
  const f = await startTestFilter(t, {
    home,
    forwardPort: sink.port,
    listen: [
      `127.0.0.1:${p4}`,
      { address: `[::1]:${p6}`, protocol: 'smtp' },
      { address: `unix:${sock}`, protocol: 'lmtp' },
    ],
  })
  await waitWorkersReady(bus, 2)
  assert.equal(
    (await sendMail({ port: p4, from: 'a@example.org', to: ['b@example.net'], data: plainMessage({ subject: 'v4' }) }))
      .finalCode,
    250,
  )
  assert.equal(
    (
      await sendMail({
        host: '::1',
        port: p6,
        from: 'a@example.org',
        to: ['b@example.net'],
        data: plainMessage({ subject: 'v6' }),
      })
    ).finalCode,
    250,
  )
  // LMTP over the unix socket, by hand (the harness client speaks TCP).
  const replies = await new Promise<string>((resolve, reject) => {
    const s = connect(sock)
    let got = ''
    s.on('data', (d) => {
      got += d.toString()
      if (got.includes('221 ')) {
        s.end()
        resolve(got)
      }
      if (got.startsWith('220 ') && !got.includes('LHLO-SENT')) {
        got += 'LHLO-SENT'
        s.write('LHLO x\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nRCPT TO:<c@example.net>\r\nDATA\r\n')
      }
      if (got.includes('354 ') && !got.includes('BODY-SENT')) {
        got += 'BODY-SENT'
        s.write(plainMessage({ subject: 'unix lmtp' }) + '.\r\nQUIT\r\n')
      }
    })
    s.on('error', reject)
  })
  assert.equal((replies.match(/250 2\.0\.0 from MTA/g) ?? []).length, 2, replies)
  const got = await sink.waitForMessages(3, 10000)
  assert.deepEqual(got.map((m) => m.header('subject')).sort(), ['unix lmtp', 'v4', 'v6'])
  assert.deepEqual(got.find((m) => m.header('subject') === 'unix lmtp')!.rcpts, ['b@example.net', 'c@example.net'])
  assert.ok(f.filter.describe()[0].includes(`lmtp://unix:${sock}`))
})

test('pre-queue mode mirrors the next hop reply and rejects blocked mail inside the session', async (t) => {
  const sink = await startSmtpSink(t, { hardReply: '550 5.7.1 Next hop says no', reject: 'RCPT' })
  const okSink = await startSmtpSink(t)
  const f = await startFilterStack(t, {
    forwardPort: sink.port,
    filter: { mode: 'pre_queue', max_servers: 1, final_banned_destiny: 'D_BOUNCE' },
  })
  const r = await sendMail({ port: f.port, from: 'a@example.org', to: ['b@example.net'], data: plainMessage() })
  assert.equal(r.finalCode, 550)
  assert.equal(r.finalReply!.raw, '550 5.7.1 Next hop says no')
  // Banned with D_BOUNCE in pre-queue mode: rejected in the session, no DSN generated.
  const b = await sendMail({
    port: f.port,
    from: 'a@example.org',
    to: ['b@example.net'],
    data: mimeWithAttachment({ filename: 'x.exe', attachment: Buffer.concat([Buffer.from('MZ'), Buffer.alloc(64)]) }),
  })
  assert.equal(b.finalCode, 554)
  assert.match(b.finalReply!.raw, /^554 5\.7\.0 Reject, id=\d{5}-\d{2} - BANNED/)
  const f2 = await startTestFilter(t, { forwardPort: okSink.port, filter: { mode: 'pre_queue', max_servers: 1 } })
  await new Promise((r2) => setTimeout(r2, 600))
  const ok = await sendMail({ port: f2.port, from: 'a@example.org', to: ['b@example.net'], data: plainMessage() })
  assert.equal(ok.finalCode, 250)
  assert.doesNotMatch(ok.finalReply!.raw, /from MTA/, 'pre-queue replies are the next hop reply itself')
})

test('post-queue mode passes next-hop 4xx and 5xx back and never says 250 for mail not handed on', async (t) => {
  const tempSink = await startSmtpSink(t, { tempfail: '.' })
  const { pull, ...f } = await startFilterStack(t, {
    events: true,
    forwardPort: tempSink.port,
    filter: { max_servers: 1 },
  })
  const r = await sendMail({ port: f.port, from: 'a@example.org', to: ['b@example.net'], data: plainMessage() })
  assert.equal(r.finalCode, 450)
  assert.match(r.finalReply!.raw, /^450 4\.3\.0 from MTA\(smtp:\[127\.0\.0\.1\]:\d+\): 450 4\.3\.0/)
  // Next hop down entirely: 451, never 250.
  const dead = await startTestFilter(t, { forwardPort: await freePort(), filter: { max_servers: 1 } })
  await new Promise((r2) => setTimeout(r2, 600))
  const d = await sendMail({ port: dead.port, from: 'a@example.org', to: ['b@example.net'], data: plainMessage() })
  assert.equal(d.finalCode, 451)
  const ev = (await pull.waitFor(1))[0] as Record<string, any>
  assert.deepEqual(ev.action, ['TEMPFAIL'])
  assert.equal(ev.actions_performed, 'TempFailedOpenRelay')
})

test('forwards over LMTP with per-recipient results, passing XFORWARD and DSN parameters on', async (t) => {
  const sink = await startSmtpSink(t, { lmtp: true })
  const { bus, pull, ...f } = await startFilterStack(t, {
    events: true,
    filter: {
      max_servers: 1,
      forward_method: `lmtp:[127.0.0.1]:${sink.port}`,
      local_domains_maps: ['.example.test'],
      mynetworks: ['192.0.2.0/24'],
    },
  })
  const r = await sendMail({
    port: f.port,
    from: 'a@example.org',
    to: ['b@example.test', 'c@example.net'],
    data: plainMessage({ subject: 'lmtp out' }),
    mailParams: 'RET=HDRS ENVID=env123',
    rcptParams: 'NOTIFY=FAILURE',
    xforward: {
      ADDR: '192.0.2.10',
      PORT: '41831',
      NAME: 'mx.example.org',
      PROTO: 'ESMTP',
      HELO: 'mx.example.org',
      IDENT: '4QID123',
    },
  })
  assert.equal(r.finalCode, 250, r.finalReply?.raw)
  const m = (await sink.waitForMessages(1, 10000))[0]
  assert.equal(m.proto, 'LMTP')
  assert.deepEqual(m.rcpts, ['b@example.test', 'c@example.net'])
  assert.match(m.mailArgs, /RET=HDRS/)
  assert.match(m.mailArgs, /ENVID=env123/)
  assert.match(m.rcptArgs[0], /NOTIFY=FAILURE/)
  const ev = (await pull.waitFor(1))[0] as Record<string, any>
  assert.equal(ev.client_ip, '192.0.2.10')
  assert.equal(ev.client_port, 41831)
  assert.equal(ev.queue_id, '4QID123')
  assert.equal(ev.originating, true)
  assert.equal(ev.actions_performed, 'RelayedInternal RelayedOutbound')
  assert.deepEqual(
    ev.recipients.map((x: any) => x.rcpt_is_local),
    [true, false],
  )
  await bus.waitFor((x) => x.some((y) => y[0].startsWith('am.snmp InMsgs ')), 5000)
  const snmp = bus.messages.find((y) => y[0].startsWith('am.snmp InMsgs '))!
  for (const c of [
    'InMsgsOriginating',
    'InMsgsInternal',
    'InMsgsOutbound',
    'ContentCleanMsgsOriginating',
    'ContentCleanMsgsInternal',
    'ContentCleanMsgsOutbound',
    'OutMsgsProtoLMTP',
    'InMsgsStatusRelayedUntaggedOriginating',
  ])
    assert.ok(snmp.includes(`am.snmp ${c} C32 1`), c)
  assert.ok(snmp.includes('am.snmp InMsgsRecipsInternal C32 1'))
  assert.ok(snmp.includes('am.snmp InMsgsRecipsOutbound C32 1'))
})

test('the XFORWARD of an IPv6 client reaches the event and the next hop', async (t) => {
  const sink = await startSmtpSink(t)
  const { pull, ...f } = await startFilterStack(t, { events: true, forwardPort: sink.port, filter: { max_servers: 1 } })
  const c = await openSmtp({ port: f.port })
  await c.command('EHLO x')
  assert.equal((await c.command('XFORWARD ADDR=IPv6:2001:db8::25 PORT=52000 NAME=v6.example.org')).code, 250)
  await c.command('MAIL FROM:<a@example.org>')
  await c.command('RCPT TO:<b@example.net>')
  await c.command('DATA')
  c.write(plainMessage() + '.\r\n')
  assert.equal((await c.readReply()).code, 250)
  await c.quit()
  const ev = (await pull.waitFor(1))[0] as Record<string, any>
  assert.equal(ev.client_ip, '2001:db8::25')
  assert.equal(ev.client_port, 52000)
  const m = (await sink.waitForMessages(1))[0]
  assert.match(m.header('received') ?? '', /from x \(\[2001:db8::25\]\)|\[2001:db8::25\]/)
})

test('fails to start with a clear error when a listen address is taken', async (t) => {
  const sink = await startSmtpSink(t)
  const f = await startTestFilter(t, { forwardPort: sink.port, filter: { max_servers: 1 } })
  await assert.rejects(
    startTestFilter(t, { forwardPort: sink.port, listen: [`127.0.0.1:${f.port}`], filter: { max_servers: 1 } }),
    /EADDRINUSE/,
  )
})

test('passes SMTPUTF8/8BITMIME mail on, and refuses UTF-8 addresses for a next hop without SMTPUTF8', async (t) => {
  const sink = await startSmtpSink(t) // smtp-sink offers 8BITMIME but not SMTPUTF8
  const { pull, ...f } = await startFilterStack(t, { events: true, forwardPort: sink.port, filter: { max_servers: 1 } })
  const data =
    'From: J\u00f6rg <jorg@example.org>\r\nTo: bea@example.net\r\nSubject: gr\u00fc\u00dfe\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\nMessage-ID: <u8@example.org>\r\n\r\nk\u00e4se\r\n'
  const ok = await sendMail({
    port: f.port,
    from: 'jorg@example.org',
    to: ['bea@example.net'],
    mailParams: 'SMTPUTF8 BODY=8BITMIME',
    data,
  })
  assert.equal(ok.finalCode, 250, ok.transcript.join('\n'))
  const m = (await sink.waitForMessages(1))[0]
  assert.match(m.mailArgs, /BODY=8BITMIME/)
  assert.equal(m.header('subject'), Buffer.from('gr\u00fc\u00dfe', 'utf8').toString('latin1'))
  const ev = (await pull.waitFor(1))[0] as Record<string, any>
  assert.equal(ev.content_type, 'Clean', 'UTF-8 headers are legitimate with SMTPUTF8')
  assert.equal(ev.subject, 'gr\u00fc\u00dfe')

  const utf8 = await sendMail({
    port: f.port,
    from: 'j\u00f6rg@example.org',
    to: ['b\u00e9a@example.net'],
    mailParams: 'SMTPUTF8',
    data,
  })
  assert.equal(utf8.finalCode, 553, utf8.finalReply?.raw)
  assert.match(utf8.finalReply!.raw, /5\.6\.7 .*does not support SMTPUTF8/)
  const ev2 = (await pull.waitFor(2))[1] as Record<string, any>
  assert.equal(ev2.mail_from, 'j\u00f6rg@example.org')
  assert.deepEqual(ev2.action, ['REJECT'])
  assert.equal((await sink.messages()).length, 1)
})
