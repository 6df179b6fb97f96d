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
