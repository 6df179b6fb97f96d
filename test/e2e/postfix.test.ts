// Acceptance (issue 14, point 2): Vigil behind a real Postfix, in both of the talk's set-ups, over
// [::1]: post-queue (content_filter → Vigil → re-injection smtpd) and pre-queue
// (smtpd_proxy_filter with speed_adjust → Vigil → second smtpd), delivering into a maildir.
// Postfix's and Vigil's configuration come from deploy/postfix/ (the files the README quotes), with
// only the port numbers replaced by free ones. The filter runs as its own process (so it can be
// killed -9); the collector runs in this process and serves the events over its HTTP API.
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { commonConfigSchema, eventsSocket, innerSocket, createLogger } from '@vigil/protocol'
import {
  freePort,
  freePorts,
  mimeWithAttachment,
  runSmtpSource,
  sendMail,
  spawnService,
  startPostfix,
  tmpDir,
  type MaildirMessage,
  type Postfix,
  type ServiceProcess,
} from '../harness/index.ts'
import { needs, ROOT } from './stack.ts'

const SNIPPETS = join(ROOT, 'deploy/postfix')
/** Messages per client address family (smtp-source into Postfix). */
const N = 20
const FROM = 'sender@vigil.test'
const TO = 'rcpt@vigil.test'

/** A deploy/postfix/ file with the documented ports (and the public `smtp` service's name) replaced. */
function snippet(name: string, ports: Record<number, number>, publicPort?: number): string {
  let text = readFileSync(join(SNIPPETS, name), 'utf8')
  for (const [from, to] of Object.entries(ports)) text = text.replace(new RegExp(`\\b${from}\\b`, 'g'), String(to))
  return publicPort === undefined ? text : text.replace(/^smtp(?= +inet )/m, String(publicPort))
}

function greets(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port })
    s.setTimeout(2000, () => s.destroy())
    s.once('data', (d: Buffer) => {
      s.end('QUIT\r\n')
      resolve(d.toString('latin1').startsWith('220'))
    })
    s.once('error', () => resolve(false))
    s.once('close', () => resolve(false))
  })
}

type Event = Record<string, unknown>

interface Vigil {
  /** The filter's master process (its workers are its children). */
  process: ServiceProcess
  /**
   * SIGKILL to the master and its workers at once, as a crash of the whole filter (a worker whose
   * master is gone keeps serving its current session, and Postfix's smtp client reuses that
   * session for further messages, so killing the master alone does not stop mail flowing).
   */
  kill9(): void
  restart(): Promise<void>
  events(): Promise<Event[]>
}

/** The collector in this process, and `vigil filter` (filter-core/src/main.ts) as a child process. */
async function startVigil(t: TestContext, filterYaml: string, filterPort: number): Promise<Vigil> {
  const { createCollector } = await import('@vigil/collector/app.ts')
  const { collectorConfigSchema } = await import('@vigil/collector/config.ts')
  const home = await tmpDir(t, 'e2e-postfix')
  const [outer, snmp] = await freePorts(2)
  const common = {
    home,
    myhostname: 'vigil.e2e.test',
    log_level: 'warn',
    zmq: {
      inner: [innerSocket(home)],
      outer: `tcp://127.0.0.1:${outer}`,
      snmp: `tcp://127.0.0.1:${snmp}`,
      events: eventsSocket(home),
    },
  }
  const filter = { ...(parseYaml(filterYaml) as { filter: object }).filter, max_servers: 2, zmq_slow_joiner_ms: 200 }
  const configFile = join(home, 'vigil.yaml')
  writeFileSync(configFile, JSON.stringify({ ...common, filter }))
  const collector = createCollector(
    commonConfigSchema.parse(common),
    collectorConfigSchema.parse({ http_listen: '127.0.0.1:0', nanny_interval_secs: 1 }),
    { log: createLogger({ name: 'e2e', level: 'warn', write: () => {} }) },
  )
  await collector.start()
  t.after(() => collector.stop())
  const spawn = () =>
    spawnService({
      t,
      name: 'vigil filter',
      cmd: process.execPath,
      args: ['--import', 'tsx', join(ROOT, 'filter-core/src/main.ts'), '--config', configFile],
      cwd: ROOT,
      logFile: join(home, 'filter.log'),
      readyTimeoutMs: 60_000,
      ready: () => greets('::1', filterPort),
    })
  const vigil: Vigil = {
    process: await spawn(),
    kill9: () => {
      const pid = vigil.process.pid
      const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(/\s+/).filter(Boolean)
      for (const p of [pid, ...children.map(Number)]) {
        try {
          process.kill(p, 'SIGKILL')
        } catch {}
      }
    },
    restart: async () => {
      vigil.process = await spawn()
    },
    events: async () => {
      const res = await fetch(`http://${collector.internals.httpAddress}/api/events?limit=1000`)
      return ((await res.json()) as { events: Event[] }).events.filter((e) => e.type === 'amavis')
    },
  }
  return vigil
}

