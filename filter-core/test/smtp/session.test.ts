// The SMTP/LMTP session parser against malformed and abusive input, on a real loopback socket.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, connect, type Server, type Socket } from 'node:net'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  runSmtpSession,
  type ProtocolErrorKind,
  type SessionOptions,
  type Transaction,
} from '../../src/smtp/session.ts'

interface Harness {
  port: number
  errors: ProtocolErrorKind[]
  messages: { tx: Transaction; raw: Buffer }[]
  spoolDir: string
  close(): Promise<void>
}

async function serve(
  t: { after(fn: () => unknown): void },
  opts: Partial<SessionOptions> = {},
  reply?: (tx: Transaction) => string[],
): Promise<Harness> {
  const spoolDir = mkdtempSync(join(tmpdir(), 'vigil-spool-'))
  const errors: ProtocolErrorKind[] = []
  const messages: { tx: Transaction; raw: Buffer }[] = []
  const sockets = new Set<Socket>()
  let seq = 0
  const server: Server = createServer((s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
    void runSmtpSession(
      s,
      {
        protocol: 'smtp',
        hostname: 'test.host',
        maxSizeBytes: 10000,
        spoolThresholdBytes: 1000,
        spoolDir,
        maxLineBytes: 1024,
        maxErrors: 5,
        timeoutSecs: 10,
        ...opts,
      },
      {
        onMail: () => `00001-0${++seq}`,
        onData: () => {},
        async onMessage(tx) {
          messages.push({ tx, raw: await tx.body.readAll() })
          return reply ? reply(tx) : tx.rcpts.map(() => `250 2.0.0 Ok, id=${tx.taskId}`)
        },
        onProtocolError: (k) => void errors.push(k),
      },
    )
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  const port = (server.address() as { port: number }).port
  const h: Harness = {
    port,
    errors,
    messages,
    spoolDir,
    async close() {
      for (const s of sockets) s.destroy()
      await new Promise<void>((r) => server.close(() => r()))
      rmSync(spoolDir, { recursive: true, force: true })
    },
  }
  t.after(() => h.close())
  return h
}

/** Sends `input` (all at once, or in the given chunks) and collects the replies until `until` matches or the server closes. */
async function talk(port: number, input: (string | Buffer)[], until: RegExp, timeoutMs = 5000): Promise<string> {
  const s = connect(port, '127.0.0.1')
  let got = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      s.destroy()
      reject(new Error(`timeout; got:\n${got}`))
    }, timeoutMs)
    const done = () => {
      clearTimeout(timer)
      s.destroy()
      resolve(got)
    }
    s.on('data', (d) => {
      got += d.toString('latin1')
      if (until.test(got)) done()
    })
    s.on('close', done)
    s.on('error', () => {})
    s.once('data', async () => {
      for (const piece of input) {
        if (s.destroyed) break
        s.write(piece)
        await new Promise((r) => setImmediate(r))
      }
    })
  })
}

const HELLO = 'EHLO client.example\r\n'
const ENV = 'MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n'

test('answers a pipelined transaction in order and delivers the dot-unstuffed message', async (t) => {
  const h = await serve(t)
  const out = await talk(
    h.port,
    [HELLO + ENV + 'DATA\r\n', 'Subject: x\r\n\r\n..leading dot\r\nline\r\n.\r\nQUIT\r\n'],
    /^221 /m,
  )
  const codes = out
    .split('\r\n')
    .filter(Boolean)
    .map((l) => l.slice(0, 4))
  assert.deepEqual(
    codes.filter((c) => !c.endsWith('-')),
    ['220 ', '250 ', '250 ', '250 ', '354 ', '250 ', '221 '],
  )
  assert.equal(h.messages.length, 1)
  assert.equal(h.messages[0].raw.toString(), 'Subject: x\r\n\r\n.leading dot\r\nline\r\n')
  assert.equal(h.messages[0].tx.body.headerEnd, 'Subject: x\r\n\r\n'.length)
})

test('advertises the ESMTP extensions amavis offers', async (t) => {
  const h = await serve(t)
  const out = await talk(h.port, [HELLO], /^250 XFORWARD/m)
  for (const ext of [
    'PIPELINING',
    'SIZE 10000',
    'ENHANCEDSTATUSCODES',
    '8BITMIME',
    'SMTPUTF8',
    'DSN',
    'XFORWARD NAME ADDR PORT PROTO HELO IDENT SOURCE',
  ])
    assert.ok(out.includes(`250-${ext}\r\n`) || out.includes(`250 ${ext}\r\n`), ext)
})

