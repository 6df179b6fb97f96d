// The Playwright harness against a page served with a strict CSP: scripts run, console errors and
// CSP violations are collected, a dialog is recorded and dismissed, axe runs despite the CSP and
// finds a serious violation (an unlabelled input), screenshots land in the artifacts dir.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { artifactsDir, openBrowserPage, runAxe, waitFor } from './index.ts'

const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; object-src 'none'; base-uri 'none'"

test('openBrowserPage: a Playwright page in Debian chromium under a strict CSP, errors and dialogs collected, axe', async (t) => {
  const server = createServer((req, res) => {
    res.setHeader('content-security-policy', CSP)
    if (req.url === '/app.js') {
      res.setHeader('content-type', 'text/javascript')
      res.end(
        "document.getElementById('out').textContent = 'ran:' + 6 * 7;" +
          "document.getElementById('go').addEventListener('click', () => alert('clicked'));" +
          "console.error('deliberate');",
      )
      return
    }
    res.setHeader('content-type', 'text/html')
    res.end(
      '<!doctype html><html lang="en"><head><title>t</title></head><body><main><h1>Test</h1>' +
        '<div id="out">static</div><button id="go">Go</button><input id="bad">' +
        '<script>window.inlineRan = true</script><script src="/app.js"></script></main></body></html>',
    )
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.after(() => {
    server.closeAllConnections()
    server.close()
  })
  const { port } = server.address() as { port: number }
  const page = await openBrowserPage(t)
  await page.goto(`http://127.0.0.1:${port}/`)
  await page.locator('#out', { hasText: 'ran:42' }).waitFor()
  assert.equal(await page.evaluate('window.inlineRan'), undefined, 'the inline script was blocked by the CSP')
  await page.click('#go')
  await waitFor(() => page.dialogs.length > 0, { timeoutMs: 10_000, what: 'the alert' })
  assert.deepEqual(page.dialogs, ['alert: clicked'])
  assert.ok(page.errors.includes('deliberate'), page.errors.join('\n'))
  assert.ok(
    page.errors.some((e) => /Content Security Policy/.test(e)),
    'the CSP violation is a console error: ' + page.errors.join('\n'),
  )
  const violations = await runAxe(page)
  assert.deepEqual(
    violations.map((v) => v.id),
    ['label'],
  )
  assert.equal(violations[0].nodes[0].target, '#bad')
  const shot = join(await artifactsDir(t), 'strict-csp.png')
  await page.screenshot({ path: shot })
  assert.ok(existsSync(shot))
  assert.match(shot, /test-artifacts\/browser\/strict-csp\.png$/)
})
