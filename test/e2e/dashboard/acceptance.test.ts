// Acceptance (dashboard, cross-cutting): the real stack — a filter with spamd and clamd, the
// collector's embedded store (and OpenSearch), the dashboard server on the built app, Debian's
// Chromium through playwright-core — with a corpus produced by the filter. Event text stays text
// (an `<img src=x onerror=…>` subject opens no dialog and shows literally), a viewer reaches no
// admin route and no raw subject (API, SSE and page), CSRF and the login rate limit hold over real
// HTTP, axe-core finds no serious/critical violation on any page, the query bar, time picker and
// table work from the keyboard, every page renders for both roles (screenshots in
// test-artifacts/acceptance/), and Discover shows the same numbers on the embedded store and on
// OpenSearch, equal to the API's.
import { after, before, describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import {
  artifactsDir,
  createScope,
  formatAxe,
  launchBrowser,
  requireEngine,
  runAxe,
  waitFor,
  type HarnessBrowser,
  type HarnessPage,
} from '../../harness/index.ts'
import { rot13 } from '../../../dashboard/web/src/lib/rot13.ts'
import { startDashboardStack, XSS_SUBJECT, type DashboardStack, type Role } from './stack.ts'

const PAGES = ['discover', 'panels', 'live', 'graphs', 'admin'] as const
type PageName = (typeof PAGES)[number]
const RANGE = { from: 'now-2h', to: 'now' }
// Harmless console noise: the 401 of /api/me before login.
const IGNORE = /status of 401|favicon/

/** Waits until `page` shows `name` with its data (page-specific markers; none are sleeps). */
async function pageReady(page: HarnessPage, name: PageName | 'login'): Promise<void> {
  switch (name) {
    case 'login':
      await page.getByTestId('login-form').waitFor()
      return
    case 'discover':
      await page.locator('[data-testid="hit-count"][data-total]:not([data-total=""])').waitFor()
      await page.locator('[data-testid="histogram"][data-loading="false"]').waitFor()
      await page.locator('[data-testid="results-table"][aria-busy="false"]').waitFor()
      await page.locator('[data-testid="field-sidebar"] [data-testid="sidebar-value"]').first().waitFor()
      return
    case 'panels':
      await page.locator('[data-testid="panels-total"][data-total]').waitFor()
      return
    case 'live':
      await page.getByTestId('live-procs').waitFor()
      await page.getByTestId('pipeline-health').waitFor()
      return
    default:
      // graphs, admin: the page chunk has rendered and nothing says "Loading…".
      await page.locator('main > :not(.loading)').first().waitFor()
      await waitFor(async () => (await page.locator('main').innerText()).includes('Loading…') === false, {
        timeoutMs: 20_000,
        what: `${name} loaded`,
      })
  }
}

describe('dashboard acceptance on the embedded store (corpus through the real filter)', () => {
  const scope = createScope()
  let s: DashboardStack
  let browser: HarnessBrowser

  before(async () => {
    ;[s, browser] = await Promise.all([
      startDashboardStack(scope, { name: 'dash-accept', corpus: true }),
      launchBrowser(scope),
    ])
  })
  after(() => scope.close())

  const open = async (
    t: TestContext,
    role: Role | null,
    page: PageName | 'login',
    params: Record<string, string> = RANGE,
  ) => {
    const p = await browser.newPage(t, { height: 1100, ignoreErrors: IGNORE })
    if (role) await s.login(p, role)
    await p.goto(page === 'login' ? s.url + '/' : s.href(page, params))
    await pageReady(p, page)
    return p
  }

  test('the XSS subject stays text: shown literally (revealed by an admin, rot13 for a viewer), no dialog, no element', async (t) => {
    const total = (await s.collectorGet(`/api/search?size=0&from=${RANGE.from}&to=${RANGE.to}`)).total
    for (const role of ['admin', 'viewer'] as const) {
      const page = await open(t, role, 'discover')
      assert.equal(await page.getByTestId('hit-count').getAttribute('data-total'), String(total))
      const cell = page.getByTestId('cell-subject').filter({ hasText: rot13(XSS_SUBJECT) })
      await cell.waitFor()
      if (role === 'admin') {
        const id = await page.getByTestId('result-row').filter({ has: cell }).getAttribute('data-event-id')
        const row = page.locator(`[data-testid="result-row"][data-event-id="${id}"]`)
        await row.getByTestId('reveal-subject').click()
        await page.getByTestId('cell-subject').filter({ hasText: XSS_SUBJECT }).waitFor()
        assert.equal(await row.getByTestId('cell-subject').textContent(), XSS_SUBJECT)
        await row.getByTestId('row-expand').click()
        await page.getByTestId('row-json').filter({ hasText: 'onerror=alert(1)' }).waitFor()
      } else {
        assert.equal(await page.getByTestId('reveal-subject').count(), 0, 'nothing to reveal for a viewer')
      }
      assert.equal(await page.locator('img[src="x"], img[onerror]').count(), 0, 'no <img> made from event text')
      assert.deepEqual(page.dialogs, [], 'no dialog opened')
      assert.deepEqual(page.errors, [], 'no console error')
      await page.screenshot({ path: join(await artifactsDir(t), `xss-${role}.png`), fullPage: true })
    }
    // the Live page's last messages carry subjects too
    const live = await open(t, 'admin', 'live')
    await live.getByTestId('last-messages').waitFor()
    assert.equal(await live.locator('img[src="x"], img[onerror]').count(), 0)
    assert.deepEqual(live.dialogs, [])
  })

  test('a viewer reaches no admin route and no raw subject (API, SSE, page); logged out reaches nothing', async (t) => {
    const viewer = await s.api('viewer')
    const admin = await s.api('admin')
    assert.equal((await viewer.get('/api/me')).body.raw_subjects, false)
    assert.equal((await admin.get('/api/me')).body.raw_subjects, true)
    assert.equal((await viewer.get('/api/users')).status, 403)
    assert.equal(
      (await viewer.send('POST', '/api/users', { name: 'mallory', role: 'admin', password: 'x'.repeat(12) })).status,
      403,
    )
    assert.equal((await viewer.send('DELETE', `/api/users/${s.users.admin.name}`)).status, 403)
    assert.equal((await admin.get('/api/users')).status, 200)

    // subjects: the collector's raw text vs what each role receives, on every route carrying them
    const q = `size=100&from=${RANGE.from}&to=${RANGE.to}&fields=log_id,subject`
    const truth = new Map<string, string>(
      (await s.collectorGet(`/api/search?${q}`)).hits.map((h: any) => [h.log_id, h.subject]),
    )
    assert.ok(truth.size >= s.corpus.length)
    const asViewer = (await viewer.get(`/api/search?${q}`)).body.hits as { log_id: string; subject: string }[]
    const asAdmin = (await admin.get(`/api/search?${q}`)).body.hits as { log_id: string; subject: string }[]
    assert.equal(asViewer.length, truth.size)
    for (const h of asViewer) assert.equal(h.subject, rot13(truth.get(h.log_id)!), `viewer search hit ${h.log_id}`)
    for (const h of asAdmin) assert.equal(h.subject, truth.get(h.log_id), `admin search hit ${h.log_id}`)
    const events = (await viewer.get('/api/events?limit=100')).body.events as { log_id: string; subject?: string }[]
    assert.ok(events.length > 0)
    for (const e of events)
      if (truth.has(e.log_id)) assert.equal(e.subject, rot13(truth.get(e.log_id)!), `viewer /api/events ${e.log_id}`)
    const raws = new Set(truth.values())
    const aggs = await viewer.get(`/api/search/aggs?terms=subject.keyword&from=${RANGE.from}&to=${RANGE.to}`)
    assert.equal(aggs.status, 200, JSON.stringify(aggs.body))
    const keys = (aggs.body.aggs['terms:subject.keyword']?.buckets ?? []).map((b: any) => String(b.key))
    assert.ok(keys.length > 0)
    for (const k of keys) assert.ok(!raws.has(k) || rot13(k) === k, `raw subject as an aggregation key: ${k}`)

    // the SSE stream: a message sent now reaches the viewer's stream without its raw subject
    const ctl = new AbortController()
    t.after(() => ctl.abort())
    const res = await fetch(`${s.url}/api/stream`, { headers: { cookie: viewer.cookie }, signal: ctl.signal })
    assert.equal(res.status, 200)
    let streamed = ''
    const reading = (async () => {
      const dec = new TextDecoder()
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>)
        streamed += dec.decode(chunk, { stream: true })
    })().catch(() => {})
    await waitFor(() => streamed.includes('event: hello'), { timeoutMs: 10_000, what: 'the stream hello' })
    const [sent] = await s.sendCorpus({ clean: 1, spam: 0, virus: 0, banned: 0, xss: false, subject: 'Stream check' })
    await waitFor(() => /^event: event$/m.test(streamed), {
      timeoutMs: 20_000,
      what: 'the new message on the viewer stream',
    })
    ctl.abort()
    await reading
    assert.ok(sent.subject.startsWith('Stream check'), sent.subject)
    assert.ok(!streamed.includes('Stream check'), 'no raw subject on the viewer stream')

    // logged out: every API route and /metrics answer 401
    for (const path of [
      '/api/search?size=0',
      '/api/search/aggs?terms=action',
      '/api/events',
      '/api/status',
      '/api/users',
      '/api/saved-searches',
      '/metrics',
      '/api/stream',
      '/api/pipeline',
    ]) {
      const r = await fetch(`${s.url}${path}`, { signal: AbortSignal.timeout(10_000) })
      assert.equal(r.status, 401, path)
      await r.body?.cancel()
    }

    // the page: no Admin link, #/admin shows no user list, Discover subjects are rot13 only
    const page = await open(t, 'viewer', 'discover')
    assert.equal(await page.getByTestId('nav-admin').count(), 0)
    const html = await page.content()
    for (const m of s.corpus.filter((c) => c.kind === 'clean'))
      assert.ok(!html.includes(m.subject), `raw subject on the page: ${m.subject}`)
    await page.goto(s.href('admin'))
    await pageReady(page, 'admin')
    const text = await page.locator('main').innerText()
    assert.ok(!text.includes(s.users.admin.name), 'the viewer sees no user list')
    // the same route for an admin: when it lists users, the check above is not vacuous
    const adminPage = await open(t, 'admin', 'admin')
    const adminText = await adminPage.locator('main').innerText()
    if (!adminText.includes(s.users.viewer.name))
      t.diagnostic('the admin page lists no users (yet): the page check is weak')
    assert.ok(!page.errors.some((e) => /uncaught/.test(e)), page.errors.join('\n'))
  })

  test("CSRF holds over real HTTP: unsafe requests need the session's own token", async () => {
    const admin = await s.api('admin')
    const viewer = await s.api('viewer')
    const body = { name: 'csrf check', hash: '#/discover?q=action:PASS' }
    assert.equal((await admin.send('POST', '/api/saved-searches', body, { csrf: false })).status, 403, 'no token')
    const wrong = await fetch(`${s.url}/api/saved-searches`, {
      method: 'POST',
      headers: { cookie: admin.cookie, 'content-type': 'application/json', 'x-csrf-token': viewer.csrf },
      body: JSON.stringify(body),
    })
    assert.equal(wrong.status, 403, "another session's token")
    await wrong.body?.cancel()
    const crossSite = await fetch(`${s.url}/api/saved-searches`, {
      method: 'POST',
      headers: { cookie: admin.cookie, 'content-type': 'text/plain', origin: 'http://evil.example' },
      body: JSON.stringify(body),
    })
    assert.equal(crossSite.status, 403, 'a form-style cross-site post')
    await crossSite.body?.cancel()
    assert.equal((await admin.get('/api/saved-searches')).body.searches.length, 0, 'nothing was saved')
    const ok = await admin.send('POST', '/api/saved-searches', body)
    assert.equal(ok.status, 201)
    assert.equal(
      (await admin.send('DELETE', `/api/saved-searches/${ok.body.id}`, undefined, { csrf: false })).status,
      403,
    )
    assert.equal((await admin.send('DELETE', `/api/saved-searches/${ok.body.id}`)).status, 200)
    assert.equal(
      (await admin.send('POST', '/api/logout', undefined, { csrf: false })).status,
      403,
      'logout needs the token too',
    )
    assert.equal((await admin.send('POST', '/api/logout')).status, 200)
    assert.equal((await admin.get('/api/me')).status, 401, 'the session is gone')
    assert.equal((await admin.get('/api/saved-searches')).status, 401)
  })

  test('keyboard only: Tab reaches the query bar, time picker and table; Enter runs, selects and expands', async (t) => {
    const page = await open(t, 'admin', 'discover')
    await page.locator('body').focus()
    const tabTo = async (testid: string, max = 60) => {
      for (let i = 0; i < max; i++) {
        await page.keyboard.press('Tab')
        const at = await page.evaluate(
          `document.activeElement?.closest('[data-testid="${testid}"]') ? true : document.activeElement?.getAttribute('data-testid') === '${testid}'`,
        )
        if (at) return i + 1
      }
      throw new Error(`Tab never reached ${testid}`)
    }
    // the query bar: type, Enter runs it
    await tabTo('query-input')
    await page.keyboard.press('ControlOrMeta+a')
    await page.keyboard.type('action:PASS')
    await page.keyboard.press('Escape') // closes an autocomplete popup if one opened
    await page.keyboard.press('Enter')
    const want = (await s.collectorGet(`/api/search?size=0&q=action:PASS&from=${RANGE.from}&to=${RANGE.to}`)).total
    await page.locator(`[data-testid="hit-count"][data-q="action:PASS"][data-total="${want}"]`).waitFor()
    // the time picker: a preset chosen with the arrow keys
    await tabTo('time-preset')
    const before = page.url()
    await page.keyboard.press('ArrowDown')
    await waitFor(() => page.url() !== before, { timeoutMs: 10_000, what: 'the range in the URL' })
    await page.locator('[data-testid="hit-count"][aria-busy="false"][data-total]:not([data-total=""])').waitFor()
    // the absolute range: type into From/To and submit with Enter
    await tabTo('time-from')
    await page.keyboard.press('ControlOrMeta+a')
    await page.keyboard.type(RANGE.from)
    await page.keyboard.press('Tab')
    await page.keyboard.press('ControlOrMeta+a')
    await page.keyboard.type(RANGE.to)
    await page.keyboard.press('Enter')
    await page.locator(`[data-testid="time-range"][data-from="${RANGE.from}"]`).waitFor()
    await page.locator(`[data-testid="hit-count"][data-total="${want}"]`).waitFor()
    // the table: a row's expand button and a sortable header, by Tab and Enter
    await tabTo('row-expand', 150)
    await page.keyboard.press('Enter')
    await page.getByTestId('row-detail').first().waitFor()
    assert.equal(await page.locator('[data-testid="row-expand"][aria-expanded="true"]').count(), 1)
    await page.screenshot({ path: join(await artifactsDir(t), 'keyboard-discover.png') })
    assert.deepEqual(page.errors, [])
  })

  test('every page renders for both roles without errors, axe finds no serious/critical violation; screenshots kept', async (t) => {
    const dir = await artifactsDir(t)
    const failures: string[] = []
    for (const role of ['admin', 'viewer'] as const) {
      for (const name of [...PAGES, 'login' as const]) {
        if (name === 'login' && role === 'viewer') continue
        if (name === 'admin' && role === 'viewer') continue // covered above: no admin page for a viewer
        await t.test(`${role} ${name}`, async (st) => {
          const page = await open(st, name === 'login' ? null : role, name)
          await page.screenshot({ path: join(dir, `${name}-${role}.png`), fullPage: true })
          const v = await runAxe(page)
          if (v.length) failures.push(`${role} ${name}:\n${formatAxe(v)}`)
          assert.deepEqual(v, [], formatAxe(v))
          assert.deepEqual(page.errors, [], `${role} ${name}: console errors`)
          assert.deepEqual(page.dialogs, [])
        })
      }
    }
  })

  test('the login form: a wrong password is an inline error, the right one logs in (and the session survives a reload)', async (t) => {
    const page = await open(t, null, 'login')
    await page.getByLabel('User').fill(s.users.viewer.name)
    await page.getByLabel('Password').fill('not-the-password')
    await page.getByLabel('Password').press('Enter')
    await page.getByTestId('login-error').filter({ hasText: 'Wrong user name or password' }).waitFor()
    await page.getByLabel('Password').fill(s.users.viewer.password)
    await page.getByTestId('login-submit').click()
    await page.getByTestId('who').filter({ hasText: s.users.viewer.name }).waitFor()
    await page.reload()
    await page.getByTestId('who').filter({ hasText: s.users.viewer.name }).waitFor()
  })
})