/** N messages from 127.0.0.1 and N from ::1, each batch with its own HELO name (→ Message-ID domain). */
async function submitBoth(pf: Postfix): Promise<void> {
  for (const [host, helo] of [
    ['127.0.0.1', 'v4.client.test'],
    ['::1', 'v6.client.test'],
  ]) {
    const r = await runSmtpSource({ host, port: pf.port, count: N, sessions: 2, from: FROM, to: TO, myhostname: helo })
    assert.equal(r.code, 0, `smtp-source ${r.argv.join(' ')}: ${r.stderr}\n${await pf.log()}`)
  }
}

const clientOf = (messageId: string) => (messageId.includes('@v4.client.test') ? '127.0.0.1' : '::1')

/**
 * Every message exactly once, nothing left in the queue, nothing bounced. With `crashWindow`, a
 * message may arrive twice only where Postfix itself logged the RFC 1047 window for it (Vigil
 * killed after the next hop took the message and before its 250 reached Postfix: "lost connection
 * … while sending end of data -- message may be sent more than once"); any other duplicate fails.
 */
async function assertDeliveredOnce(
  pf: Postfix,
  mails: MaildirMessage[],
  total: number,
  crashWindow = false,
): Promise<void> {
  const log = await pf.log()
  const seen = new Map<string, number>()
  for (const m of mails) seen.set(m.header('message-id') ?? '', (seen.get(m.header('message-id') ?? '') ?? 0) + 1)
  for (const m of mails) {
    const id = m.header('message-id') ?? ''
    if (seen.get(id) === 1) continue
    // the first smtpd's queue ID: the bottom Received header
    const qid = /\bid ([0-9A-F]+)/.exec(m.headers('received').at(-1) ?? '')?.[1]
    const flagged =
      crashWindow && log.split('\n').some((l) => l.includes(`: ${qid}: `) && l.includes('may be sent more than once'))
    assert.ok(flagged, `${id} (queue ID ${qid}) delivered ${seen.get(id)} times`)
  }
  assert.equal(seen.size, total, [...seen.keys()].join(' '))
  assert.equal([...seen.keys()].filter((id) => id.includes('@v4.client.test')).length, total / 2)
  assert.deepEqual(await pf.queue(), [])
  assert.deepEqual(await pf.mailbox('sender'), [], 'a bounce reached the sender')
  assert.deepEqual(await pf.mailbox('postmaster'), [], 'a notice reached the postmaster')
  assert.doesNotMatch(log, /status=bounced/)
}

/** One event per delivered message, each naming the original client (XFORWARD), not Postfix's [::1] hop. */
async function assertEvents(vigil: Vigil, mails: MaildirMessage[], postQueue: boolean): Promise<void> {
  const ids = mails.map((m) => m.header('message-id')!)
  let events: Event[] = []
  for (let i = 0; i < 100 && events.length < ids.length; i++) {
    events = await vigil.events()
    if (events.length < ids.length) await new Promise((r) => setTimeout(r, 200))
  }
  const byId = new Map(events.map((e) => [String(e.message_id), e]))
  for (const id of ids) {
    const e = byId.get(id) ?? byId.get(id.replace(/^<|>$/g, ''))
    assert.ok(e, `no event for ${id} (${events.length} events)`)
    assert.equal(e.client_ip, clientOf(id), JSON.stringify(e))
    assert.equal(e.src_ip, '::1', 'Postfix reached Vigil over [::1]')
    // post-queue, XFORWARD IDENT is the queue ID of the first smtpd; pre-queue there is none yet
    if (postQueue) assert.match(String(e.queue_id), /^[0-9A-F]{6,}$/, JSON.stringify(e))
  }
}

/**
 * The smtpd after Vigil logs the original client (XFORWARD passed on by Vigil): Postfix keeps the
 * real connection in its Received header and logs `client=unknown[::1], …, orig_client=…[addr]`.
 */
async function assertXforwardPassedOn(pf: Postfix, mails: MaildirMessage[]): Promise<void> {
  const log = await pf.log()
  for (const m of mails) {
    const qid = /\bid ([0-9A-F]+)/.exec(m.headers('received')[0] ?? '')?.[1]
    const want = clientOf(m.header('message-id')!) === '127.0.0.1' ? '[127.0.0.1]' : '[::1]'
    const line = log.split('\n').find((l) => l.includes(`: ${qid}: client=`)) ?? ''
    assert.ok(qid && line.includes(`orig_client=`) && line.endsWith(want), `${qid}: ${line}`)
  }
}

test('the README quotes every deploy/postfix/ file verbatim (one source for the docs and these tests)', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  const files = readdirSync(SNIPPETS)
  assert.ok(files.length >= 5, files.join(' '))
  for (const f of files) {
    const text = readFileSync(join(SNIPPETS, f), 'utf8')
    const fence = f.endsWith('.yaml') ? '```yaml\n' : '```\n'
    assert.ok(readme.includes(`${fence}${text}\`\`\``), `README.md does not quote deploy/postfix/${f} verbatim`)
  }
})

