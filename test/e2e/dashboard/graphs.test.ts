// The Graphs page in a real Chromium against a real collector and dashboard: am.snmp counter
// traffic published on the collector's inner ZMQ socket (as amavis children do) and the minder's
// Proc* gauges are sampled into the counter history; the collector is restarted on the same home
// with its totals file removed (totals lost); the page draws the SNMP graph set from
// /api/history, draws the reset mark on the canvases (red pixels on the dashed line, counted by
// the draw hook) and lists it, names the restart in data-restarts exactly as the API does, draws
// the Postfix queue entries of a real Postfix queue (built by Postfix, protocol/test/postfix-spool.ts)
// as a gauge with the API's numbers and a gap once a queue directory cannot be read, switches the
// time range through the URL, and passes axe. Screenshot kept.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { rename as renameDir } from 'node:fs/promises'
import { Publisher } from 'zeromq'
import { makePostfixQueue, postfixMissing } from '../../../protocol/test/postfix-spool.ts'
import { artifactsDir, formatAxe, openBrowserPage, runAxe, waitFor, type Owner } from '../../harness/index.ts'
import { startDashboardStack } from './stack.ts'

const TIERS = [
  { step_secs: 1, retention_secs: 3600 },
  { step_secs: 5, retention_secs: 86400 },
]
const QUEUES = ['Maildrop', 'Incoming', 'Active', 'Deferred'].map((q) => `MtaQueueEntries${q}`)

const CONTENT = ['ContentCleanMsgs', 'ContentCleanMsgs', 'ContentSpamMsgs', 'ContentVirusMsgs', 'ContentBannedMsgs']

/** An amavis child on the inner socket: publishes `n` messages' counters, a few per second. */
async function amavisTraffic(
  t: Owner,
  endpoint: string,
  n: number,
  messagesIn: () => number,
  counted: () => Promise<number>,
  want: number,
) {
  const pub = new Publisher({ linger: 0 })
  pub.connect(endpoint)
  t.after(() => pub.close())
  // the slow joiner: a no-op until the collector hears this socket
  const before = messagesIn()
  await waitFor(
    async () => {
      await pub.send('vigil.sync')
      await new Promise((r) => setTimeout(r, 50))
      return messagesIn() > before
    },
    { timeoutMs: 10_000, intervalMs: 0, what: 'publisher connected' },
  )
  for (let i = 0; i < n; i++) {
    await pub.send([
      'am.snmp InMsgs C32 1',
      'am.snmp InMsgsRecips C32 2',
      'am.snmp InMsgsSize C64 4200',
      'am.snmp OutMsgs C32 1',
      'am.snmp OutMsgsSize C64 4300',
      `am.snmp ${CONTENT[i % CONTENT.length]} C32 1`,
      'am.snmp TimeElapsedTotal C32 850',
      'am.snmp TimeElapsedReceiving C32 40',
      'am.snmp TimeElapsedSpamCheck C32 600',
      'am.snmp TimeElapsedVirusCheck C32 150',
      'am.snmp TimeElapsedSending C32 60',
      ...(i % 4 === 3 ? ['am.snmp LogEntriesErr C64 1'] : []),
    ])
    await new Promise((r) => setTimeout(r, 120))
  }
  await waitFor(async () => (await counted()) >= want, { timeoutMs: 15_000, intervalMs: 100, what: `InMsgs ${want}` })
}

