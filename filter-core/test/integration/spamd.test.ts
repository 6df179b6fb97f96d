import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server, type Socket } from 'node:net'
import { ErrorCode } from '@vigil/protocol'
import { createSpamdScanner } from '../../src/checks/spam-spamd.ts'
import { createScope, startSpamd, freePort, GTUBE, type SpamdInstance } from '../../../test/harness/index.ts'
import { gtubeMessage, readMail } from '../fixtures/mail.ts'

const signal = () => new AbortController().signal

describe('SpamAssassin scanner against a real spamd', () => {
  const scope = createScope()
  let spamd: SpamdInstance
  before(async () => {
    spamd = await startSpamd(scope)
  })
  after(() => scope.close())

  it('scores GTUBE at 1000 or more and lists the GTUBE test with its points', async () => {
    const scanner = createSpamdScanner({ host: spamd.host, port: spamd.port, timeoutMs: 60_000 })
    const r = await scanner.check(gtubeMessage(GTUBE), { signal: signal() })
    assert.ok(r.score >= 1000, `score ${r.score}`)
    assert.equal(r.requiredScore, 5)
    assert.equal(r.isSpam, true)
    assert.deepEqual(
      r.tests.find((t) => t.name === 'GTUBE'),
      { name: 'GTUBE', score: 1000 },
    )
    assert.match(r.report, /Content analysis details/)
    assert.equal(r.truncated, false)
    // The test list agrees with spamd's own SYMBOLS answer for the same message.
    const symbols = (await spamd.check(gtubeMessage(GTUBE))).symbols
    assert.deepEqual(r.tests.map((t) => t.name).sort(), [...symbols].sort())
  })

  it('scores a normal message low and not as spam', async () => {
    const scanner = createSpamdScanner({ socket: `tcp:${spamd.host}:${spamd.port}`, timeoutMs: 60_000, user: 'vigil' })
    const r = await scanner.check(readMail('ham.eml'), { signal: signal() })
    assert.ok(r.score < 5, `score ${r.score}`)
    assert.equal(r.isSpam, false)
    assert.ok(!r.tests.some((t) => t.name === 'GTUBE'))
    const sum = r.tests.reduce((s, t) => s + t.score, 0)
    assert.ok(Math.abs(sum - r.score) < 0.05 * Math.max(1, r.tests.length), `tests sum ${sum} vs score ${r.score}`)
  })

  it('truncates a message over max_size_bytes at a line boundary and still scores it', async () => {
    const scanner = createSpamdScanner({ host: spamd.host, port: spamd.port, timeoutMs: 60_000, maxSizeBytes: 2048 })
    const big = Buffer.concat([gtubeMessage(GTUBE), Buffer.from('padding line of text\n'.repeat(2000))])
    const r = await scanner.check(big, { signal: signal() })
    assert.equal(r.truncated, true)
    assert.ok(r.score >= 1000)
  })

  it('answers PING', async () => {
    await createSpamdScanner({ host: spamd.host, port: spamd.port }).ping()
  })
})

describe('SpamAssassin scanner failure modes', () => {
  it('throws CHECK_FAILED when nothing listens', async () => {
    const scanner = createSpamdScanner({ host: '127.0.0.1', port: await freePort(), timeoutMs: 5000 })
    await assert.rejects(scanner.check(readMail('plain.eml'), { signal: signal() }), {
      code: ErrorCode.CHECK_FAILED,
      message: /ECONNREFUSED/,
    })
  })

  describe('against sockets that misbehave', () => {
    let server: Server
    let port: number
    let mode: 'hang' | 'garbage' | 'close' = 'hang'
    const sockets = new Set<Socket>()
    before(async () => {
      // allowHalfOpen: a hung spamd keeps the connection open after the client's half-close.
      server = createServer({ allowHalfOpen: true }, (s) => {
        sockets.add(s)
        s.on('error', () => {})
        s.on('close', () => sockets.delete(s))
        s.resume()
        if (mode === 'garbage') s.end('HTTP/1.1 400 Bad Request\r\n\r\n')
        if (mode === 'close') s.destroy()
      })
      port = await new Promise<number>((resolve) =>
        server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
      )
    })
    after(async () => {
      for (const s of sockets) s.destroy()
      await new Promise((r) => server.close(r))
    })

    it('throws CHECK_TIMEOUT within its timeout when spamd never answers', async () => {
      mode = 'hang'
      const scanner = createSpamdScanner({ host: '127.0.0.1', port, timeoutMs: 300 })
      const started = Date.now()
      await assert.rejects(scanner.check(readMail('plain.eml'), { signal: signal() }), {
        code: ErrorCode.CHECK_TIMEOUT,
      })
      const elapsed = Date.now() - started
      assert.ok(elapsed >= 250 && elapsed < 5000, `took ${elapsed} ms`)
    })

    it('throws when the caller aborts', async () => {
      mode = 'hang'
      const scanner = createSpamdScanner({ host: '127.0.0.1', port, timeoutMs: 60_000 })
      const ac = new AbortController()
      setTimeout(() => ac.abort(), 100)
      await assert.rejects(scanner.check(readMail('plain.eml'), { signal: ac.signal }), {
        code: ErrorCode.CHECK_FAILED,
        message: /aborted/,
      })
    })

    it('throws CHECK_FAILED for a reply that is not spamd protocol', async () => {
      mode = 'garbage'
      const scanner = createSpamdScanner({ host: '127.0.0.1', port, timeoutMs: 5000 })
      await assert.rejects(scanner.check(readMail('plain.eml'), { signal: signal() }), {
        code: ErrorCode.CHECK_FAILED,
        message: /malformed spamd response/,
      })
    })

    it('throws CHECK_FAILED when the connection closes without a reply', async () => {
      mode = 'close'
      const scanner = createSpamdScanner({ host: '127.0.0.1', port, timeoutMs: 5000 })
      await assert.rejects(scanner.check(readMail('plain.eml'), { signal: signal() }), { code: ErrorCode.CHECK_FAILED })
    })
  })
})
