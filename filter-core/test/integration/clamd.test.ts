import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server, type Socket } from 'node:net'
import { ErrorCode } from '@vigil/protocol'
import { createClamdScanner, parseClamdReply } from '../../src/checks/virus-clamd.ts'
import { parseMessage } from '../../src/mime/parse.ts'
import {
  createScope,
  startClamd,
  freePort,
  EICAR,
  EICAR_SIGNATURE_NAME,
  type ClamdInstance,
} from '../../../test/harness/index.ts'
import { eicarMessages, readMail } from '../fixtures/mail.ts'
import { buildZip } from '../../src/mime/zip-writer.ts'

const signal = () => new AbortController().signal

describe('ClamAV-clamd scanner against a real clamd', () => {
  const scope = createScope()
  let clamd: ClamdInstance
  before(async () => {
    clamd = await startClamd(scope)
  })
  after(() => scope.close())

  const deflatedZip = () =>
    buildZip([
      { name: 'readme.txt', data: Buffer.from('hello\n'.repeat(30)), deflate: true },
      { name: 'sub/eicar.com', data: Buffer.from(EICAR, 'latin1'), deflate: true },
    ])
  const infected: Array<['body' | 'attachment' | 'zip', string]> = [
    ['body', 'in the message body'],
    ['attachment', 'in a base64 attachment'],
    ['zip', 'inside a deflated zip attachment'],
  ]
  for (const [key, where] of infected) {
    for (const socket of ['tcp', 'unix'] as const) {
      it(`finds EICAR ${where} over ${socket} with the virus name`, async () => {
        const scanner = createClamdScanner({
          socket: socket === 'tcp' ? `tcp:${clamd.host}:${clamd.port}` : `unix:${clamd.socketPath}`,
          timeoutMs: 20_000,
        })
        const msg = parseMessage(eicarMessages(EICAR, deflatedZip())[key])
        assert.deepEqual(await scanner.scan(msg, signal()), {
          scanner: 'ClamAV-clamd',
          infected: true,
          virusNames: [EICAR_SIGNATURE_NAME],
        })
      })
    }
  }

  it('passes clean messages, including zips and nested messages', async () => {
    const scanner = createClamdScanner({ socket: `${clamd.host}:${clamd.port}`, timeoutMs: 20_000 })
    for (const file of ['plain.eml', 'zip-exe.eml', 'nested-rfc822.eml', 'zip-encrypted.eml']) {
      const r = await scanner.scan(parseMessage(readMail(file)), signal())
      assert.deepEqual(r, { scanner: 'ClamAV-clamd', infected: false, virusNames: [] }, file)
    }
  })

  it('streams parts larger than one INSTREAM chunk', async () => {
    const scanner = createClamdScanner({ socket: `tcp:${clamd.host}:${clamd.port}`, timeoutMs: 20_000 })
    // Our private clamd's EICAR signature matches at any offset: EICAR after 300 KiB spans chunks.
    const big = Buffer.concat([Buffer.alloc(300 * 1024, 'a'), Buffer.from(EICAR)])
    assert.deepEqual(await scanner.scanBuffer(big), { infected: true, virusName: EICAR_SIGNATURE_NAME })
    assert.deepEqual(await scanner.scanBuffer(Buffer.alloc(300 * 1024, 'a')), { infected: false })
  })

  it('fails when a part exceeds max_stream_bytes, without contacting clamd', async () => {
    const scanner = createClamdScanner({ socket: `tcp:${clamd.host}:${clamd.port}`, maxStreamBytes: 1000 })
    const msg = parseMessage(Buffer.from(`Subject: x\n\n${'y'.repeat(2000)}\n`))
    await assert.rejects(scanner.scan(msg, signal()), {
      code: ErrorCode.CHECK_FAILED,
      message: /exceeds max_stream_bytes/,
    })
  })

  it('answers PING', async () => {
    await createClamdScanner({ socket: `tcp:${clamd.host}:${clamd.port}` }).ping()
  })
})

