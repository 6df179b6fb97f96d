import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { runSmtpSource, sendMail, startPostfix } from './index.ts'

test('a private Postfix accepts smtp-source over IPv4 and IPv6 and delivers every message to its maildir', async (t) => {
  const pf = await startPostfix(t)
  const v4 = await runSmtpSource({
    port: pf.port,
    count: 4,
    sessions: 2,
    from: 'sender@vigil.test',
    to: 'rcpt@vigil.test',
  })
  assert.equal(v4.code, 0, v4.stderr)
  const v6 = await runSmtpSource({
    host: '::1',
    port: pf.port,
    count: 3,
    from: 'sender@vigil.test',
    to: 'rcpt@vigil.test',
  })
  assert.equal(v6.code, 0, v6.stderr)
  const mails = await pf.waitForMailbox('rcpt', 7)
  assert.equal(mails.length, 7, await pf.log())
  const clients = mails.map((m) => m.headers('received').at(-1) ?? '')
  assert.equal(clients.filter((r) => r.includes('[127.0.0.1]')).length, 4, clients.join('\n'))
  assert.equal(clients.filter((r) => r.includes('[IPv6:::1]')).length, 3, clients.join('\n'))
  for (const m of mails) assert.equal(m.header('delivered-to'), 'rcpt@vigil.test')
  assert.deepEqual(await pf.queue(), [])
  assert.deepEqual(await pf.mailbox('sender'), [], 'no bounce')
  // its own queue, never the system's
  assert.ok(existsSync(`${pf.queueDir}/deferred`))
  assert.match(await pf.log(), new RegExp(`configuration ${pf.configDir}`))
})

test('a recipient without a mailbox is rejected at RCPT; a stopped Postfix leaves no master behind', async (t) => {
  const pf = await startPostfix(null)
  try {
    const r = await sendMail({
      port: pf.port,
      from: 'sender@vigil.test',
      to: ['nobody@vigil.test'],
      data: 'Subject: x\r\n\r\nx\r\n',
    })
    assert.equal(r.accepted, false)
    assert.equal(r.rcptReplies[0]?.code, 550, JSON.stringify(r.replies))
    assert.equal(r.stage, 'rcpt')
  } finally {
    await pf.stop()
  }
  assert.equal(pf.process.running(), false)
  assert.equal(existsSync(`/proc/${pf.pid}`), false)
})
