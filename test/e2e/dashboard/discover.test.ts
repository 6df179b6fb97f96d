// The Discover page in a real Chromium against the dashboard stack (test/e2e/dashboard/stack.ts:
// real collector with the embedded store, real dashboard, a corpus sent through Vigil's own
// filter with spamd and clamd), used as a user would: a query typed with autocomplete and Enter;
// the hit count, the histogram's buckets and the sidebar's top values equal the collector's
// /api/search and /api/search/aggs for the same query and range; a sidebar +/− narrows the query
// (an IPv6 value quoted); a Lucene error is underlined inline with its message; a header click (and
// Enter) sorts server-side; a row expands to its JSON and recipients and a pivot sets the query;
// two query series and a split; auto-refresh and pause; a preset and a brush on the histogram
// change the range; the URL reopens the same search; saved searches; the XSS subject stays text
// (rot13 for a viewer, revealed per row for a user allowed raw subjects); no serious axe
// violation, no console error under the strict CSP. A screenshot per state in the artifacts dir.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { artifactsDir, formatAxe, openBrowserPage, runAxe, waitFor, type HarnessPage } from '../../harness/index.ts'
import { CLIENT_IPS, XSS_SUBJECT, startDashboardStack, type DashboardStack, type Role } from './stack.ts'
import { rot13 } from '@vigil/protocol'

// Page-side globals of the waitForFunction callbacks (this file is type-checked without the DOM lib).
declare const document: { querySelector(s: string): { getAttribute(n: string): string | null } | null }
declare const location: { hash: string }

/** Logs the page in as `role`; whether that user may see raw subjects (GET /api/me). */
async function loginAs(s: DashboardStack, page: HarnessPage, role: Role): Promise<{ raw: boolean; real: boolean }> {
  await s.login(page, role)
  const me = (await (await page.request.get(`${s.url}/api/me`)).json()) as { raw_subjects: boolean }
  return { raw: me.raw_subjects, real: true }
}

interface Shown {
  q: string
  fromMs: number
  toMs: number
  total: number
}

/** Waits for a search to settle (nothing loading) and returns what the page used and shows. */
async function settled(page: HarnessPage, q?: string): Promise<Shown> {
  await page.waitForFunction(
    (want) => {
      const d = document.querySelector('[data-testid=discover]')
      const h = document.querySelector('[data-testid=hit-count]')
      return (
        d?.getAttribute('data-busy') === 'false' &&
        h?.getAttribute('data-total') !== '' &&
        (want === null || h?.getAttribute('data-q') === want)
      )
    },
    q ?? null,
    { timeout: 20_000 },
  )
  const h = page.getByTestId('hit-count')
  return {
    q: (await h.getAttribute('data-q')) ?? '',
    fromMs: Number(await h.getAttribute('data-from-ms')),
    toMs: Number(await h.getAttribute('data-to-ms')),
    total: Number(await h.getAttribute('data-total')),
  }
}

/** Replaces the query bar's text by typing (the completion popup closed at the end). */
async function typeQuery(page: HarnessPage, text: string): Promise<void> {
  await page.getByTestId('query-input').click()
  await page.keyboard.press('Control+A')
  await page.keyboard.press('Backspace')
  await page.keyboard.type(text)
  await page.keyboard.press('Escape')
}

async function runQuery(page: HarnessPage, text: string): Promise<Shown> {
  await typeQuery(page, text)
  await page.keyboard.press('Enter')
  return settled(page, text)
}

function hashParams(page: HarnessPage): URLSearchParams {
  const h = new URL(page.url()).hash
  return new URLSearchParams(h.slice(h.indexOf('?') + 1))
}

interface Histo {
  interval_ms: number
  buckets: { key: number; doc_count: number; series?: Record<string, number>; split?: Record<string, number> }[]
}
interface PageBuckets {
  interval_ms: number
  keys: number[]
  doc_count: number[]
  series: Record<string, number[]>
  split: Record<string, number[]>
}
type Terms = { buckets: { key: unknown; doc_count: number }[] }

