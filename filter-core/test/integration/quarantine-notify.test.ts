// Quarantine, DSN bounces, virus-admin notifications and release, end to end with real clamd
// and a real smtp-sink as both the forwarding and the notification next hop.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import {
  EICAR,
  mimeWithAttachment,
  plainMessage,
  sendMail,
  startClamd,
  startSmtpSink,
} from '../../../test/harness/index.ts'
import { startFilterStack } from '../helpers.ts'
import { releaseMessage } from '../../src/tools/release.ts'

test('quarantines a virus, notifies virus_admin, bounces banned mail with a DSN, and releases from quarantine', async (t) => {
  const [clamd, sink] = await Promise.all([startClamd(t), startSmtpSink(t)])
  const { bus, pull, home, ...f } = await startFilterStack(t, {
    events: true,
    forwardPort: sink.port,
    filter: {
      max_servers: 1,
      clamd_address: `tcp:127.0.0.1:${clamd.port}`,
      virus_admin: 'virusalert@example.test',
      final_banned_destiny: 'D_BOUNCE',
      local_domains_maps: ['.example.test'],
    },
  })

  // Virus: discarded, quarantined, admin notified.
  const v = await sendMail({
    port: f.port,
    from: 'sender@example.org',
    to: ['rcpt@example.test'],
    data: plainMessage({ subject: 'infected', body: EICAR }),
  })
  assert.equal(v.finalCode, 250)
  assert.match(v.finalReply!.raw, /250 2\.7\.0 Ok, discarded, id=\d{5}-\d{2} - INFECTED: /)
  let events = await pull.waitFor(2, 20000)
  const notif = events.find((e) => e.notification_type === 'NOTIF') as Record<string, any>
  const virusEv = events.find((e) => e.notification_type === undefined) as Record<string, any>
  assert.ok(notif, 'a NOTIF event')
  assert.deepEqual(notif.rcpt_to, ['virusalert@example.test'])
  assert.deepEqual(notif.action, ['NOTIF'])
  assert.equal(virusEv.quar_type, 'Z')
  assert.match(virusEv.quarantine, /virus-[A-Za-z0-9_-]{12}\.gz$/)
  assert.equal(virusEv.actions_performed, 'DiscardedInbound Quarantined')
  assert.ok(existsSync(join(home, 'quarantine', virusEv.quarantine)))
  const adminMail = (await sink.waitForMessages(1, 10000))[0]
  assert.deepEqual(adminMail.rcpts, ['virusalert@example.test'])
  assert.match(adminMail.header('subject') ?? '', /INFECTED/)
  await bus.waitFor((m) => m.some((x) => x[0].startsWith('am.snmp InMsgs ')), 5000)
  const snmp = bus.messages.find((x) => x[0].startsWith('am.snmp InMsgs '))!
  for (const c of [
    'QuarMsgs',
    'QuarMsgsVirus',
    'OutMsgsSubmitQuar',
    'OutMsgsSubmitNotif',
    'InMsgsStatusDiscarded',
    'InMsgsStatusDiscardedInbound',
  ])
    assert.ok(snmp.includes(`am.snmp ${c} C32 1`), c)

  // Banned with D_BOUNCE: a DSN goes back to the sender, the client gets 250.
  const b = await sendMail({
    port: f.port,
    from: 'sender@example.org',
    to: ['rcpt@example.test'],
    data: mimeWithAttachment({
      subject: 'tool',
      filename: 'tool.exe',
      attachment: Buffer.concat([Buffer.from('MZ'), Buffer.alloc(100)]),
    }),
  })
  assert.equal(b.finalCode, 250)
  assert.match(b.finalReply!.raw, /BOUNCE/)
  events = await pull.waitFor(4, 20000)
  const bannedEv = events.filter((e) => e.notification_type === undefined)[1] as Record<string, any>
  assert.equal(bannedEv.dsn_sent, true)
  assert.deepEqual(bannedEv.action, ['BOUNCE'])
  assert.equal(bannedEv.content_type, 'Banned')
  assert.ok(events.some((e) => e.notification_type === 'DSN'))
  const dsn = (await sink.waitForMessages(2, 10000)).find((m) => m.rcpts[0] === 'sender@example.org')!
  assert.equal(dsn.mailFrom, '')
  assert.deepEqual(dsn.rcpts, ['sender@example.org'])
  assert.match(dsn.header('content-type') ?? '', /multipart\/report; report-type=delivery-status/i)

  // Null sender: the DSN is suppressed (NoBounce).
  const nb = await sendMail({
    port: f.port,
    from: '',
    to: ['rcpt@example.test'],
    data: mimeWithAttachment({
      subject: 'tool2',
      filename: 'tool.exe',
      attachment: Buffer.concat([Buffer.from('MZ'), Buffer.alloc(100)]),
    }),
  })
  assert.equal(nb.finalCode, 250)
  await bus.waitFor((m) => m.filter((x) => x[0].startsWith('am.snmp InMsgs ')).length >= 3, 10000)
  const nbSnmp = bus.messages.filter((x) => x[0].startsWith('am.snmp InMsgs '))[2]
  assert.ok(nbSnmp.includes('am.snmp InMsgsStatusNoBounce C32 1'))
  assert.ok(nbSnmp.includes('am.snmp InMsgsBounceNullRPath C32 1'))

  // Release the quarantined virus mail to its original recipient.
  const mailId = virusEv.mail_id as string
  const rel = await releaseMessage(f.common, f.cfg, mailId)
  assert.equal(rel.released, true, JSON.stringify(rel.replies))
  assert.equal(rel.sender, 'sender@example.org')
  assert.deepEqual(rel.recipients, ['rcpt@example.test'])
  const released = (await sink.waitForMessages(3, 10000)).find((m) => m.header('subject') === 'infected')!
  assert.deepEqual(released.rcpts, ['rcpt@example.test'])
  assert.equal(released.header('subject'), 'infected')
  assert.equal(released.header('x-envelope-from'), undefined)
  await assert.rejects(releaseMessage(f.common, f.cfg, 'AAAAAAAAAAAA'), /No quarantined message/)
})
