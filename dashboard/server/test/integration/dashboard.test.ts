// The dashboard against a real collector: login required for the API, JSON relayed under one
// origin, subjects in rot13 for a viewer (search hits, aggregations, /api/events, the SSE stream)
// and raw for an admin, a clear 502 when the collector is away, and the React app logging in
// under the strict CSP in a real headless Chromium.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { join } from 'node:path'
import { Publisher, Dealer } from 'zeromq'
import { commonConfigSchema, createLogger, formatAbsTime, rot13 } from '@vigil/protocol'
import { collectorConfigSchema } from '@vigil/collector/config.ts'
import { createCollector } from '@vigil/collector/app.ts'
import { buildDashboardApp, createDashboard } from '../../src/app.ts'
import { dashboardConfigSchema } from '../../src/config.ts'
import { createUserStore } from '../../src/auth/users.ts'
import { freePort, openBrowserPage, tmpDir } from '../../../../test/harness/index.ts'
import { buildWeb, login, type Client } from '../helpers.ts'

const log = createLogger({ name: 'test', level: 'fatal' })
const SUBJECT = 'Hello Kitty <img src=x onerror=alert(1)> Grüße'

async function startStack(t: import('node:test').TestContext, dashExtra: Record<string, unknown> = {}) {
  const home = await tmpDir(t, 'vigil-dash-')
  const inner = `ipc://${join(home, 'amavisd-zmq.sock')}`
  const common = commonConfigSchema.parse({
    home,
    myhostname: 'mx-test.example',
    zmq: {
      inner: [inner],
      outer: `tcp://127.0.0.1:${await freePort()}`,
      snmp: `tcp://127.0.0.1:${await freePort()}`,
      events: `ipc://${join(home, 'ev.sock')}`,
    },
  })
  const httpPort = await freePort()
  const collector = createCollector(common, collectorConfigSchema.parse({ http_listen: `127.0.0.1:${httpPort}` }), {
    log,
  })
  await collector.start()
  t.after(() => collector.stop())
  const users = createUserStore(home, { scryptLogN: 10 })
  await users.add('ann', 'admin', 'admin-password-1')
  await users.add('vic', 'viewer', 'viewer-password-1')
  users.close()
  const dash = createDashboard(
    common,
    dashboardConfigSchema.parse({
      listen: `127.0.0.1:${await freePort()}`,
      collector_http: `127.0.0.1:${httpPort}`,
      web_dir: await buildWeb(),
      auth: { scrypt_log_n: 10 },
      ...dashExtra,
    }),
    { log },
  )
  await dash.start()
  t.after(() => dash.stop())
  const pub = new Publisher({ linger: 0 })
  pub.connect(inner)
  t.after(() => pub.close())
  const push = new Dealer({ linger: 0 })
  push.connect(common.zmq.events!)
  t.after(() => push.close())
  return { dash, pub, push, httpPort, home }
}

async function publishBusyChild(pub: Publisher, pid: number) {
  const now = Date.now() / 1000
  await pub.send(`am.st ${pid} ${formatAbsTime(now)} A`)
  await pub.send(`am.st ${pid} ${formatAbsTime(now)} m ${String(pid).padStart(5, '0')}-01`)
  await pub.send(`am.st ${pid} 12 S ${String(pid).padStart(5, '0')}-01`)
}

function event(): string {
  const t = Date.now() - 60_000
  return JSON.stringify({
    '@timestamp': new Date(t).toISOString(),
    type: 'amavis',
    host: 'mx-test',
    log_id: '4711-01',
    mail_id: 'mailid000001',
    client_ip: '8.8.8.8',
    mail_from: 'sender@example.org',
    rcpt_to: ['rcpt@example.net'],
    rcpt_num: 1,
    recipients: [{ rcpt_to: 'rcpt@example.net', rcpt_is_local: true, action: 'PASS' }],
    content_type: 'Clean',
    action: ['PASS'],
    subject: SUBJECT,
    subject_rot13: rot13(SUBJECT),
    size: 1234,
    message: '4711-01 PASS Clean <sender@example.org> -> <rcpt@example.net>',
    time_unix: t / 1000,
    elapsed: { Total: 0.5 },
  })
}

async function waitFor<T>(fn: () => Promise<T | undefined | false>, what: string, ms = 15000): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = await fn()
    if (v) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

