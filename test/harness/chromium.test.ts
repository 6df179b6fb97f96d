import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { renderPage } from './index.ts'

test('renderPage runs the page scripts in a real headless Chromium and returns the DOM', async (t) => {
  const server = createServer((req, res) => {
    if (req.url === '/data') {
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ value: 'from-fetch' }))
      return
    }
    res.setHeader('content-type', 'text/html')
    res.end(
      '<!doctype html><html><body><div id="out">static</div><script>' +
        "fetch('/data').then((r) => r.json()).then((d) => { document.getElementById('out').textContent = d.value + ':' + (6 * 7) })" +
        '</script></body></html>',
    )
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.after(() => new Promise<void>((r) => server.close(() => r())))
  const { port } = server.address() as { port: number }
  const dom = await renderPage(t, `http://127.0.0.1:${port}/`, { waitMs: 2000, timeoutMs: 60_000 })
  assert.match(dom, /<div id="out">from-fetch:42<\/div>/)
})
