// `vigil start` end to end: the supervisor starts the real collector and filter as child
// processes; one message sent to the filter arrives at a real Postfix smtp-sink; SIGINT stops the
// supervisor, every component and every worker they forked.
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { it } from 'node:test'
import { sendMail, startSmtpSink, tmpDir, waitFor } from '../harness/index.ts'
import { processesInGroups, startSupervisor, startedPids, writeStartConfig } from './supervisor.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const BIN = join(ROOT, 'bin/vigil.mjs')

function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return false
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH'
  }
}

it('vigil start runs filter, collector and dashboard; mail flows, also after a filter crash; SIGINT stops every process', async (t) => {
  const missing = ['filter-core', 'collector', 'dashboard/server'].filter(
    (dir) => !existsSync(join(ROOT, dir, 'src/app.ts')),
  )
  if (missing.length > 0) {
    t.skip(`component not built yet: ${missing.map((d) => `${d}/src/app.ts`).join(', ')} missing`)
    return
  }
  const dir = await tmpDir(t, 'e2e-start')
  const sink = await startSmtpSink(t)
  const { configFile, filterPort, httpPort, dashboardPort } = await writeStartConfig(dir, sink.port)
  const sup = await startSupervisor(t, { bin: BIN, configFile })
  assert.match(sup.out(), /Component not started: snmp-agent: disabled/)

  const sent = await sendMail({
    port: filterPort,
    from: 'sender@example.org',
    to: ['rcpt@example.com'],
    data: 'From: sender@example.org\r\nTo: rcpt@example.com\r\nSubject: vigil e2e start\r\nMessage-ID: <e2e-start@example.org>\r\n\r\nHello through vigil start.\r\n',
  })
  assert.ok(sent.accepted, `the filter did not accept the message: ${sent.finalReply?.raw ?? sent.error}\n${sup.out()}`)
  const [mail] = await sink.waitForMessages(1, 60_000)
  assert.equal(mail.mailFrom, 'sender@example.org')
  assert.deepEqual(mail.rcpts, ['rcpt@example.com'])
  assert.equal(mail.header('subject'), 'vigil e2e start')
  assert.match(mail.body.toString('utf8'), /Hello through vigil start\./)

  for (const url of [`http://127.0.0.1:${httpPort}/metrics`, `http://127.0.0.1:${dashboardPort}/`]) {
    const res = await fetch(url)
    assert.equal(res.status, 200, url)
    await res.body?.cancel()
  }

  const [firstFilter] = startedPids(sup.out(), 'filter')
  const firstFilterGroup = processesInGroups(new Set([firstFilter]))
  assert.ok(firstFilterGroup.length >= 2, `expected the filter master and its workers, found ${firstFilterGroup}`)

  // A crashed filter (master killed outright) is restarted; its orphaned workers are killed.
  process.kill(firstFilter, 'SIGKILL')
  await waitFor(
    () => startedPids(sup.out(), 'filter').length === 2 && sup.out().split('[filter] listening: ').length === 3,
    {
      timeoutMs: 60_000,
      what: 'the restarted filter',
    },
  ).catch((err: Error) => assert.fail(`${err.message}\n${sup.out()}`))
  assert.match(
    sup.out(),
    new RegExp(`Process \\[${firstFilter}\\] exited \\(vigil filter\\) after [\\d.]+ s: KILLED, signal 9`),
  )
  assert.match(sup.out(), /Restarting \(vigil filter\) in 1\.0 s\./)
  await waitFor(() => firstFilterGroup.every(isGone), { timeoutMs: 10_000, what: 'the old filter workers to be gone' })
  const again = await sendMail({
    port: filterPort,
    from: 'sender@example.org',
    to: ['rcpt@example.com'],
    data: 'From: sender@example.org\r\nTo: rcpt@example.com\r\nSubject: after restart\r\n\r\nStill flowing.\r\n',
  })
  assert.ok(again.accepted, `the restarted filter did not accept the message: ${again.finalReply?.raw ?? again.error}`)
  const both = await sink.waitForMessages(2, 60_000)
  assert.equal(both[1].header('subject'), 'after restart')

  const children = new Set(['filter', 'collector', 'dashboard'].map((n) => startedPids(sup.out(), n).at(-1) as number))
  assert.equal(children.size, 3, sup.out())
  const everyPid = processesInGroups(children)
  assert.ok(everyPid.length >= 4, `expected the components and the filter's workers, found ${everyPid}`)

  sup.kill('SIGINT')
  assert.equal(await sup.exited, 0, sup.out())
  await waitFor(() => everyPid.every(isGone), { timeoutMs: 10_000, what: `processes ${everyPid} to be gone` })
  assert.match(sup.out(), /Supervisor stopped\./)
  assert.ok(!existsSync(join(dir, 'home', 'vigil.pid')), 'the pid file is removed')
})
