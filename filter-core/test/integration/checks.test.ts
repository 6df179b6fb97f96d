// Real clamd and spamd behind the filter: EICAR (body, attachment, zip), GTUBE and a banned .exe
// each get their configured destiny, and the JSON event and am.snmp counters say so. Then the
// checkers are stopped mid-run: every message tempfails (4xx), nothing passes unchecked.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  EICAR,
  gtubeMessage,
  makeZip,
  mimeWithAttachment,
  plainMessage,
  sendMail,
  startClamd,
  startSmtpSink,
  startSpamd,
} from '../../../test/harness/index.ts'
import { type Bus, startFilterStack } from '../helpers.ts'

function snmpFor(bus: Bus, n: number): string[] {
  // The n-th per-message am.snmp message (0-based).
  const msgs = bus.messages.filter((m) => m[0].startsWith('am.snmp InMsgs '))
  return msgs[n] ?? []
}

test('clamd, spamd and banned rules decide each message with its configured destiny', async (t) => {
  const [clamd, spamd, sink] = await Promise.all([startClamd(t), startSpamd(t), startSmtpSink(t)])
  const { bus, pull, ...f } = await startFilterStack(t, {
    events: true,
    forwardPort: sink.port,
    filter: {
      max_servers: 1,
      max_requests: 100,
      clamd_address: `tcp:127.0.0.1:${clamd.port}`,
      spamd_address: `tcp:127.0.0.1:${spamd.port}`,
      final_virus_destiny: 'D_DISCARD',
      final_banned_destiny: 'D_REJECT',
      final_spam_destiny: 'D_PASS',
      local_domains_maps: ['example.test'],
      virus_check_timeout_secs: 20,
      spam_check_timeout_secs: 30,
    },
  })
  const send = (data: string) => sendMail({ port: f.port, from: 'sender@example.org', to: ['rcpt@example.test'], data })

  const cases = [
    {
      name: 'clean',
      data: plainMessage(),
      code: 250,
      action: 'PASS',
      content: 'Clean',
      status: 'InMsgsStatusRelayedUntagged',
    },
    {
      name: 'EICAR in body',
      data: plainMessage({ body: EICAR }),
      code: 250,
      action: 'DISCARD',
      content: 'Virus',
      status: 'InMsgsStatusDiscarded',
    },
    {
      name: 'EICAR attachment',
      data: mimeWithAttachment({ filename: 'eicar.txt', contentType: 'text/plain', attachment: EICAR }),
      code: 250,
      action: 'DISCARD',
      content: 'Virus',
      status: 'InMsgsStatusDiscarded',
    },
    {
      name: 'EICAR in zip',
      data: mimeWithAttachment({
        filename: 'docs.zip',
        contentType: 'application/zip',
        attachment: makeZip([{ name: 'eicar.txt', data: EICAR }]),
      }),
      code: 250,
      action: 'DISCARD',
      content: 'Virus',
      status: 'InMsgsStatusDiscarded',
    },
    {
      name: 'banned .exe',
      data: mimeWithAttachment({
        filename: 'setup.exe',
        attachment: Buffer.concat([Buffer.from('MZ'), Buffer.alloc(200)]),
      }),
      code: 554,
      action: 'REJECT',
      content: 'Banned',
      status: 'InMsgsStatusRejected',
    },
    {
      name: 'GTUBE',
      data: gtubeMessage(),
      code: 250,
      action: 'PASS',
      content: 'Spam',
      status: 'InMsgsStatusRelayedTagged',
    },
  ]
  for (const [i, c] of cases.entries()) {
    const r = await send(c.data)
    assert.equal(r.finalCode, c.code, `${c.name}: ${r.finalReply?.raw}`)
    const events = await pull.waitFor(i + 1, 30000)
    const ev = events[i] as Record<string, any>
    assert.deepEqual(ev.action, [c.action], `${c.name}: event action`)
    assert.equal(ev.content_type, c.content, `${c.name}: content_type`)
    await bus.waitFor((m) => m.filter((x) => x[0].startsWith('am.snmp InMsgs ')).length > i, 10000, `${c.name} am.snmp`)
    const snmp = snmpFor(bus, i)
    assert.ok(snmp.includes(`am.snmp ${c.status} C32 1`), `${c.name}: ${c.status} in ${snmp.join('|')}`)
    assert.ok(snmp.includes(`am.snmp Content${c.content}Msgs C32 1`), `${c.name}: Content${c.content}Msgs`)
    assert.ok(
      snmp.includes(`am.snmp Content${c.content}MsgsInbound C32 1`),
      `${c.name}: Content${c.content}MsgsInbound`,
    )
    if (c.content === 'Virus') {
      assert.ok(
        (ev.virusnames as string[]).some((v) => /eicar/i.test(v)),
        `${c.name}: virusnames ${ev.virusnames}`,
      )
      assert.equal(ev.checks_performed, 'V H B', 'spam check skipped for infected mail')
      assert.equal(ev.recipients[0].ccat_blocking, 'Virus')
      assert.ok(snmp.includes('am.snmp OpsVirusCheck C32 1'))
    }
    if (c.name === 'GTUBE') {
      assert.ok(Number(ev.spam_score) >= 100)
      assert.ok((ev.tests as string[]).includes('GTUBE'))
      assert.equal(ev.checks_performed, 'V S H B')
    }
    if (c.name === 'banned .exe') assert.match(ev.recipients[0].banning_reason, /exe/)
  }
  const delivered = await sink.waitForMessages(2, 10000)
  assert.equal(delivered.length, 2, 'only the clean message and the tagged spam reach the sink')
  const spam = delivered.find((m) => (m.header('subject') ?? '').includes('GTUBE'))!
  assert.equal(spam.header('x-spam-flag'), 'YES')
  assert.match(spam.header('subject')!, /^\*\*\*Spam\*\*\* GTUBE test/)
  assert.match(spam.header('x-spam-status') ?? '', /^Yes, score=\d+/)
  assert.match(delivered[0].header('x-virus-scanned') ?? '', /amavis at filter\.test/)

  // Checkers stopped mid-run: tempfail, never pass unchecked, nothing lost.
  await clamd.stop()
  const r1 = await send(plainMessage({ subject: 'while clamd is down' }))
  assert.equal(r1.finalCode, 451, r1.finalReply?.raw)
  assert.match(r1.finalReply!.raw, /virus_scan FAILED/)
  const ev1 = (await pull.waitFor(cases.length + 1, 20000))[cases.length] as Record<string, any>
  assert.deepEqual(ev1.action, ['TEMPFAIL'])
  await spamd.stop()
  const r2 = await send(plainMessage({ subject: 'while spamd is down too' }))
  assert.equal(r2.finalCode, 451)
  assert.equal((await sink.messages()).length, 2, 'no message passed unchecked')
  await bus.waitFor(
    (m) => m.filter((x) => x[0].startsWith('am.snmp InMsgs ')).length >= cases.length + 2,
    10000,
    'tempfail counters',
  )
  assert.ok(snmpFor(bus, cases.length).includes('am.snmp InMsgsStatusTempFailed C32 1'))
})
