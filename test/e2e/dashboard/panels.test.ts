// The Panels page in a real Chromium against a real collector (embedded store, enrichment at ship
// time) and dashboard (startDashboardStack; the page logs in as the viewer): events pushed on the
// collector's events socket from real public client IPs (8.8.8.8 US, 81.2.69.142 GB, 193.0.6.139
// NL); the terms bars show the numbers of /api/search/aggs (and of the corpus), the world map
// colours exactly the corpus's countries, the elapsed panel's per-bucket max and p95 equal the
// API's, clicking a bar or a country (mouse or keyboard) opens Discover with the filter, the query
// and range live in the URL, an invalid query is refused inline, no request fails, and the atlas
// is not in the initial JavaScript. Screenshot kept.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { Dealer } from 'zeromq'
import { eventsSocket, formatEventTimestamp } from '@vigil/protocol'
import { artifactsDir, formatAxe, openBrowserPage, runAxe, waitFor, type HarnessPage } from '../../harness/index.ts'
import { startDashboardStack } from './stack.ts'

const CLIENTS = [
  { ip: '8.8.8.8', cc: 'US' },
  { ip: '81.2.69.142', cc: 'GB' },
  { ip: '193.0.6.139', cc: 'NL' },
  { ip: '8.8.4.4', cc: 'US' },
]
const ACTIONS = ['PASS', 'PASS', 'REJECT', 'PASS', 'DISCARD', 'PASS', 'REJECT']
const CCATS = ['Clean', 'Clean', 'Spam', 'Clean', 'Virus', 'SpamTag', 'Spam']
const SENDERS = ['alice@example.org', 'bob@Example.ORG', 'news@lists.example.com', 'alice@example.org', '']
const N = 28
const STEP_MS = 4 * 60_000

function corpus(now: number): Record<string, unknown>[] {
  return Array.from({ length: N }, (_, i) => {
    const ts = (now - (N - i) * STEP_MS) / 1000
    const c = CLIENTS[i % CLIENTS.length]
    const rcpts = i % 3 === 0 ? ['postmaster@example.net', `user${i % 4}@example.net`] : [`user${i % 4}@example.net`]
    const action = ACTIONS[i % ACTIONS.length]
    return {
      '@timestamp': formatEventTimestamp(ts),
      type: 'amavis',
      host: 'mx-panels.e2e.test',
      log_id: `${10000 + i}-01`,
      mail_id: `PanelsMail${String(i).padStart(3, '0')}`,
      client_ip: c.ip,
      mail_from: SENDERS[i % SENDERS.length],
      rcpt_to: rcpts,
      rcpt_num: rcpts.length,
      recipients: rcpts.map((r) => ({ rcpt_to: r, rcpt_is_local: true, action })),
      subject: i === 5 ? '<img src=x onerror="window.__xss=1">panels' : `Panels test ${i}`,
      content_type: CCATS[i % CCATS.length],
      action: [action],
      tests: i % 2 ? ['BAYES_00', 'DKIM_SIGNED'] : ['BAYES_99', 'URIBL_BLACK', 'DKIM_SIGNED'],
      spam_score: (i % 10) - 2,
      size: 1000 + i * 100,
      message: `${10000 + i}-01 ${action}`,
      time_unix: ts.toFixed(3),
      elapsed: {
        Amavis: 0.01 * (i % 7),
        SpamCheck: Math.round((0.2 + (i % 5) * 0.3) * 1000) / 1000,
        Total: Math.round((0.3 + (i % 6) * 0.45) * 1000) / 1000,
      },
      originating: false,
    }
  })
}

/** [data-key, data-count] of every bar of a terms panel. */
async function bars(page: HarnessPage, panel: string): Promise<[string, number][]> {
  return page
    .getByTestId(panel)
    .locator('li[data-key]')
    .evaluateAll((els) => els.map((e) => [e.getAttribute('data-key')!, Number(e.getAttribute('data-count'))]))
}

function countBy(values: unknown[]): Map<string, number> {
  const m = new Map<string, number>()
  for (const v of values) m.set(String(v), (m.get(String(v)) ?? 0) + 1)
  return m
}