test('the API needs a login; status and counters are relayed for a logged-in user', async (t) => {
  const { dash, pub } = await startStack(t)
  const base = `http://${dash.address}`
  for (const path of ['/api/status', '/api/counters', '/api/search', '/api/stream', '/metrics', '/api/saved-searches'])
    assert.equal((await fetch(base + path)).status, 401, path)
  const page = await fetch(`${base}/`)
  assert.equal(page.status, 200, 'the app shell (login form) is public')
  assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/)
  const html = await page.text()
  assert.match(html, /<div id="root"><\/div>/)
  assert.match(html, /<meta name="csp-nonce" content="[A-Za-z0-9+/=]{20,}">/)
  assert.doesNotMatch(html, /<script(?![^>]*src=)[^>]*>/, 'no inline script')

  const ann = await login(base, 'ann', 'admin-password-1')
  let status: { processes: { pid: number; state: string }[] } = { processes: [] }
  for (let i = 0; i < 50 && !status.processes.some((p) => p.pid === 4242); i++) {
    await publishBusyChild(pub, 4242)
    await new Promise((r) => setTimeout(r, 100))
    status = (await (await ann.get('/api/status')).json()) as typeof status
  }
  const row = status.processes.find((p) => p.pid === 4242)
  assert.ok(row, 'the published child appears in /api/status through the dashboard')
  assert.equal(row.state, 'S')
  const counters = await ann.get('/api/counters')
  assert.equal(counters.status, 200)
  assert.ok('counters' in ((await counters.json()) as object))
  assert.equal((await ann.get('/metrics')).status, 200)
})

async function sseFirst(c: Client, path: string, pred: (data: string) => boolean, ms = 10000): Promise<string> {
  const ctl = new AbortController()
  const timer = setTimeout(() => ctl.abort(), ms)
  try {
    const res = await c.get(path, { signal: ctl.signal })
    assert.equal(res.status, 200)
    const dec = new TextDecoder()
    let buf = ''
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += dec.decode(chunk, { stream: true })
      const complete = buf.split('\n').slice(0, -1)
      for (const line of complete) if (line.startsWith('data:') && pred(line)) return line.slice(5).trim()
    }
    throw new Error('stream ended')
  } finally {
    clearTimeout(timer)
    ctl.abort()
  }
}

test('a viewer receives subjects only in rot13 (search, aggs, events); an admin gets them raw', async (t) => {
  const { dash, push } = await startStack(t)
  const base = `http://${dash.address}`
  const ann = await login(base, 'ann', 'admin-password-1')
  const vic = await login(base, 'vic', 'viewer-password-1')
  assert.equal(ann.me.raw_subjects, true)
  assert.equal(vic.me.raw_subjects, false)
  await waitFor(async () => {
    await push.send(event())
    const r = (await (await ann.get('/api/search?size=0&q=log_id:4711-01')).json()) as { total: number }
    return r.total > 0
  }, 'the event to be searchable')

  const hits = async (c: Client, q = 'log_id:4711-01') =>
    ((await (await c.get(`/api/search?size=5&q=${encodeURIComponent(q)}`)).json()) as { hits: { subject: string }[] })
      .hits
  assert.equal((await hits(ann))[0].subject, SUBJECT)
  const vHits = await hits(vic)
  assert.equal(vHits[0].subject, rot13(SUBJECT))
  assert.ok(!JSON.stringify(vHits).includes('Hello Kitty'), 'no raw subject anywhere in the viewer answer')

  // The viewer's subject field speaks rot13: a value copied from what they see finds the event.
  assert.equal((await hits(vic, 'subject:xvggl')).length > 0, true)
  assert.equal((await hits(ann, 'subject:kitty')).length > 0, true)

  const aggs = encodeURIComponent(JSON.stringify({ s: { type: 'terms', field: 'subject.keyword', size: 5 } }))
  const keys = async (c: Client) =>
    (
      (await (await c.get(`/api/search/aggs?q=log_id:4711-01&aggs=${aggs}`)).json()) as {
        aggs: { s: { buckets: { key: string }[] } }
      }
    ).aggs.s.buckets.map((b) => b.key)
  assert.deepEqual(await keys(ann), [SUBJECT])
  assert.deepEqual(await keys(vic), [rot13(SUBJECT)])
  const short = (await (await vic.get('/api/search/aggs?q=*&terms=subject.keyword')).json()) as {
    aggs: Record<string, { buckets: { key: string }[] }>
  }
  assert.ok(!JSON.stringify(short).includes('Hello Kitty'))

  const events = async (c: Client) => JSON.stringify(await (await c.get('/api/events?limit=10')).json())
  assert.ok((await events(ann)).includes('Hello Kitty'))
  const ve = await events(vic)
  assert.ok(ve.includes(rot13('Hello Kitty')) && !ve.includes('Hello Kitty'))

  // The real collector's stream: both get the event; it carries no subject today.
  const line = await sseFirst(vic, '/api/stream', (d) => d.includes('"processes"') || d.includes('4711-01'))
  assert.ok(!line.includes('Hello Kitty'))
})

