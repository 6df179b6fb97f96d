// Process-model resilience and protocol abuse against the real filter (master + workers):
// kill -9 of a worker mid-DATA loses only that message, workers are replaced, max_requests
// recycles workers, and protocol errors are counted on Vigil's own bus topic.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { openSmtp, plainMessage, sendMail, startSmtpSink } from '../../../test/harness/index.ts'
import { startFilterStack, startTestFilter } from '../helpers.ts'

test('kill -9 of a worker mid-DATA under load fails only that message; every 250 is at the sink', async (t) => {
  const sink = await startSmtpSink(t)
  const { bus, ...f } = await startFilterStack(t, {
    forwardPort: sink.port,
    filter: { max_servers: 2, max_requests: 1000 },
  })

  const victim = await openSmtp({ port: f.port })
  assert.equal((await victim.command('EHLO victim')).code, 250)
  assert.equal((await victim.command('MAIL FROM:<v@example.org>')).code, 250)
  assert.equal((await victim.command('RCPT TO:<v@example.net>')).code, 250)
  assert.equal((await victim.command('DATA')).code, 354)
  victim.write('Subject: victim\r\n\r\nfirst half of the body\r\n')
  await bus.waitFor((m) => m.some((x) => / d \d{5}-\d{2}$/.test(x[0])), 5000, 'the d state')
  const victimPid = Number(bus.messages.find((x) => / d \d{5}-\d{2}$/.test(x[0]))![0].split(' ')[1])
  assert.ok(f.filter.workerPids().includes(victimPid))

  // Background load on the other worker(s) while the victim dies.
  const results: { subject: string; code: number }[] = []
  const load = (async () => {
    for (let i = 0; i < 12; i++) {
      const subject = `load ${i}`
      const r = await sendMail({
        port: f.port,
        from: 'a@example.org',
        to: ['b@example.net'],
        data: plainMessage({ subject }),
        timeoutMs: 20000,
      })
      results.push({ subject, code: r.finalCode })
    }
  })()
  await new Promise((r) => setTimeout(r, 100))
  process.kill(victimPid, 'SIGKILL')
  victim.write('second half\r\n.\r\n')
  let victimCode = 0
  try {
    victimCode = (await victim.readReply(5000)).code
  } catch {
    victimCode = -1 // connection dropped: acceptable
  }
  assert.ok(victimCode === -1 || (victimCode >= 400 && victimCode < 500), `victim got ${victimCode}`)
  await load
  const accepted = results.filter((r) => r.code === 250).map((r) => r.subject)
  assert.ok(accepted.length >= 10, `most load messages accepted: ${JSON.stringify(results)}`)
  const got = (await sink.waitForMessages(accepted.length, 15000)).map((m) => m.header('subject'))
  for (const s of accepted) assert.ok(got.includes(s), `${s} reached the sink`)
  assert.ok(!got.includes('victim'))
  // The master replaced the dead worker (2 workers + 1 warm spare).
  const until = Date.now() + 10000
  while ((f.filter.workerPids().length < 3 || f.filter.workerPids().includes(victimPid)) && Date.now() < until)
    await new Promise((r) => setTimeout(r, 50))
  assert.equal(f.filter.workerPids().length, 3)
  assert.ok(!f.filter.workerPids().includes(victimPid))
})