test('Panels page: terms bars and map equal the API and the corpus, elapsed percentiles, clicks open Discover', async (t) => {
  const s = await startDashboardStack(t, { name: 'e2e-panels' })
  const base = s.url
  // The page logs in as the viewer; the numbers it must show are the viewer's API answers.
  const api = await s.api('viewer')
  const apiGet = async (path: string) => {
    const r = await api.get(path)
    assert.equal(r.status, 200, `${path}: ${JSON.stringify(r.body)}`)
    return r.body
  }

  const docs = corpus(Date.now())
  const push = new Dealer({ linger: 0 })
  push.connect(s.common.zmq.events ?? eventsSocket(s.home))
  t.after(() => push.close())
  for (const d of docs) await push.send(JSON.stringify(d))
  await waitFor(
    async () => {
      const r = (await s.collectorGet('/api/search?size=0&from=now-24h')) as { total: number }
      return r.total === N || undefined
    },
    { what: 'the corpus indexed', timeoutMs: 30_000 },
  )

  // The initial JavaScript does not carry the atlas (the map chunk is loaded by the Panels page).
  const html = await (await fetch(`${base}/`)).text()
  const entry = /<script[^>]+src="([^"]+)"/.exec(html)?.[1]
  assert.ok(entry, 'an entry script')
  const entryJs = await (await fetch(new URL(entry, base))).text()
  assert.ok(!entryJs.includes('Siachen'), 'no world-atlas in the entry chunk')

  const page = await openBrowserPage(t, { width: 1400, height: 1800 })
  // Every failed HTTP answer counts as an error too (the console line alone does not name the URL).
  page.on('response', (r) => {
    if (r.status() >= 400) page.errors.push(`HTTP ${r.status()} ${new URL(r.url()).pathname}`)
  })
  await s.login(page, 'viewer')
  const mapRequests: string[] = []
  const foreign: string[] = []
  page.on('request', (r) => {
    if (/WorldMap/.test(r.url())) mapRequests.push(r.url())
    if (!r.url().startsWith(base)) foreign.push(r.url())
  })
  await page.goto(s.href('discover'))
  await page.getByTestId('nav-panels').waitFor()
  assert.deepEqual(mapRequests, [], 'the map chunk is not loaded before the Panels page')
  await page.getByTestId('nav-panels').click()
  await page.getByTestId('panel-action').locator('li[data-key]').first().waitFor({ timeout: 20_000 })
  assert.equal(mapRequests.length, 1, 'the map chunk loaded once, lazily')

  // ---- terms panels: the page's numbers are the API's, and the corpus's
  const panels: Record<string, { field: string; size: number; part?: 'domain' }> = {
    'panel-action': { field: 'action', size: 10 },
    'panel-content': { field: 'content_type', size: 12 },
    'panel-senders': { field: 'mail_from', size: 10 },
    'panel-recipients': { field: 'rcpt_to', size: 10 },
    'panel-sender-domains': { field: 'mail_from', size: 10, part: 'domain' },
    'panel-recipient-domains': { field: 'rcpt_to', size: 10, part: 'domain' },
    'panel-countries': { field: 'client_geo.country_code', size: 10 },
    'panel-asns': { field: 'client_geo.asn', size: 10 },
    'panel-tests': { field: 'tests', size: 15 },
  }
  const aggsParam = Object.fromEntries(Object.entries(panels).map(([k, v]) => [k, { type: 'terms', ...v }]))
  const terms = (await apiGet(
    `/api/search/aggs?from=now-24h&to=now&aggs=${encodeURIComponent(JSON.stringify(aggsParam))}`,
  )) as { total: number; aggs: Record<string, { buckets: { key: unknown; doc_count: number }[] }> }
  assert.equal(terms.total, N)
  for (const id of Object.keys(panels)) {
    const want = terms.aggs[id].buckets.map((b) => [String(b.key), b.doc_count] as [string, number])
    assert.ok(want.length > 0, `${id} has values`)
    assert.deepEqual(await bars(page, id), want, `${id}: page = /api/search/aggs`)
  }
  assert.equal(await page.getByTestId('panels-total').getAttribute('data-total'), String(N))
  const byCorpus = (f: (d: any) => unknown[]) =>
    [...countBy(docs.flatMap(f))].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
  assert.deepEqual(
    await bars(page, 'panel-action'),
    byCorpus((d) => d.action),
  )
  assert.deepEqual(
    await bars(page, 'panel-countries'),
    byCorpus((d) => [CLIENTS.find((c) => c.ip === d.client_ip)!.cc]),
  )
  assert.deepEqual(
    await bars(page, 'panel-sender-domains'),
    byCorpus((d) => (d.mail_from ? [d.mail_from.split('@')[1].toLowerCase()] : [])),
  )
  assert.match((await page.getByTestId('panel-countries').textContent()) ?? '', /United States/)
  assert.match((await page.getByTestId('panel-asns').textContent()) ?? '', /AS15169/)

  // ---- the map: exactly the corpus's countries, with their counts
  const svg = page.getByTestId('world-map-svg')
  await svg.locator('path[data-count]').first().waitFor()
  const mapped = await svg
    .locator('path[data-count]')
    .evaluateAll((els) => els.map((e) => [e.getAttribute('data-country')!, Number(e.getAttribute('data-count'))]))
  const countries = countBy(docs.map((d) => CLIENTS.find((c) => c.ip === d.client_ip)!.cc))
  assert.deepEqual(new Map(mapped as [string, number][]), countries)
  assert.ok((await svg.locator('path').count()) > 200, 'the 50m atlas: every country drawn')

  // ---- elapsed: per-bucket max and p95 are the API's
  const chart = page.getByTestId('elapsed-chart')
  assert.ok(Number(await chart.getAttribute('data-buckets')) > 10)
  const hist = (await apiGet(
    `/api/search/aggs?from=now-24h&to=now&aggs=${encodeURIComponent(
      JSON.stringify({
        h: {
          type: 'date_histogram',
          interval: 'auto',
          buckets: 60,
          metric: { op: 'max', field: 'elapsed.Total' },
          percentiles: { field: 'elapsed.Total', percents: [50, 95, 99] },
        },
      }),
    )}`,
  )) as {
    aggs: {
      h: {
        buckets: { key: number; doc_count: number; metric: number | null; percentiles: Record<string, number | null> }[]
      }
    }
  }
  const rows = await page
    .getByTestId('elapsed-table')
    .locator('tbody tr')
    .evaluateAll((els) =>
      els.map((e) => [
        Number(e.getAttribute('data-key')),
        Number(e.getAttribute('data-max')),
        Number(e.getAttribute('data-p95')),
      ]),
    )
  const nonEmpty = hist.aggs.h.buckets.filter((b) => b.doc_count > 0)
  // The page asked at its own `now`; the buckets of the corpus are the same ones.
  assert.deepEqual(
    rows,
    nonEmpty.map((b) => [b.key, b.metric, b.percentiles['95.0']]),
  )
  assert.equal(Math.max(...rows.map((r) => r[1])), Math.fround(Math.max(...docs.map((d: any) => d.elapsed.Total))))
  // another section, kept in the URL
  await page.getByTestId('elapsed-section').selectOption('SpamCheck')
  await waitFor(async () => /elapsed=SpamCheck/.test(page.url()) || undefined, { what: 'section in the URL' })
  await waitFor(async () => (await chart.getAttribute('data-field')) === 'elapsed.SpamCheck' || undefined, {
    what: 'SpamCheck chart',
  })

  const axe = await runAxe(page)
  assert.deepEqual(axe, [], `no serious accessibility violation\n${formatAxe(axe)}`)
  await page.screenshot({ path: join(await artifactsDir(t), 'panels.png'), fullPage: true })

  // ---- click a bar: Discover with the filter and the page's range
  await page.getByTestId('panel-action').locator('li[data-key="REJECT"] a').click()
  await waitFor(async () => /#\/discover\?/.test(page.url()) || undefined, { what: 'Discover opened' })
  let hash = new URLSearchParams(new URL(page.url()).hash.replace(/^#\/discover\?/, ''))
  assert.equal(hash.get('q'), 'action:"REJECT"')
  assert.equal(hash.get('from'), 'now-24h')
  assert.equal(hash.get('to'), 'now')
  assert.equal(await page.getByTestId('nav-discover').getAttribute('aria-current'), 'page')
  const discoverQuery = page.getByTestId('query-input')
  if (await discoverQuery.count())
    await waitFor(
      async () =>
        ((await discoverQuery.textContent()) ?? (await discoverQuery.inputValue().catch(() => ''))).includes(
          'action:"REJECT"',
        ) || undefined,
      { what: 'Discover shows the filter in its query bar', timeoutMs: 10_000 },
    )

  // ---- back; a query in the URL; an invalid one refused inline; a preset
  await page.goBack()
  const input = page.getByTestId('panels-query')
  await input.waitFor()
  await input.fill('action:(REJECT')
  await page.getByTestId('panels-query-error').waitFor()
  await input.fill('NOT action:REJECT')
  await input.press('Enter')
  await waitFor(async () => /q=NOT\+action%3AREJECT|q=NOT%20action%3AREJECT/.test(page.url()) || undefined, {
    what: 'q in the URL',
  })
  const notReject = docs.filter((d: any) => d.action[0] !== 'REJECT').length
  await waitFor(
    async () => (await page.getByTestId('panels-total').getAttribute('data-total')) === String(notReject) || undefined,
    { what: 'the filtered total' },
  )
  assert.ok(!(await bars(page, 'panel-action')).some(([k]) => k === 'REJECT'))
  // keyboard on the map: a focused country opens Discover with both filters
  const gb = svg.locator('path[data-country="GB"][data-count]')
  await gb.focus()
  await page.keyboard.press('Enter')
  await waitFor(async () => /#\/discover\?/.test(page.url()) || undefined, { what: 'Discover from the map' })
  hash = new URLSearchParams(new URL(page.url()).hash.replace(/^#\/discover\?/, ''))
  assert.equal(hash.get('q'), '(NOT action:REJECT) AND client_geo.country_code:"GB"')
  await page.goBack()
  await page.getByTestId('panels-range').locator('button[data-from="now-7d"]').click()
  await waitFor(async () => /from=now-7d/.test(page.url()) || undefined, { what: 'range preset in the URL' })
  assert.equal(
    await page.getByTestId('panels-range').locator('button[data-from="now-7d"]').getAttribute('aria-pressed'),
    'true',
  )

  assert.equal(await page.evaluate('window.__xss'), undefined)
  assert.deepEqual(foreign, [], 'no request leaves the dashboard (no tiles, no fonts)')
  assert.deepEqual(page.errors, [], 'no console errors, no CSP violations, no failed request')
})