const malformed: { name: string; input: (string | Buffer)[]; expect: RegExp; kind: ProtocolErrorKind }[] = [
  {
    name: 'DATA without RCPT',
    input: [HELLO, 'MAIL FROM:<a@example.org>\r\n', 'DATA\r\n'],
    expect: /503 5\.5\.1 Error: need RCPT command/,
    kind: 'bad_sequence',
  },
  {
    name: 'DATA without MAIL',
    input: [HELLO, 'DATA\r\n'],
    expect: /503 5\.5\.1 Error: need MAIL command/,
    kind: 'bad_sequence',
  },
  {
    name: 'MAIL before EHLO',
    input: ['MAIL FROM:<a@example.org>\r\n'],
    expect: /503 5\.5\.1 Error: send HELO\/EHLO first/,
    kind: 'bad_sequence',
  },
  {
    name: 'NUL byte in a command',
    input: [HELLO, Buffer.from('MAIL FROM:<a\0@example.org>\r\n')],
    expect: /500 5\.5\.2 Error: NUL character/,
    kind: 'nul_byte',
  },
  {
    name: 'invalid UTF-8 address',
    input: [HELLO, Buffer.from([...Buffer.from('MAIL FROM:<a'), 0xc3, 0x28, ...Buffer.from('@example.org>\r\n')])],
    expect: /500 5\.5\.2 Error: invalid UTF-8/,
    kind: 'bad_utf8',
  },
  {
    name: 'non-ASCII address without SMTPUTF8',
    input: [HELLO, 'MAIL FROM:<j\u00f6rg@example.org>\r\n'],
    expect: /553 5\.6\.7/,
    kind: 'non_ascii_address',
  },
  {
    name: 'bad address syntax',
    input: [HELLO, 'MAIL FROM:<not an address>\r\n'],
    expect: /501 5\.1\.7/,
    kind: 'bad_syntax',
  },
  {
    name: 'SIZE over the limit',
    input: [HELLO, 'MAIL FROM:<a@example.org> SIZE=20000\r\n'],
    expect: /552 5\.3\.4 Message size exceeds fixed limit/,
    kind: 'oversize',
  },
  { name: 'unknown command', input: [HELLO, 'BDAT 10 LAST\r\n'], expect: /502 5\.5\.2/, kind: 'unknown_command' },
  {
    name: 'unsupported MAIL parameter',
    input: [HELLO, 'MAIL FROM:<a@example.org> FOO=BAR\r\n'],
    expect: /555 5\.5\.4 Unsupported option: FOO/,
    kind: 'bad_syntax',
  },
  {
    name: 'XFORWARD inside a transaction',
    input: [HELLO, 'MAIL FROM:<a@example.org>\r\n', 'XFORWARD ADDR=192.0.2.1\r\n'],
    expect: /503 5\.5\.1/,
    kind: 'bad_sequence',
  },
  { name: 'LHLO on an SMTP listener', input: ['LHLO x\r\n'], expect: /500 5\.5\.1/, kind: 'bad_sequence' },
]
for (const c of malformed) {
  test(`rejects ${c.name} with the right SMTP error and counts it`, async (t) => {
    const h = await serve(t)
    const out = await talk(h.port, c.input, c.expect)
    assert.match(out, c.expect)
    assert.ok(h.errors.includes(c.kind), `${c.kind} in ${h.errors}`)
    assert.equal(h.messages.length, 0)
  })
}

test('accepts bare LF line ends, counting them', async (t) => {
  const h = await serve(t)
  const out = await talk(
    h.port,
    ['EHLO x\nMAIL FROM:<a@example.org>\nRCPT TO:<b@example.net>\nDATA\n', 'Subject: y\n\nbody\n.\n'],
    /250 2\.0\.0 Ok, id=/,
  )
  assert.match(out, /354 /)
  assert.equal(h.messages[0].raw.toString(), 'Subject: y\r\n\r\nbody\r\n')
  assert.ok(h.errors.includes('bare_lf'))
})

test('answers a 1 MB command line with 500 5.5.2 without buffering it, and stays usable', async (t) => {
  const h = await serve(t)
  const big = Buffer.alloc(1024 * 1024, 0x41)
  const chunks: (string | Buffer)[] = [HELLO]
  for (let i = 0; i < big.length; i += 64 * 1024) chunks.push(big.subarray(i, i + 64 * 1024))
  chunks.push('\r\nNOOP\r\n')
  const before = process.memoryUsage().arrayBuffers
  const out = await talk(h.port, chunks, /250 2\.0\.0 Ok\r\n/)
  assert.match(out, /500 5\.5\.2 Error: line too long\r\n250 2\.0\.0 Ok\r\n/)
  assert.deepEqual(h.errors, ['line_too_long'])
  assert.ok(process.memoryUsage().arrayBuffers - before < 8 * 1024 * 1024)
})

test('rejects an oversize message by its actual size after reading it to the end', async (t) => {
  const h = await serve(t)
  const body = 'x'.repeat(998) + '\r\n'
  const out = await talk(
    h.port,
    [HELLO + ENV + 'DATA\r\n', 'Subject: big\r\n\r\n' + body.repeat(15) + '.\r\nNOOP\r\n'],
    /250 2\.0\.0 Ok\r\n$/,
  )
  assert.match(out, /552 5\.3\.4 Message size exceeds fixed limit\r\n250 2\.0\.0 Ok\r\n/)
  assert.equal(h.messages.length, 0)
  assert.ok(h.errors.includes('oversize'))
  assert.deepEqual(readdirSync(h.spoolDir), [], 'spool file removed')
})