test('a worker handed its last connection gets a warm replacement at once; the spare serves, the old one exits', async (t) => {
  const sink = await startSmtpSink(t)
  const { bus, ...f } = await startFilterStack(t, {
    forwardPort: sink.port,
    filter: { max_servers: 1, max_requests: 2, min_spare_servers: 1 },
  })
  const atStart = f.filter.workerPids()
  assert.equal(atStart.length, 2, 'one worker and one warm spare')
  const servedBy: number[] = []
  for (let i = 0; i < 3; i++) {
    const before = bus.messages.length
    const r = await sendMail({
      port: f.port,
      from: 'a@example.org',
      to: ['b@example.net'],
      data: plainMessage({ subject: `m${i}` }),
    })
    assert.equal(r.finalCode, 250)
    await bus.waitFor((m) => m.slice(before).some((x) => / m \d{5}-\d{2}$/.test(x[0])), 5000, `m state of message ${i}`)
    servedBy.push(
      Number(
        bus.messages
          .slice(before)
          .find((x) => / m \d{5}-\d{2}$/.test(x[0]))![0]
          .split(' ')[1],
      ),
    )
  }
  const [first] = servedBy
  assert.equal(servedBy[1], first, 'one worker serves until its max_requests (the spare stays spare)')
  assert.notEqual(servedBy[2], first, 'the third connection goes to the other worker')
  assert.ok(atStart.includes(servedBy[2]), 'the warm spare, started with the pool, took it: no wait for a start')
  await bus.waitFor(
    (m) => m.some((x) => x[0].startsWith(`am.st ${first} `) && x[0].endsWith(' exiting')),
    10000,
    'exiting',
  )
  const ids = bus.messages.filter((x) => x[0].startsWith(`am.st ${first} `) && / m \d{5}-\d{2}$/.test(x[0]))
  const p = String(first).padStart(5, '0')
  assert.deepEqual(
    ids.map((x) => x[0].split(' ').pop()),
    [`${p}-01`, `${p}-02`],
  )
  // Its replacement was started when it took its last connection: the pool is full again.
  const until = Date.now() + 10000
  while ((f.filter.workerPids().includes(first) || f.filter.workerPids().length < 2) && Date.now() < until)
    await new Promise((r) => setTimeout(r, 50))
  assert.equal(f.filter.workerPids().length, 2)
  assert.ok(!f.filter.workerPids().includes(first))
  assert.equal((await sink.messages()).length, 3)
})

test('serves at most max_servers sessions at once, spares or not', async (t) => {
  const sink = await startSmtpSink(t)
  const f = await startFilterStack(t, { forwardPort: sink.port, filter: { max_servers: 1, min_spare_servers: 2 } })
  assert.equal(f.filter.workerPids().length, 3)
  const a = await openSmtp({ port: f.port })
  assert.equal(a.greeting.code, 220)
  // A second client waits in the master's queue: no greeting while a's session runs.
  const b = connect({ host: '127.0.0.1', port: f.port })
  let greeted = ''
  b.on('data', (d) => (greeted += d.toString('latin1')))
  t.after(() => b.destroy())
  await new Promise((r) => setTimeout(r, 700))
  assert.equal(greeted, '', 'no second session while max_servers (1) sessions run')
  await a.quit()
  const until = Date.now() + 5000
  while (!greeted.startsWith('220') && Date.now() < until) await new Promise((r) => setTimeout(r, 20))
  assert.match(greeted, /^220 /)
})

test('numbers the second transaction of a session <id>-2 and counts protocol errors on vigil.stats', async (t) => {
  const sink = await startSmtpSink(t)
  const { bus, ...f } = await startFilterStack(t, { forwardPort: sink.port, filter: { max_servers: 1 } })
  const c = await openSmtp({ port: f.port })
  await c.command('EHLO x')
  assert.equal((await c.command('DATA')).code, 503)
  assert.equal((await c.command('MAIL FROM:<bad address>')).code, 501)
  for (let i = 0; i < 2; i++) {
    await c.command('MAIL FROM:<a@example.org>')
    await c.command('RCPT TO:<b@example.net>')
    await c.command('DATA')
    c.write('Subject: t\r\n\r\nx\r\n.\r\n')
    assert.equal((await c.readReply()).code, 250)
  }
  await c.quit()
  await bus.waitFor((m) => m.some((x) => x[0].startsWith('vigil.stats ')), 10000, 'vigil.stats')
  const stats = JSON.parse(bus.messages.find((x) => x[0].startsWith('vigil.stats '))![0].slice('vigil.stats '.length))
  assert.deepEqual(stats.smtp_protocol_errors, { bad_sequence: 1, bad_syntax: 1 })
  const ids = bus.messages.filter((x) => / m \S+$/.test(x[0])).map((x) => x[0].split(' ').pop()!)
  assert.match(ids[0], /^\d{5}-01$/)
  assert.equal(ids[1], `${ids[0]}-2`)
})