test('Discover: query bar, hit count, histogram, sidebar, table, pivots and URL state equal the API', async (t) => {
  const s = await startDashboardStack(t, { name: 'e2e-discover', corpus: true })
  const N = s.corpus.length
  const qs = (p: Record<string, string | number>) =>
    new URLSearchParams(Object.entries(p).map(([k, v]) => [k, String(v)] as [string, string])).toString()
  // the collector's own answers: the numbers the page must show
  const total = async (sh: Pick<Shown, 'q' | 'fromMs' | 'toMs'>) =>
    (
      (await s.collectorGet(`/api/search?${qs({ q: sh.q, from: sh.fromMs, to: sh.toMs, size: 0 })}`)) as {
        total: number
      }
    ).total
  const aggs = async (sh: Pick<Shown, 'q' | 'fromMs' | 'toMs'>, a: Record<string, unknown>) =>
    (
      (await s.collectorGet(
        `/api/search/aggs?${qs({ q: sh.q, from: sh.fromMs, to: sh.toMs, aggs: JSON.stringify(a) })}`,
      )) as { aggs: Record<string, unknown> }
    ).aggs
  const apiHisto = async (sh: Shown, extra: Record<string, unknown> = {}) =>
    (await aggs(sh, { h: { type: 'date_histogram', interval: 'auto', buckets: 100, ...extra } })).h as Histo

  const shots = await artifactsDir(t)
  const page = await openBrowserPage(t, { width: 1400, height: 1100 })
  const shot = (name: string) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true })
  const viewer = await loginAs(s, page, 'viewer')
  const foreign: string[] = []
  page.on('request', (r) => {
    if (!r.url().startsWith(s.url)) foreign.push(r.url())
  })
  const pageBuckets = async (): Promise<PageBuckets> =>
    JSON.parse((await page.getByTestId('histogram').getAttribute('data-buckets')) || '{}')

  // ---- the default: last 24 hours, written into the URL; one page holds the corpus
  await page.goto(`${s.url}/#/discover`)
  let shown = await settled(page, '')
  assert.equal(shown.total, N)
  assert.equal(shown.total, await total(shown))
  assert.equal(hashParams(page).get('from'), 'now-24h')
  assert.equal(await page.getByTestId('query-language').textContent(), 'Lucene')
  await page.getByTestId('result-row').first().waitFor()
  assert.equal(await page.getByTestId('results-table').getAttribute('data-rows'), String(N))
  assert.equal(await page.getByTestId('load-more').count(), 0, 'no next page')
  await shot('01-default')

  // ---- the XSS subject stays text (rot13 for a viewer)
  // (a viewer without raw subjects speaks rot13 in subject queries too: auth/subjects.ts)
  const xssQuery = viewer.real && !viewer.raw ? `subject:${rot13('onerror')}` : 'subject:onerror'
  shown = await runQuery(page, xssQuery)
  assert.equal(shown.total, 1, xssQuery)
  const cell = page.getByTestId('cell-subject')
  assert.equal(await cell.textContent(), viewer.raw || viewer.real ? rot13(XSS_SUBJECT) : XSS_SUBJECT)
  assert.equal(await page.getByTestId('reveal-subject').count(), viewer.raw ? 1 : 0, 'reveal only with raw_subjects')
  assert.equal(await page.locator('[data-testid=results-table] img').count(), 0, 'no <img> element')
  assert.equal(await page.evaluate('window.__xss'), undefined)
  assert.deepEqual(page.dialogs, [])

  // ---- typing with autocomplete: `act` offers the field, the first letters of a value the value
  const actions = (
    await aggs({ q: '', fromMs: shown.fromMs, toMs: shown.toMs }, { a: { type: 'terms', field: 'action', size: 10 } })
  ).a as Terms
  const value = String(actions.buckets.find((b) => String(b.key) !== 'PASS')?.key ?? actions.buckets[0].key)
  await typeQuery(page, '')
  await page.keyboard.type('act')
  await page
    .locator('.cm-tooltip-autocomplete li', { hasText: /^action/ })
    .first()
    .waitFor()
  await page.waitForTimeout(200) // CodeMirror ignores Enter for 75 ms after its popup opens
  await page.keyboard.press('Enter') // accepts `action:`
  await page.keyboard.type(value.slice(0, 3))
  await page.locator('.cm-tooltip-autocomplete li[aria-selected]', { hasText: value }).waitFor()
  await page.waitForTimeout(200)
  await page.keyboard.press('Enter') // accepts the value
  assert.equal(await page.getByTestId('query-input').textContent(), `action:${value}`)
  await page.keyboard.press('Enter') // runs
  shown = await settled(page, `action:${value}`)
  assert.equal(hashParams(page).get('q'), `action:${value}`)
  assert.equal(shown.total, await total(shown), 'hit count = /api/search total')
  assert.equal(shown.total, actions.buckets.find((b) => String(b.key) === value)!.doc_count)
  assert.equal((await page.getByTestId('hit-count').textContent())?.replace(/\D/g, ''), String(shown.total))

  // ---- histogram buckets = the API's date_histogram (same query, range, interval auto)
  shown = await runQuery(page, '')
  let h = await apiHisto(shown)
  let pb = await pageBuckets()
  assert.equal(pb.interval_ms, h.interval_ms)
  assert.deepEqual(
    pb.keys,
    h.buckets.map((b) => b.key),
  )
  assert.deepEqual(
    pb.doc_count,
    h.buckets.map((b) => b.doc_count),
  )
  assert.equal(
    pb.doc_count.reduce((a, b) => a + b, 0),
    N,
  )
  await page.locator('[data-testid=histogram] canvas').first().waitFor()
  await shot('02-histogram')

  // ---- sidebar top values = terms aggregations over the whole result
  const sidebarFields = await page
    .getByTestId('sidebar-field')
    .evaluateAll((els) => els.map((e) => e.getAttribute('data-field')!))
  assert.ok(sidebarFields.includes('content_type') && sidebarFields.includes('client_geo.country_code'))
  const apiTerms = await aggs(
    shown,
    Object.fromEntries(sidebarFields.map((f) => [f, { type: 'terms', field: f, size: 5 }])),
  )
  for (const f of sidebarFields) {
    const onPage = await page
      .locator(`[data-testid=sidebar-field][data-field="${f}"] [data-testid=sidebar-value]`)
      .evaluateAll((els) => els.map((e) => [e.getAttribute('data-value'), Number(e.getAttribute('data-count'))]))
    assert.deepEqual(
      onPage,
      (apiTerms[f] as Terms).buckets.map((b) => [String(b.key), b.doc_count]),
      `sidebar ${f} = terms agg`,
    )
  }
  assert.ok((apiTerms.content_type as Terms).buckets.length >= 2, 'several content types in the corpus')

  // ---- a sidebar + narrows the query; an IPv6 − is quoted
  const ct = String((apiTerms.content_type as Terms).buckets[0].key)
  await page
    .locator(
      `[data-testid=sidebar-field][data-field=content_type] [data-testid=sidebar-value][data-value="${ct}"] [data-testid=filter-in]`,
    )
    .click()
  shown = await settled(page, `+content_type:${ct}`)
  assert.equal(shown.total, (apiTerms.content_type as Terms).buckets[0].doc_count)
  assert.equal(shown.total, await total(shown))
  await shot('03-sidebar-filter-in')
  shown = await runQuery(page, '')
  const v6 = CLIENT_IPS.find((ip) => ip.includes(':'))!
  const v6n = s.corpus.filter((m) => m.clientIp === v6).length
  await page
    .locator(
      `[data-testid=sidebar-field][data-field=client_ip] [data-testid=sidebar-value][data-value="${v6}"] [data-testid=filter-out]`,
    )
    .click()
  shown = await settled(page, `-client_ip:"${v6}"`)
  assert.equal(shown.total, N - v6n)
  assert.equal(shown.total, await total(shown))

  // ---- an invalid query: underlined inline at the parser's position, message under the bar
  await typeQuery(page, 'action:(REJECT')
  await page.getByTestId('query-error').waitFor()
  assert.match((await page.getByTestId('query-error').textContent()) ?? '', /\)/)
  await page.locator('.cm-lintRange-error, .cm-lintPoint-error').first().waitFor({ state: 'attached' })
  await shot('04-query-error')
  await typeQuery(page, 'client_ip:2001:db8::1')
  const underline = page.locator('.cm-lintRange-error').first()
  await underline.waitFor()
  assert.equal(await underline.textContent(), ':', 'the second colon of an unquoted IPv6 is underlined')
  shown = await runQuery(page, '')

  // ---- server-side sort by a column header (size desc by click, then asc by keyboard)
  const sizes = async () =>
    (await page.locator('[data-testid=result-row] td[data-col=size]').allTextContents()).map(Number)
  const apiSorted = async (order: string) =>
    (
      (await s.collectorGet(
        `/api/search?${qs({ from: shown.fromMs, to: shown.toMs, size: 50, sort: `size:${order}`, fields: 'size' })}`,
      )) as { hits: { size: number }[] }
    ).hits.map((x) => x.size)
  await page.getByTestId('sort-size').click()
  await page.waitForFunction(() => /sort=size(%3A|:)desc/.test(location.hash))
  shown = await settled(page)
  const wantDesc = await apiSorted('desc')
  await waitFor(async () => ((await sizes())[0] === wantDesc[0] ? true : undefined), {
    what: 'rows sorted by size desc',
    timeoutMs: 10_000,
  })
  const desc = await sizes()
  assert.deepEqual(desc, wantDesc.slice(0, desc.length), 'the rendered rows in the API order')
  assert.ok(desc[0] > desc[desc.length - 1], 'sizes differ in the corpus')
  assert.equal(await page.locator('th[aria-sort=descending]').count(), 1)
  await page.getByTestId('sort-size').focus()
  await page.keyboard.press('Enter')
  await page.waitForFunction(() => /sort=size(%3A|:)asc/.test(location.hash))
  shown = await settled(page)
  const wantAsc = await apiSorted('asc')
  await waitFor(async () => ((await sizes())[0] === wantAsc[0] ? true : undefined), {
    what: 'rows sorted by size asc',
    timeoutMs: 10_000,
  })
  const asc = await sizes()
  assert.deepEqual(asc, wantAsc.slice(0, asc.length))
  await shot('05-sorted-size-asc')

  // ---- row expand: the whole JSON, the recipients sub-table, a pivot on mail_id
  const multi = s.corpus.find((m) => m.to.length > 1)
  const expandRow = multi
    ? page.locator('[data-testid=result-row]', {
        has: page.locator('td[data-col=rcpt_to]', { hasText: multi.to.join(', ') }),
      })
    : page.getByTestId('result-row')
  await expandRow.first().getByTestId('row-expand').click()
  const detail = page.getByTestId('row-detail')
  await waitFor(
    async () => ((await detail.getByTestId('row-json').textContent())?.includes('"recipients"') ? true : undefined),
    {
      what: 'the whole event fetched',
      timeoutMs: 10_000,
    },
  )
  const json = JSON.parse((await detail.getByTestId('row-json').textContent())!)
  assert.ok(json.mail_id && json.event_id, 'the whole event')
  assert.equal(await detail.locator('[data-testid=recipients-table] tbody tr').count(), json.recipients.length)
  if (multi) assert.equal(json.recipients.length, multi.to.length)
  await detail.getByTestId('row-json').scrollIntoViewIfNeeded()
  await shot('06-row-expanded')
  await detail.getByTestId('pivot-mail_id').click()
  shown = await settled(page, `mail_id:${json.mail_id}`)
  assert.ok(shown.total >= 1)
  assert.equal(shown.total, await total(shown))
  await shot('07-pivot-mail-id')

  // ---- two query series at once, then stacked by action
  shown = await runQuery(page, '')
  const SERIES = ['NOT action:(REJECT DISCARD BOUNCE)', 'action:(REJECT DISCARD BOUNCE)']
  for (const q of SERIES) {
    await page.getByTestId('series-input').fill(q)
    await page.getByTestId('series-add').click()
  }
  await page.waitForFunction(() => new URLSearchParams(location.hash.split('?')[1]).getAll('series').length === 2)
  shown = await settled(page)
  await waitFor(async () => (Object.keys((await pageBuckets()).series).length === 2 ? true : undefined), {
    what: 'two series drawn',
    timeoutMs: 10_000,
  })
  const seriesSpec = SERIES.map((q, i) => ({ name: `s${i + 1}`, q }))
  h = await apiHisto(shown, { series: seriesSpec })
  pb = await pageBuckets()
  SERIES.forEach((q, i) =>
    assert.deepEqual(
      pb.series[q],
      h.buckets.map((b) => b.series?.[`s${i + 1}`] ?? 0),
      `series ${q}`,
    ),
  )
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0)
  assert.equal(sum(pb.series[SERIES[0]]) + sum(pb.series[SERIES[1]]), N)
  assert.ok(sum(pb.series[SERIES[1]]) > 0, 'the corpus has blocked mail')
  await page.getByTestId('split-select').selectOption('action')
  await page.waitForFunction(() => location.hash.includes('split=action'))
  shown = await settled(page)
  await waitFor(async () => (Object.keys((await pageBuckets()).split).length > 0 ? true : undefined), {
    what: 'stacked by action',
    timeoutMs: 10_000,
  })
  h = await apiHisto(shown, { series: seriesSpec, split: { field: 'action', size: 6 } })
  pb = await pageBuckets()
  for (const b of actions.buckets)
    assert.deepEqual(
      pb.split[String(b.key)],
      h.buckets.map((x) => x.split?.[String(b.key)] ?? 0),
      `split ${b.key}`,
    )
  await shot('08-series-and-split')

  // ---- saved searches: save this one, change the query, reopen it, delete it
  const savedApi = (await page.request.get(`${s.url}/api/saved-searches`)).status() !== 404
  if (!savedApi) t.diagnostic('no /api/saved-searches on the dashboard yet: saved searches not exercised')
  else {
    const name = `series ${Date.now()}`
    const savedHash = new URL(page.url()).hash
    await page.getByTestId('saved-name').fill(name)
    await page.getByTestId('saved-save').click()
    await page.getByTestId('saved-list').locator('option', { hasText: name }).waitFor({ state: 'attached' })
    await runQuery(page, 'action:PASS')
    await page.getByTestId('saved-list').selectOption({ label: name })
    await page.waitForFunction((hash) => location.hash === hash, savedHash)
    shown = await settled(page, '')
    assert.equal(await page.getByTestId('series-chip').count(), 2)
    await shot('09-saved-search-reopened')
    await page.getByTestId('saved-delete').click()
    await waitFor(
      async () =>
        (await page.getByTestId('saved-list').locator('option', { hasText: name }).count()) === 0 || undefined,
      { what: 'the saved search deleted', timeoutMs: 10_000 },
    )
  }

  // ---- the URL reopens the same search in a fresh browser; a direct q/from/to link opens a search
  const link = page.url()
  const page2 = await openBrowserPage(t, { width: 1400, height: 1100 })
  const admin = await loginAs(s, page2, 'admin')
  await page2.goto(link)
  const shown2 = await settled(page2)
  assert.equal(shown2.q, shown.q)
  assert.equal(shown2.total, shown.total)
  assert.equal(await page2.getByTestId('series-chip').count(), 2)
  assert.equal(await page2.getByTestId('split-select').inputValue(), 'action')
  assert.equal(await page2.locator('th[aria-sort=ascending]').count(), 1)
  await page2.goto(s.href('discover', { q: 'subject:onerror', from: 'now-1h', to: 'now' }))
  const direct = await settled(page2, 'subject:onerror')
  assert.equal(direct.total, 1)
  assert.equal(await page2.getByTestId('query-input').textContent(), 'subject:onerror')
  // a user allowed raw subjects sees rot13 by default and reveals the row
  if (admin.raw) {
    const c2 = page2.getByTestId('cell-subject')
    assert.equal(await c2.textContent(), rot13(XSS_SUBJECT), 'rot13 until revealed')
    await page2.getByTestId('reveal-subject').click()
    assert.equal(await c2.textContent(), XSS_SUBJECT, 'revealed: the raw subject, as text')
    assert.equal(await page2.locator('[data-testid=results-table] img').count(), 0)
    assert.equal(await page2.evaluate('window.__xss'), undefined)
    await page2.screenshot({ path: join(shots, '10-subject-revealed.png') })
  } else t.diagnostic('the admin has no raw_subjects here: reveal not exercised')
  assert.deepEqual(page2.dialogs, [])

  // ---- auto-refresh: a relative range is searched again every 10 s, until paused
  await page.getByTestId('time-refresh').selectOption('10s')
  await page.waitForFunction(() => location.hash.includes('refresh=10s'))
  const before = await settled(page)
  await page.waitForFunction(
    (t0) => Number(document.querySelector('[data-testid=hit-count]')?.getAttribute('data-to-ms')) > t0,
    before.toMs,
    { timeout: 15_000 },
  )
  await page.getByTestId('time-pause').click()
  assert.equal(await page.getByTestId('time-pause').getAttribute('aria-pressed'), 'true')
  await page.getByTestId('time-refresh').selectOption('off')
  await page.waitForFunction(() => !location.hash.includes('refresh='))

  // ---- time picker: a preset, then a brush over the histogram's bars zooms to an absolute range
  await page.getByTestId('time-preset').selectOption('now-1h')
  await page.waitForFunction(() => location.hash.includes('from=now-1h'))
  shown = await settled(page)
  assert.equal(shown.toMs - shown.fromMs, 3_600_000)
  assert.equal(shown.total, await total(shown))
  const over = page.locator('[data-testid=histogram] .u-over')
  const box = (await over.boundingBox())!
  // the corpus is the last minutes of the hour: brush over the right fifth
  await page.mouse.move(box.x + box.width * 0.8, box.y + box.height / 2)
  await page.mouse.down()
  await page.mouse.move(box.x + box.width - 1, box.y + box.height / 2, { steps: 8 })
  await page.mouse.up()
  await page.waitForFunction(() => /from=\d{13}/.test(location.hash) && /to=\d{13}/.test(location.hash))
  const zoomed = await settled(page)
  const p = hashParams(page)
  assert.equal(zoomed.fromMs, Number(p.get('from')))
  assert.equal(zoomed.toMs, Number(p.get('to')))
  assert.ok(zoomed.toMs - zoomed.fromMs < 20 * 60_000, 'the brush narrowed the hour')
  assert.equal(zoomed.total, await total(zoomed))
  assert.ok(zoomed.total > 0, 'the brushed window holds the corpus')
  await shot('11-brushed')

  // ---- accessibility and hygiene
  const violations = await runAxe(page, { include: '[data-testid=discover]' })
  assert.deepEqual(violations, [], formatAxe(violations))
  // (without the saved-searches API, the page's GET of it is a logged 404)
  const errors = savedApi ? page.errors : page.errors.filter((e) => !/status of 404/.test(e))
  assert.deepEqual(errors, [], 'no console errors, no CSP violations')
  assert.deepEqual(page.dialogs, [])
  assert.deepEqual(foreign, [], 'no request leaves the dashboard')
})