test('the login rate limit holds over real HTTP: failures per address are refused with 429, then the window passes', async (t) => {
  const s = await startDashboardStack(t, {
    name: 'dash-ratelimit',
    dashboard: { auth: { login_max_failures: 3, login_window_secs: 10 } },
  })
  const { openBrowserPage } = await import('../../harness/index.ts')
  const page = await openBrowserPage(t, { ignoreErrors: /status of (401|429)/ })
  await page.goto(s.url + '/')
  await page.getByLabel('User').waitFor()
  const login = (name: string, password: string) =>
    fetch(`${s.url}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name, password }),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as any, retry: r.headers.get('retry-after') }))
  for (let i = 0; i < 3; i++) assert.equal((await login(`nobody${i}`, 'wrong-password')).status, 401)
  const refused = await login(s.users.admin.name, s.users.admin.password)
  assert.equal(refused.status, 429, 'even the right password, from the same address')
  assert.equal(refused.body.code, 'RATE_LIMITED')
  assert.ok(Number(refused.retry) > 0)
  // the browser shows it (the page was opened before the failures: a browser start on a loaded
  // machine must not eat the window)
  await page.getByLabel('User').fill(s.users.viewer.name)
  await page.getByLabel('Password').fill(s.users.viewer.password)
  await page.getByTestId('login-submit').click()
  await page
    .getByTestId('login-error')
    .filter({ hasText: /Too many (failed )?attempts/ })
    .waitFor()
  // successful attempts do not count: once the window has passed, the right password works
  await waitFor(async () => (await login(s.users.admin.name, s.users.admin.password)).status === 200, {
    timeoutMs: 30_000,
    intervalMs: 500,
    what: 'login allowed again after the window',
  })
})

describe('Discover shows the same numbers on the embedded store and on OpenSearch, equal to the API', () => {
  const scope = createScope()
  const stacks: Record<string, DashboardStack> = {}
  let browser: HarnessBrowser

  before(async () => {
    await requireEngine('opensearch', scope) // the run's shared engine (scripts/run-tests.mjs), else a private one
    const [emb, os, b] = await Promise.all([
      startDashboardStack(scope, { name: 'dash-emb', corpus: { virus: 0 } }),
      startDashboardStack(scope, { name: 'dash-os', backend: 'opensearch', corpus: { virus: 0 } }),
      launchBrowser(scope),
    ])
    stacks.embedded = emb
    stacks.opensearch = os
    browser = b
  })
  after(() => scope.close())

  const QUERIES = [
    '',
    'NOT action:(REJECT DISCARD BOUNCE)',
    'action:(REJECT DISCARD BOUNCE)',
    'content_type:Spam',
    'client_geo.country_code:(US OR DE)',
  ]

  test('hit count, histogram total and sidebar top values per query', async (t) => {
    const seen: Record<string, Record<string, unknown>> = {}
    for (const [backend, s] of Object.entries(stacks)) {
      seen[backend] = {}
      const page = await browser.newPage(t, { height: 1100, ignoreErrors: IGNORE })
      await s.login(page, 'admin')
      for (const q of QUERIES) {
        await page.goto(s.href('discover', { ...RANGE, ...(q ? { q } : {}) }))
        await pageReady(page, 'discover')
        const hc = page.getByTestId('hit-count')
        await page.locator(`[data-testid="hit-count"][data-q="${q.replace(/"/g, '\\"')}"][aria-busy="false"]`).waitFor()
        const shown = Number(await hc.getAttribute('data-total'))
        const api = await s.collectorGet(
          `/api/search?size=0&from=${RANGE.from}&to=${RANGE.to}${q ? `&q=${encodeURIComponent(q)}` : ''}`,
        )
        assert.equal(shown, api.total, `${backend} ${q}: hit count = API`)
        assert.match((await hc.textContent()) ?? '', new RegExp(`^${api.total.toLocaleString('en')} hits`))
        const buckets = JSON.parse((await page.getByTestId('histogram').getAttribute('data-buckets')) || 'null')
        const histTotal = buckets ? (buckets.doc_count as number[]).reduce((a, b) => a + b, 0) : 0
        assert.equal(histTotal, api.total, `${backend} ${q}: histogram buckets sum to the hit count`)
        seen[backend][q] = api.total
      }
      // top values in the sidebar = a terms aggregation over the whole result
      const aggs = await s.collectorGet(`/api/search/aggs?terms=action,content_type&from=${RANGE.from}&to=${RANGE.to}`)
      await page.goto(s.href('discover', RANGE))
      await pageReady(page, 'discover')
      for (const f of ['action', 'content_type']) {
        const want = (aggs.aggs[`terms:${f}`].buckets as { key: string; doc_count: number }[]).map((b) => [
          String(b.key),
          b.doc_count,
        ])
        const values = page.locator(`[data-testid="sidebar-field"][data-field="${f}"] [data-testid="sidebar-value"]`)
        await values.first().waitFor()
        const got = await values.evaluateAll((els) =>
          els.map((e) => [e.getAttribute('data-value'), Number(e.getAttribute('data-count'))]),
        )
        assert.deepEqual(got, want, `${backend}: sidebar ${f} = terms aggregation`)
        seen[backend][`terms:${f}`] = want
      }
      await page.screenshot({ path: join(await artifactsDir(t), `discover-${backend}.png`), fullPage: true })
      assert.deepEqual(page.errors, [])
    }
    assert.deepEqual(seen.opensearch, seen.embedded, 'the same corpus gives the same numbers on both stores')
  })
})