test('backs off when workers keep dying right after start, then keeps the pool filled', async (t) => {
  const sink = await startSmtpSink(t)
  const { bus, ...f } = await startFilterStack(t, {
    forwardPort: sink.port,
    filter: { max_servers: 1, respawn_backoff_max_secs: 1 },
  })
  const killed = new Set<number>()
  const deadline = Date.now() + 15000
  while (killed.size < 3 && Date.now() < deadline) {
    const pid = f.filter.workerPids().find((p) => !killed.has(p))
    if (pid) {
      killed.add(pid)
      process.kill(pid, 'SIGKILL')
    }
    await new Promise((r) => setTimeout(r, 20))
  }
  assert.equal(killed.size, 3)
  const until = Date.now() + 10000
  while (!f.logs.some((l) => l.includes('Workers keep crashing; backing off')) && Date.now() < until)
    await new Promise((r) => setTimeout(r, 50))
  assert.ok(
    f.logs.some((l) => l.includes('Workers keep crashing; backing off')),
    f.logs.join('\n'),
  )
  while (f.filter.workerPids().filter((p) => !killed.has(p)).length < 1 && Date.now() < until)
    await new Promise((r) => setTimeout(r, 50))
  assert.equal(f.filter.workerPids().filter((p) => !killed.has(p)).length, 1)
  await bus.waitFor(
    (m) => new Set(m.filter((x) => /^am\.st \d+ \S+ -$/.test(x[0])).map((x) => x[0].split(' ')[1])).size >= 2,
    15000,
    'a new worker ready',
  )
  const r = await sendMail({ port: f.port, from: 'a@example.org', to: ['b@example.net'], data: plainMessage() })
  assert.equal(r.finalCode, 250)
})

test('refuses to start with a bad checker address instead of crash-looping workers', async (t) => {
  await assert.rejects(startTestFilter(t, { filter: { clamd_address: 'not a socket' } }), /Invalid socket address/)
})

test('malformed input against the real workers: right errors, no crash, every kind counted', async (t) => {
  const sink = await startSmtpSink(t)
  const { bus, ...f } = await startFilterStack(t, {
    forwardPort: sink.port,
    filter: { max_servers: 1, max_requests: 100, smtpd_message_size_limit: 100000 },
  })
  const pid = f.filter.workerPids()[0]
  const c = await openSmtp({ port: f.port })
  await c.command('EHLO x')
  const big = Buffer.alloc(1024 * 1024, 0x41)
  for (let i = 0; i < big.length; i += 65536) c.write(big.subarray(i, i + 65536))
  c.write('\r\n')
  assert.match((await c.readReply()).raw, /^500 5\.5\.2 Error: line too long/)
  c.write(Buffer.from('NOOP\0\r\n'))
  assert.equal((await c.readReply()).code, 500)
  assert.equal((await c.command('MAIL FROM:<a@example.org> SIZE=999999999')).code, 552)
  c.write('MAIL FROM:<a@example.org>\nRCPT TO:<b@example.net>\nDATA\n')
  assert.equal((await c.readReply()).code, 250)
  assert.equal((await c.readReply()).code, 250)
  assert.equal((await c.readReply()).code, 354)
  c.write('Subject: bare lf\n\nbody\n.\n')
  assert.equal((await c.readReply()).code, 250)
  await c.quit()
  await bus.waitFor((m) => m.some((x) => x[0].startsWith('vigil.stats ')), 10000, 'vigil.stats')
  const stats = JSON.parse(bus.messages.find((x) => x[0].startsWith('vigil.stats '))![0].slice(12))
  assert.equal(stats.pid, pid)
  assert.deepEqual(Object.keys(stats.smtp_protocol_errors).sort(), ['bare_lf', 'line_too_long', 'nul_byte', 'oversize'])
  assert.ok(f.filter.workerPids().includes(pid), 'the worker did not crash')
  assert.equal((await sink.waitForMessages(1))[0].header('subject'), 'bare lf')
})
