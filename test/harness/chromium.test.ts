import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { openPage } from './index.ts'

test('openPage runs the page scripts in a real headless Chromium and evaluates in the page', async (t) => {
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
  t.after(() => {
    server.closeAllConnections() // chromium keeps connections alive until it is killed (a later hook)
    server.close()
  })
  const { port } = server.address() as { port: number }
  const page = await openPage(t, `http://127.0.0.1:${port}/`)
  await page.waitFor(`document.getElementById('out')?.textContent === 'from-fetch:42'`, 'the fetched text', 30_000)
  assert.match(await page.html(), /<div id="out">from-fetch:42<\/div>/)
  assert.equal(await page.evaluate<number>('6 * 7'), 42)
  assert.deepEqual(page.errors, [])
})