test('the Graphs page draws the SNMP graph set and the reset mark of a collector restart with totals lost', async (t) => {
  const missing = postfixMissing()
  if (missing) return t.skip(missing)
  const queue = await makePostfixQueue(t, { deferred: 2, maildrop: 1 })
  const HISTORY = { tiers: TIERS, postfix_queue_directory: queue.spool }
  const s = await startDashboardStack(t, { name: 'graphs', collector: { history: HISTORY } })
  const inMsgs = async () => Number((await s.collectorGet('/api/counters')).counters.InMsgs?.value ?? 0)
  const inner = s.common.zmq.inner[0]
  await amavisTraffic(t, inner, 12, () => s.collector.internals.stats.messagesIn, inMsgs, 12)
  await new Promise((r) => setTimeout(r, 1500))

  // restart the collector on the same home and HTTP address, its totals lost
  await s.collector.stop()
  await rm(join(s.home, 'collector-totals.json'))
  const restartedAt = Date.now()
  const { createCollector } = await import('@vigil/collector/app.ts')
  const { collectorConfigSchema } = await import('@vigil/collector/config.ts')
  const c2 = createCollector(
    s.common,
    collectorConfigSchema.parse({
      http_listen: s.collectorHttp,
      nanny_interval_secs: 1,
      persist_interval_secs: 1,
      history: HISTORY,
    }),
    { log: s.log },
  )
  await c2.start()
  t.after(() => c2.stop())
  await amavisTraffic(t, inner, 12, () => c2.internals.stats.messagesIn, inMsgs, 12)
  await new Promise((r) => setTimeout(r, 1500))

  const api = await s.collectorGet('/api/history?names=InMsgs,ContentCleanMsgs,ProcBusy&from=now-1h')
  assert.equal(api.restarts.length, 1, JSON.stringify(api.marks))
  assert.ok(api.restarts[0] >= restartedAt)
  assert.equal(api.marks[0].kind, 'reset')
  for (const n of ['InMsgs', 'ContentCleanMsgs'])
    assert.ok(
      api.series[n].values.every((v: number | null) => v === null || v >= 0),
      `${n}: ${JSON.stringify(api.series[n].values)}`,
    )

  const page = await openBrowserPage(t, { width: 1280, height: 1500 })
  await s.login(page, 'viewer')
  await page.goto(s.href('graphs', { range: '1h' }))
  const root = page.getByTestId('graphs')
  await waitFor(async () => ((await root.getAttribute('data-restarts')) ?? '') !== '', {
    timeoutMs: 20_000,
    what: 'data-restarts on the page',
  })
  assert.equal(await root.getAttribute('data-restarts'), String(api.restarts[0]))
  await assert.doesNotReject(
    page
      .getByTestId('graphs-marks')
      .getByText(/totals lost/)
      .waitFor({ timeout: 5000 }),
  )

  // every panel with counters draws its lines and the mark
  for (const id of ['load', 'timing', 'rate', 'size', 'content', 'elapsed', 'errors']) {
    const panel = page.getByTestId(`graph-${id}`)
    await waitFor(async () => (await panel.getAttribute('data-marks-drawn')) === '1', {
      timeoutMs: 10_000,
      what: `the mark drawn on ${id}`,
    })
    assert.ok(Number(await panel.getAttribute('data-lines')) >= 1, id)
  }
  // the mark is on the canvas: red (#c0392b) pixels, which no line uses
  const red = await page
    .getByTestId('graph-rate')
    .locator('canvas')
    .evaluate((c: any) => {
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data
      let n = 0
      for (let i = 0; i < d.length; i += 4)
        if (Math.abs(d[i] - 192) < 12 && Math.abs(d[i + 1] - 57) < 12 && Math.abs(d[i + 2] - 43) < 12) n++
      return n
    })
  assert.ok(red > 20, `red pixels of the mark: ${red}`)
  // the Postfix queue: a gauge panel (levels, not rates) with the API's newest values
  const queuePanel = page.getByTestId('graph-queue')
  assert.equal(await queuePanel.getAttribute('data-kind'), 'gauge')
  assert.equal(await queuePanel.getAttribute('data-lines'), '4')
  const qApi = await s.collectorGet(`/api/history?names=${QUEUES.join(',')}&from=now-1h`)
  for (const n of QUEUES) assert.equal(qApi.series[n].kind, 'gauge')
  const newest = (a: any, n: string) => a.series[n].values.filter((v: number | null) => v !== null).at(-1)
  assert.deepEqual(
    QUEUES.map((n) => newest(qApi, n)),
    [1, 0, 0, 2],
  )
  assert.equal(await queuePanel.getAttribute('data-latest'), 'maildrop=1,incoming=0,active=0,deferred=2')

  const shot = join(await artifactsDir(t), 'graphs.png')
  await page.screenshot({ path: shot, fullPage: true })

  // the deferred directory becomes unreadable: its line has a gap (no value), never a 0
  await renameDir(join(queue.spool, 'deferred'), join(queue.spool, 'deferred.away'))
  t.after(() => renameDir(join(queue.spool, 'deferred.away'), join(queue.spool, 'deferred')).catch(() => {}))
  await waitFor(
    async () => {
      const a = await s.collectorGet(`/api/history?names=${QUEUES.join(',')}&from=now-10s&step=1s`)
      return a.series.MtaQueueEntriesDeferred.values.slice(-3).every((v: number | null) => v === null)
    },
    { timeoutMs: 15_000, what: 'deferred absent from the newest samples' },
  )
  // (a point covers several samples: refresh until the newest one holds only samples without it)
  await waitFor(
    async () => {
      await page.getByRole('button', { name: 'Refresh', exact: true }).click()
      await new Promise((r) => setTimeout(r, 500))
      return (await queuePanel.getAttribute('data-latest')) === 'maildrop=1,incoming=0,active=0,deferred=–'
    },
    { timeoutMs: 20_000, intervalMs: 0, what: 'the gap in the deferred line' },
  )

  // the range selector: the URL holds it, the status follows
  await page.getByRole('group', { name: 'Time range' }).getByRole('button', { name: '6 h' }).click()
  await page.waitForURL(/range=6h/)
  await page.getByRole('button', { name: '6 h', pressed: true }).waitFor()
  await waitFor(
    async () => /step 15 s \(from the 5 s tier\)/.test((await page.getByTestId('graphs-status').textContent()) ?? ''),
    {
      timeoutMs: 10_000,
      what: 'the 6 h answer',
    },
  )
  assert.equal(await root.getAttribute('data-restarts'), String(api.restarts[0]))

  const violations = await runAxe(page)
  assert.deepEqual(violations, [], formatAxe(violations))
  assert.deepEqual(page.errors, [])
})
