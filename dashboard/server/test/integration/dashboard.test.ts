// The dashboard against a real collector: JSON relayed under one origin, a clear 502 when the
// collector is away, and the page rendered by a real headless Chromium shows live processes.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { Publisher } from 'zeromq'
import { commonConfigSchema, createLogger, formatAbsTime } from '@vigil/protocol'
import { collectorConfigSchema } from '@vigil/collector/config.ts'
import { createCollector } from '@vigil/collector/app.ts'
import { buildDashboardApp, createDashboard } from '../../src/app.ts'
import { dashboardConfigSchema } from '../../src/config.ts'
import { freePort, openPage, tmpDir } from '../../../../test/harness/index.ts'

const log = createLogger({ name: 'test', level: 'fatal' })

async function startStack(t: import('node:test').TestContext) {
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
  const dash = createDashboard(
    common,
    dashboardConfigSchema.parse({ listen: `127.0.0.1:${await freePort()}`, collector_http: `127.0.0.1:${httpPort}` }),
    { log },
  )
  await dash.start()
  t.after(() => dash.stop())
  const pub = new Publisher({ linger: 0 })
  pub.connect(inner)
  t.after(() => pub.close())
  return { dash, pub, httpPort }
}

async function publishBusyChild(pub: Publisher, pid: number) {
  const now = Date.now() / 1000
  // The collector may not have seen the connection yet (slow joiner): repeat until it shows up.
  await pub.send(`am.st ${pid} ${formatAbsTime(now)} A`)
  await pub.send(`am.st ${pid} ${formatAbsTime(now)} m ${String(pid).padStart(5, '0')}-01`)
  await pub.send(`am.st ${pid} 12 S ${String(pid).padStart(5, '0')}-01`)
}

test('relays the collector status and counters under the dashboard origin', async (t) => {
  const { dash, pub } = await startStack(t)
  let status: { processes: { pid: number; state: string }[] } = { processes: [] }
  for (let i = 0; i < 50 && !status.processes.some((p) => p.pid === 4242); i++) {
    await publishBusyChild(pub, 4242)
    await new Promise((r) => setTimeout(r, 100))
    status = await (await fetch(`http://${dash.address}/api/status`)).json()
  }
  const row = status.processes.find((p) => p.pid === 4242)
  assert.ok(row, 'the published child appears in /api/status through the dashboard')
  assert.equal(row.state, 'S')
  const counters = await fetch(`http://${dash.address}/api/counters`)
  assert.equal(counters.status, 200)
  assert.ok('counters' in (await counters.json()))
  const page = await fetch(`http://${dash.address}/`)
  assert.match(page.headers.get('content-type') ?? '', /text\/html/)
  assert.match(await page.text(), /<table id="procs">/)
})

test('answers 502 with a reason when the collector is unreachable', async () => {
  const cfg = dashboardConfigSchema.parse({ collector_http: `127.0.0.1:${await freePort()}`, upstream_timeout_secs: 2 })
  const app = await buildDashboardApp(cfg, log)
  const res = await app.inject({ method: 'GET', url: '/api/status' })
  assert.equal(res.statusCode, 502)
  assert.match(res.json().error, /unreachable/)
  await app.close()
})

test('renders live processes in a real headless Chromium', async (t) => {
  const { dash, pub } = await startStack(t)
  for (let i = 0; i < 50; i++) {
    await publishBusyChild(pub, 5151)
    const s = await (await fetch(`http://${dash.address}/api/status`)).json()
    if (s.processes.some((p: { pid: number }) => p.pid === 5151)) break
    await new Promise((r) => setTimeout(r, 100))
  }
  const page = await openPage(t, `http://${dash.address}/`)
  await page.waitFor(
    `[...document.querySelectorAll('#procs td')].some((td) => td.textContent === '5151')`,
    'the process row',
  )
  await page.waitFor(`document.getElementById('conn').className === 'conn up'`, 'the event stream to connect')
  if (process.env.VIGIL_SCREENSHOT) await page.screenshot(process.env.VIGIL_SCREENSHOT)
  const dom = await page.html()
  assert.match(dom, /S spam scan/)
  assert.deepEqual(page.errors, [], 'no console errors or uncaught exceptions')
})