async function postQueue(t: TestContext) {
  const [filterPort, reinject] = await freePorts(2, '::1')
  const ports = { 10024: filterPort, 10025: reinject }
  const pf = await startPostfix(t, {
    mainCf: snippet('post-queue.main.cf', ports) + 'minimal_backoff_time = 60s\nqueue_run_delay = 60s\n',
    masterCf: snippet('post-queue.master.cf', ports),
  })
  const vigil = await startVigil(t, snippet('post-queue.vigil.yaml', ports), filterPort)
  return { pf, vigil }
}

test('post-queue: content_filter → Vigil on [::1] → re-injection: N = N in the maildir, original client in every event', async (t) => {
  if (!needs(t, 'collector/src/app.ts', 'filter-core/src/main.ts')) return
  const { pf, vigil } = await postQueue(t)
  await submitBoth(pf)
  const mails = await pf.waitForMailbox('rcpt', 2 * N, 120_000)
  await assertDeliveredOnce(pf, mails, 2 * N)
  await assertXforwardPassedOn(pf, mails)
  await assertEvents(vigil, mails, true)
})

test('pre-queue: smtpd_proxy_filter (speed_adjust) → Vigil on [::1] → smtpd: N = N, and a banned attachment is rejected in the client session', async (t) => {
  if (!needs(t, 'collector/src/app.ts', 'filter-core/src/main.ts')) return
  const [proxy, after] = await freePorts(2, '::1')
  const port = await freePort()
  const ports = { 10010: proxy, 10011: after }
  const pf = await startPostfix(t, { port, publicSmtpd: false, masterCf: snippet('pre-queue.master.cf', ports, port) })
  const vigil = await startVigil(t, snippet('pre-queue.vigil.yaml', ports), proxy)
  await submitBoth(pf)
  const mails = await pf.waitForMailbox('rcpt', 2 * N, 120_000)
  await assertDeliveredOnce(pf, mails, 2 * N)
  await assertXforwardPassedOn(pf, mails)
  await assertEvents(vigil, mails, false)

  for (const host of ['127.0.0.1', '::1']) {
    const r = await sendMail({
      host,
      port: pf.port,
      from: FROM,
      to: [TO],
      data: mimeWithAttachment({ from: FROM, to: TO, filename: 'invoice.pdf.exe', attachment: 'MZ not really' }),
    })
    // the client's own session gets Vigil's verdict at the end of DATA
    assert.equal(r.dataReplies.length, 1, r.transcript.join('\n'))
    assert.equal(Math.floor(r.finalCode / 100), 5, r.transcript.join('\n'))
    assert.match(r.dataReplies[0].raw, /^554 5\.7\.0 .*BANNED/, r.transcript.join('\n'))
  }
  // nothing queued, delivered or bounced for the rejected ones
  await new Promise((r) => setTimeout(r, 1000))
  await assertDeliveredOnce(pf, await pf.mailbox('rcpt'), 2 * N)
})

test('post-queue: Vigil killed -9 mid-run → Postfix defers (connection refused) and delivers every message once after the restart and a flush', async (t) => {
  if (!needs(t, 'collector/src/app.ts', 'filter-core/src/main.ts')) return
  const { pf, vigil } = await postQueue(t)
  const v4 = runSmtpSource({ port: pf.port, count: N, sessions: 2, from: FROM, to: TO, myhostname: 'v4.client.test' })
  await pf.waitForMailbox('rcpt', 3, 60_000)
  vigil.kill9()
  await vigil.process.exited
  const first = await v4
  assert.equal(first.code, 0, first.stderr)
  // Postfix keeps accepting while the filter is down
  const v6 = await runSmtpSource({
    host: '::1',
    port: pf.port,
    count: N,
    from: FROM,
    to: TO,
    myhostname: 'v6.client.test',
  })
  assert.equal(v6.code, 0, v6.stderr)

  const deferred = await (async () => {
    for (let i = 0; i < 200; i++) {
      const q = await pf.queue()
      if (q.length >= N && q.every((e) => e.queue_name === 'deferred')) return q
      await new Promise((r) => setTimeout(r, 100))
    }
    assert.fail(
      `queue never settled as deferred (${(await pf.mailbox('rcpt')).length} delivered): ${JSON.stringify(await pf.queue())}`,
    )
  })()
  for (const e of deferred)
    assert.match(e.recipients[0]?.delay_reason ?? '', /refused|connect to|lost connection/i, JSON.stringify(e))
  assert.deepEqual(await pf.mailbox('sender'), [], 'nothing bounced while Vigil was down')

  await vigil.restart()
  await pf.flush()
  const unique = async () => new Set((await pf.mailbox('rcpt')).map((m) => m.header('message-id'))).size
  for (let i = 0; i < 600 && (await unique()) < 2 * N; i++) await new Promise((r) => setTimeout(r, 200))
  const mails = await pf.mailbox('rcpt')
  await new Promise((r) => setTimeout(r, 1000)) // a duplicate would arrive now
  await assertDeliveredOnce(pf, await pf.mailbox('rcpt'), 2 * N, true)
  await assertXforwardPassedOn(pf, mails)
})
