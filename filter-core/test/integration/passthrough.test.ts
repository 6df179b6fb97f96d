// smtp-source → filter → smtp-sink with real Postfix tools: every message accepted with 250 is
// at the sink, with the filter's headers, and the ZMQ bus sees amavis's state sequence.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { runSmtpSource, sendMail, startSmtpSink } from '../../../test/harness/index.ts'
import { startFilterStack } from '../helpers.ts'

test('passes 4 KiB and 1 MiB messages from smtp-source to smtp-sink, all received, headers added', async (t) => {
  const sink = await startSmtpSink(t)
  const { pull, home, ...f } = await startFilterStack(t, {
    events: true,
    forwardPort: sink.port,
    filter: { spool_threshold_bytes: 64 * 1024 },
  })

  const small = await runSmtpSource({
    port: f.port,
    count: 20,
    sessions: 2,
    sizeBytes: 4096,
    from: 'a@example.org',
    to: 'b@example.net',
  })
  assert.equal(small.code, 0, small.stderr)
  const big = await runSmtpSource({
    port: f.port,
    count: 5,
    sessions: 2,
    sizeBytes: 1024 * 1024,
    from: 'a@example.org',
    to: 'b@example.net',
  })
  assert.equal(big.code, 0, big.stderr)

  const msgs = await sink.waitForMessages(25, 30000)
  assert.equal(msgs.length, 25)
  for (const m of msgs) {
    assert.ok(m.header('x-virus-scanned') === undefined || m.header('x-virus-scanned')!.includes('filter.test'))
    assert.match(m.header('received') ?? '', /by filter\.test \(amavis, port \d+\) with E?SMTP id \d{5}-\d{2}/)
  }
  assert.equal(
    msgs.filter((m) => m.body.length > 1000 * 1000).length,
    5,
    JSON.stringify(msgs.map((m) => m.body.length)),
  )
  const events = await pull.waitFor(25)
  assert.equal(events.length, 25)
  for (const e of events) {
    assert.deepEqual(e.action, ['PASS'])
    assert.equal(e.content_type, 'Clean')
    assert.equal(e.type, 'amavis')
  }
  // The spool directory is left empty.
  const { readdirSync } = await import('node:fs')
  assert.deepEqual(readdirSync(`${home}/tmp`), [])
})

test('publishes the amavis state sequence and one am.snmp message per message', async (t) => {
  const sink = await startSmtpSink(t)
  const { bus, ...f } = await startFilterStack(t, { forwardPort: sink.port, filter: { max_servers: 1 } })
  const r = await sendMail({
    port: f.port,
    from: 'alice@example.com',
    to: ['bob@example.net'],
    data: 'From: alice@example.com\r\nTo: bob@example.net\r\nSubject: hi\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\nMessage-ID: <1@example.com>\r\n\r\nhello\r\n',
  })
  assert.equal(r.accepted, true, r.transcript.join('\n'))
  assert.match(r.finalReply!.raw, /^250 2\.0\.0 from MTA\(smtp:\[127\.0\.0\.1\]:\d+\): 250 2\.0\.0 Ok/)
  await bus.waitFor(
    (m) => m.some((x) => /^am\.st \d+ \d+ -$/.test(x[0]) && m.indexOf(x) > 3),
    10000,
    'idle after session',
  )
  // The states of the worker that served the session (the warm spare only says it is idle).
  const pid = bus.messages.find((m) => /^am\.st \d+ \S+ A$/.test(m[0]))![0].split(' ')[1]
  const states = bus.messages
    .filter((m) => m[0].startsWith(`am.st ${pid} `))
    .map((m) => m[0].split(' '))
    .filter((p) => p[3] !== 'FLUSH')
    .map((p) => (p[4] ? `${p[3]} ${p[4]}` : p[3]))
  const id = `${pid.padStart(5, '0')}-01`
  assert.deepEqual(states, [
    '-',
    'A',
    'b',
    `m ${id}`,
    `d ${id}`,
    `= ${id}`,
    `G ${id}`,
    `D ${id}`,
    `r ${id}`,
    `F ${id}`,
    '.',
    '-',
  ])
  const snmp = bus.messages.filter((m) => m[0].startsWith('am.snmp ') && m[0].includes('InMsgs '))
  assert.equal(snmp.length, 1)
  assert.ok(snmp[0].every((fr) => fr.startsWith('am.snmp ')))
  assert.ok(snmp[0].includes('am.snmp InMsgs C32 1'))
  assert.ok(snmp[0].includes('am.snmp InMsgsStatusRelayedUntagged C32 1'))
  assert.ok(snmp[0].includes('am.snmp OutMsgsDelivers C32 1'))
  assert.ok(snmp[0].some((fr) => /^am\.snmp TimeElapsedTotal C32 \d+$/.test(fr)))
})