describe('ClamAV-clamd scanner failure modes', () => {
  it('throws CHECK_FAILED when nothing listens on the socket', async () => {
    const port = await freePort()
    const scanner = createClamdScanner({ socket: `tcp:127.0.0.1:${port}`, timeoutMs: 5000 })
    await assert.rejects(scanner.scan(parseMessage(readMail('plain.eml')), signal()), {
      code: ErrorCode.CHECK_FAILED,
      message: /ClamAV-clamd at tcp:127\.0\.0\.1:\d+: connect ECONNREFUSED/,
    })
  })

  it('throws CHECK_FAILED for a missing unix socket', async () => {
    const scanner = createClamdScanner({ socket: 'unix:/nonexistent/vigil-clamd.sock' })
    await assert.rejects(scanner.scan(parseMessage(readMail('plain.eml')), signal()), { code: ErrorCode.CHECK_FAILED })
  })

  describe('against a socket that accepts but never answers', () => {
    let server: Server
    let port: number
    const sockets = new Set<Socket>()
    before(async () => {
      server = createServer((s) => {
        sockets.add(s)
        s.resume() // read (and drop) the request, never answer
        s.on('error', () => {})
        s.on('close', () => sockets.delete(s))
      })
      port = await new Promise<number>((resolve) =>
        server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
      )
    })
    after(async () => {
      for (const s of sockets) s.destroy()
      await new Promise((r) => server.close(r))
    })

    it('throws CHECK_TIMEOUT within its timeout and closes the connection', async () => {
      const scanner = createClamdScanner({ socket: `tcp:127.0.0.1:${port}`, timeoutMs: 300 })
      const started = Date.now()
      await assert.rejects(scanner.scan(parseMessage(readMail('plain.eml')), signal()), {
        code: ErrorCode.CHECK_TIMEOUT,
      })
      const elapsed = Date.now() - started
      assert.ok(elapsed >= 250 && elapsed < 5000, `took ${elapsed} ms`)
      await new Promise((r) => setTimeout(r, 50))
      assert.equal(sockets.size, 0, 'the scanner left its connection open')
    })

    it('throws at once when the caller aborts', async () => {
      const scanner = createClamdScanner({ socket: `tcp:127.0.0.1:${port}`, timeoutMs: 60_000 })
      const ac = new AbortController()
      setTimeout(() => ac.abort(new Error('pipeline timeout')), 100)
      const started = Date.now()
      await assert.rejects(scanner.scan(parseMessage(readMail('zip-exe.eml')), ac.signal), {
        code: ErrorCode.CHECK_FAILED,
        message: /aborted/,
      })
      assert.ok(Date.now() - started < 5000)
    })
  })
})

describe('parseClamdReply', () => {
  const cases: Array<[reply: string, result: ReturnType<typeof parseClamdReply> | RegExp]> = [
    ['stream: OK\0', { infected: false }],
    ['stream: Win.Test.EICAR_HDB-1 FOUND\0', { infected: true, virusName: 'Win.Test.EICAR_HDB-1' }],
    ['1: stream: Eicar-Test-Signature FOUND', { infected: true, virusName: 'Eicar-Test-Signature' }],
    ['INSTREAM size limit exceeded. ERROR\0', /size limit exceeded/],
    ["stream: Can't allocate memory ERROR", /allocate memory/],
    ['UNKNOWN COMMAND', /unexpected clamd reply/],
  ]
  for (const [reply, result] of cases)
    it(`${result instanceof RegExp ? 'throws for' : 'parses'} ${JSON.stringify(reply)}`, () => {
      if (result instanceof RegExp)
        assert.throws(() => parseClamdReply(reply), { code: ErrorCode.CHECK_FAILED, message: result })
      else assert.deepEqual(parseClamdReply(reply), result)
    })

  it('rejects an invalid socket address at creation', () => {
    assert.throws(() => createClamdScanner({ socket: 'localhost' }), { code: ErrorCode.CONFIG_INVALID })
  })
})
