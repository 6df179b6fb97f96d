import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DataReceiver, findHeaderEnd } from '../../src/smtp/spool.ts'

const INPUT = 'Subject: a\r\nX: b\n\r\n..dot\r\nplain\nlast\r\n.\r\nNEXT'
const WANT = 'Subject: a\r\nX: b\r\n\r\n.dot\r\nplain\r\nlast\r\n'

test('decodes DATA identically however the input is split into chunks', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-spool-'))
  try {
    for (let a = 0; a <= INPUT.length; a++) {
      for (const threshold of [1 << 20, 8]) {
        const rx = new DataReceiver({ maxSizeBytes: 0, spoolThresholdBytes: threshold, spoolDir: dir })
        const buf = Buffer.from(INPUT)
        let used = rx.push(buf.subarray(0, a))
        let rest: Buffer
        if (used >= 0) rest = buf.subarray(used)
        else {
          const u2 = rx.push(buf.subarray(a))
          assert.ok(u2 >= 0, `end found (split ${a})`)
          rest = buf.subarray(a).subarray(u2)
          used = a + u2
        }
        assert.equal(rest.toString(), 'NEXT', `remainder (split ${a})`)
        const body = rx.finish()
        assert.equal((await body.readAll()).toString(), WANT, `content (split ${a}, threshold ${threshold})`)
        assert.equal(body.size, WANT.length)
        assert.equal(body.headerEnd, 'Subject: a\r\nX: b\r\n\r\n'.length, `headerEnd (split ${a})`)
        assert.equal(body.header().toString(), 'Subject: a\r\nX: b\r\n\r\n')
        body.dispose()
      }
    }
    assert.deepEqual(readdirSync(dir), [])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('flags oversize messages while still finding the end of data', () => {
  const rx = new DataReceiver({ maxSizeBytes: 10, spoolThresholdBytes: 100, spoolDir: '/nonexistent' })
  assert.equal(rx.push(Buffer.from('Subject: 0123456789\r\n\r\nbody\r\n.\r\n')), 32)
  assert.equal(rx.oversize, true)
})

test('finds the end of the header block for CRLF, LF and header-only messages', () => {
  assert.equal(findHeaderEnd(Buffer.from('A: b\r\n\r\nbody')), 8)
  assert.equal(findHeaderEnd(Buffer.from('A: b\n\nbody')), 6)
  assert.equal(findHeaderEnd(Buffer.from('A: b\r\n')), 6)
  assert.equal(findHeaderEnd(Buffer.from('\r\nbody')), 2)
})

test('a large spooled message reads back whole, from any offset, with its header held in memory', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-spool-big-'))
  try {
    const header = 'Subject: big\r\nX-N: 1\r\n\r\n'
    let body = ''
    for (let i = 0; body.length < 600 * 1024; i++) body += `line ${i} ${'x'.repeat(i % 97)}\r\n`
    // Round 2 sends bare LFs (short lines: thousands of pieces per spool write), stored as CRLF.
    const wireOf = (round: number) =>
      Buffer.from(
        (round === 2 ? (header + body).replace(/\r\n/g, '\n') : header + body).replace(/^\./gm, '..') + '.\r\n',
      )
    for (const round of [0, 1, 2]) {
      const wire = wireOf(round)
      // The second round finds the spool directory removed (tmp cleaners) and makes it again.
      if (round === 1) rmSync(dir, { recursive: true, force: true })
      const rx = new DataReceiver({ maxSizeBytes: 0, spoolThresholdBytes: 100 * 1024, spoolDir: dir })
      let used = -1
      for (let i = 0; i < wire.length && used < 0; i += 5000) {
        const u = rx.push(wire.subarray(i, i + 5000))
        if (u >= 0) used = i + u
      }
      assert.equal(used, wire.length)
      assert.equal(rx.error, undefined)
      assert.ok(rx.spooled)
      const msg = rx.finish()
      assert.ok(msg.path)
      assert.equal(msg.size, header.length + body.length)
      assert.equal(msg.header().toString(), header)
      assert.equal((await msg.readAll()).toString(), header + body)
      for (const start of [msg.headerEnd, 300 * 1024 + 7, msg.size]) {
        const got: Buffer[] = []
        for await (const c of msg.stream(start)) got.push(c as Buffer)
        assert.equal(Buffer.concat(got).toString(), (header + body).slice(start), `stream from ${start}`)
      }
      msg.dispose()
      assert.deepEqual(readdirSync(dir), [])
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