test('the SSE stream is rewritten line by line for a viewer (subjects in rot13, raw for an admin)', async (t) => {
  // A stand-in collector whose stream carries subjects (as a live "current message" would).
  const fake = createServer((req, res) => {
    if (req.url !== '/api/stream') return void res.writeHead(404).end()
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write(`event: hello\ndata: {"processes":[]}\n\n`)
    const payload = JSON.stringify({ log_id: 'x', subject: SUBJECT, nested: [{ subject: 'Secret plan' }] })
    // Split mid-line to exercise the line buffer.
    res.write(`event: event\ndata: ${payload.slice(0, 10)}`)
    setTimeout(() => res.write(`${payload.slice(10)}\n\n`), 50)
  })
  await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r))
  t.after(() => new Promise<void>((r) => fake.close(() => r())))
  fake.unref()
  const port = (fake.address() as import('node:net').AddressInfo).port
  const home = await tmpDir(t, 'vigil-dash-sse-')
  const users = createUserStore(home, { scryptLogN: 10 })
  await users.add('ann', 'admin', 'admin-password-1')
  await users.add('vic', 'viewer', 'viewer-password-1')
  users.close()
  const dash = createDashboard(
    commonConfigSchema.parse({ home }),
    dashboardConfigSchema.parse({
      listen: `127.0.0.1:${await freePort()}`,
      collector_http: `127.0.0.1:${port}`,
      web_dir: await buildWeb(),
      auth: { scrypt_log_n: 10 },
    }),
    { log },
  )
  await dash.start()
  t.after(() => dash.stop())
  const base = `http://${dash.address}`
  const vic = await login(base, 'vic', 'viewer-password-1')
  const ann = await login(base, 'ann', 'admin-password-1')
  const v = JSON.parse(await sseFirst(vic, '/api/stream', (d) => d.includes('log_id')))
  assert.equal(v.subject, rot13(SUBJECT))
  assert.equal(v.nested[0].subject, rot13('Secret plan'))
  const a = JSON.parse(await sseFirst(ann, '/api/stream', (d) => d.includes('log_id')))
  assert.equal(a.subject, SUBJECT)
})

test('answers 502 with a reason when the collector is unreachable', async (t) => {
  const home = await tmpDir(t, 'vigil-dash-502-')
  const users = createUserStore(home, { scryptLogN: 10 })
  t.after(() => users.close())
  await users.add('ann', 'admin', 'admin-password-1')
  const cfg = dashboardConfigSchema.parse({
    collector_http: `127.0.0.1:${await freePort()}`,
    upstream_timeout_secs: 2,
    web_dir: await buildWeb(),
  })
  const app = await buildDashboardApp(cfg, log, users)
  t.after(() => app.close())
  const loginRes = await app.inject({
    method: 'POST',
    url: '/api/login',
    payload: { name: 'ann', password: 'admin-password-1' },
  })
  assert.equal(loginRes.statusCode, 200)
  const cookie = loginRes.cookies.map((c) => `${c.name}=${c.value}`).join('; ')
  const res = await app.inject({ method: 'GET', url: '/api/status', headers: { cookie } })
  assert.equal(res.statusCode, 502)
  assert.match(res.json().error, /unreachable/)
})

test('a user logs in through the React login form in a real headless Chromium under the CSP', async (t) => {
  const { dash } = await startStack(t)
  const page = await openBrowserPage(t)
  await page.goto(`http://${dash.address}/`)
  await page.getByTestId('login-form').waitFor()
  await page.getByLabel('User').fill('vic')
  await page.getByLabel('Password').fill('wrong-password')
  await page.getByTestId('login-submit').click()
  await page.getByTestId('login-error').waitFor()
  await page.getByLabel('Password').fill('viewer-password-1')
  await page.getByTestId('login-submit').click()
  await page.getByTestId('who').waitFor()
  assert.match((await page.getByTestId('who').textContent()) ?? '', /vic \(viewer\)/)
  assert.equal(await page.getByTestId('nav-admin').count(), 0, 'no Admin link for a viewer')
  await page.getByTestId('logout').click()
  await page.getByTestId('login-form').waitFor()
  const errors = page.errors.filter((e) => !/401|Unauthorized|Failed to load resource/.test(e))
  assert.deepEqual(errors, [], 'no console errors (CSP violations) besides the expected 401s')
})

test('the admin page lists users and adds one; a viewer is told it is admin only', async (t) => {
  const { dash, home } = await startStack(t)
  const page = await openBrowserPage(t)
  await page.goto(`http://${dash.address}/#/admin`)
  await page.getByLabel('User').fill('ann')
  await page.getByLabel('Password').fill('admin-password-1')
  await page.getByTestId('login-submit').click()
  await page.getByTestId('user-vic').waitFor()
  const form = page.getByTestId('add-user-form')
  await form.getByLabel('Name').fill('zoe')
  await form.getByLabel('Role').selectOption('viewer')
  await form.getByLabel('Password').fill('zoe-password-1')
  await page.getByTestId('add-user-submit').click()
  await page.getByTestId('user-zoe').waitFor()
  const users = createUserStore(home, { scryptLogN: 10 })
  t.after(() => users.close())
  assert.equal(users.get('zoe')?.role, 'viewer')
  assert.ok(await users.verify('zoe', 'zoe-password-1'))
  await page.getByTestId('logout').click()
  await page.getByLabel('User').fill('zoe')
  await page.getByLabel('Password').fill('zoe-password-1')
  await page.getByTestId('login-submit').click()
  await page.getByTestId('admin-forbidden').waitFor()
  assert.deepEqual(
    page.errors.filter((e) => !/401|Unauthorized|Failed to load resource/.test(e)),
    [],
  )
})