test('counts message content sent before the 354 (improper pipelining) and still takes the message', async (t) => {
  const h = await serve(t)
  const out = await talk(h.port, [HELLO, ENV + 'DATA\r\nSubject: z\r\n\r\nhi\r\n.\r\n'], /250 2\.0\.0 Ok, id=/)
  assert.match(out, /354 /)
  assert.ok(h.errors.includes('pipelining'))
  assert.equal(h.messages.length, 1)
})

test('says 421 and closes after too many errors', async (t) => {
  const h = await serve(t)
  const out = await talk(h.port, [HELLO, 'FOO\r\nFOO\r\nFOO\r\nFOO\r\nFOO\r\nFOO\r\nNOOP\r\n'], /421 /)
  assert.match(out, /421 4\.7\.0 test\.host Error: too many errors/)
  assert.ok(h.errors.includes('too_many_errors'))
  assert.ok(!/250 2\.0\.0 Ok\r\n$/.test(out))
})

test('spools a message above the threshold to a file and removes it afterwards', async (t) => {
  const h = await serve(t)
  const body = 'y'.repeat(100) + '\r\n'
  await talk(
    h.port,
    [HELLO + ENV + 'DATA\r\n', 'Subject: s\r\n\r\n' + body.repeat(30) + '.\r\n'],
    /250 2\.0\.0 Ok, id=/,
  )
  assert.equal(h.messages.length, 1)
  assert.ok(h.messages[0].tx.body.path, 'spooled')
  assert.equal(h.messages[0].raw.length, 'Subject: s\r\n\r\n'.length + body.length * 30)
  assert.deepEqual(readdirSync(h.spoolDir), [])
})

test('keeps XFORWARD attributes and DSN parameters for the transaction', async (t) => {
  const h = await serve(t)
  await talk(
    h.port,
    [
      HELLO,
      'XFORWARD NAME=mx.example.org ADDR=IPv6:2001:db8::1 PORT=25\r\nXFORWARD PROTO=ESMTP HELO=mx IDENT=4ABC SOURCE=REMOTE\r\n',
      'MAIL FROM:<a@example.org> RET=HDRS ENVID=abc+2Bdef\r\nRCPT TO:<b@example.net> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b+40example.net\r\nDATA\r\n',
      'Subject: s\r\n\r\nx\r\n.\r\n',
    ],
    /250 2\.0\.0 Ok, id=/,
  )
  const tx = h.messages[0].tx
  assert.deepEqual(tx.xforward, {
    NAME: 'mx.example.org',
    ADDR: 'IPv6:2001:db8::1',
    PORT: '25',
    PROTO: 'ESMTP',
    HELO: 'mx',
    IDENT: '4ABC',
    SOURCE: 'REMOTE',
  })
  assert.equal(tx.mailParams.RET, 'HDRS')
  assert.equal(tx.mailParams.ENVID, 'abc+2Bdef')
  assert.deepEqual(tx.rcpts[0], { address: 'b@example.net', notify: 'SUCCESS,FAILURE', orcpt: 'rfc822;b@example.net' })
  assert.equal(tx.clientProtocol, 'ESMTP')
})

test('answers per recipient after DATA in LMTP', async (t) => {
  const h = await serve(t, { protocol: 'lmtp' }, (tx) =>
    tx.rcpts.map((r, i) => (i === 0 ? `250 2.0.0 <${r.address}> Ok` : `550 5.1.1 <${r.address}> no`)),
  )
  const out = await talk(
    h.port,
    [
      'LHLO x\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nRCPT TO:<c@example.net>\r\nDATA\r\n',
      'Subject: l\r\n\r\nx\r\n.\r\n',
    ],
    /550 5\.1\.1 <c@example\.net> no\r\n/,
  )
  assert.match(out, /250 2\.0\.0 <b@example\.net> Ok\r\n550 5\.1\.1 <c@example\.net> no\r\n/)
  assert.equal(h.messages[0].tx.clientProtocol, 'LMTP')
})

test('tempfails a message whose spool file cannot be written, after reading it to the end', async (t) => {
  const h = await serve(t, { spoolDir: '/dev/null/spool', spoolThresholdBytes: 10 })
  const out = await talk(
    h.port,
    [HELLO + ENV + 'DATA\r\n', 'Subject: s\r\n\r\n' + 'z'.repeat(100) + '\r\n.\r\nNOOP\r\n'],
    /250 2\.0\.0 Ok\r\n$/,
  )
  assert.match(out, /451 4\.3\.0 Error: cannot spool the message, id=00001-01\r\n250 2\.0\.0 Ok\r\n/)
  assert.equal(h.messages.length, 0)
})
