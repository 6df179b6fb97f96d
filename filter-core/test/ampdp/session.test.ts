// One AM.PDP connection over a real unix socket: several requests per connection, malformed lines
// counted and skipped, oversized input refused and the connection closed.
import { describe, it, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { createConnection, createServer } from 'node:net'
import { join } from 'node:path'
import { commonConfigSchema, createLogger } from '@vigil/protocol'
import { tmpDir } from '../../../test/harness/index.ts'
import { filterConfigSchema } from '../../src/config.ts'
import { createAmpdpStats, MAX_LINE_BYTES, runAmpdpSession } from '../../src/ampdp/session.ts'
import { protoDecode } from '../../src/ampdp/codec.ts'

async function serve(t: TestContext) {
  const home = await tmpDir(t, 'ampdp-sess-')
  const path = join(home, 'ampdp.sock')
  const stats = createAmpdpStats()
  const logs: string[] = []
  const log = createLogger({ name: 'filter', level: 'debug', write: (l) => logs.push(l) })
  const server = createServer((socket) => {
    void runAmpdpSession(socket, {
      common: commonConfigSchema.parse({ home, myhostname: 'filter.test' }),
      cfg: filterConfigSchema.parse({ auth_required_release: true }),
      log,
      taskId: '00001-01',
      timeoutSecs: 5,
      stats,
      quarantineDir: join(home, 'quarantine'),
    })
  })
  await new Promise<void>((r) => server.listen(path, r))
  t.after(() => new Promise<void>((r) => server.close(() => r())))
  return { path, stats, logs }
}

/** Writes `input` and collects everything the server sends until it closes or `responses` arrived. */
function exchange(path: string, input: string, responses: number): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const c = createConnection(path)
    let text = ''
    const done = (closed: boolean) => {
      c.destroy()
      resolve({ text, closed })
    }
    c.on('data', (d) => {
      text += d.toString('latin1')
      if (text.split('\r\n\r\n').length - 1 >= responses && responses > 0) done(false)
    })
    c.on('end', () => done(true))
    c.on('error', reject)
    c.write(input)
  })
}

describe('runAmpdpSession', () => {
  it('answers each request of a connection in turn, LF or CRLF ended', async (t) => {
    const { path, stats } = await serve(t)
    const { text } = await exchange(
      path,
      'request=release\r\nmail_id=AAAAAAAAAAAA\r\n\r\nrequest=requeue\nmail_id=BBBBBBBBBBBB\nsecret_id=x\n\n',
      2,
    )
    const responses = text
      .split('\r\n\r\n')
      .slice(0, 2)
      .map((r) => r.split('\r\n').map(protoDecode))
    assert.deepEqual(responses, [
      ['setreply=450 4.5.0 Failure: Secret_id is required, but missing', 'return_value=tempfail', 'exit_code=75'],
      [
        'setreply=450 4.5.0 Failure: Secret_id x does not match mail_id BBBBBBBBBBBB',
        'return_value=tempfail',
        'exit_code=75',
      ],
    ])
    assert.equal(stats.requests, 2)
    assert.equal(stats.refused, 2)
  })

  it('counts and skips a malformed line, then answers the request', async (t) => {
    const { path, stats, logs } = await serve(t)
    const { text } = await exchange(path, 'request=release\nthis line has no separator\n\n', 1)
    assert.match(protoDecode(text.split('\r\n')[0]), /^setreply=450 4\.5\.0 Failure: Missing 'mail_id' field$/)
    assert.equal(stats.invalid_lines, 1)
    assert.ok(logs.some((l) => l.includes('invalid attribute line skipped')))
  })

  it('refuses a line longer than MAX_LINE_BYTES and closes the connection', async (t) => {
    const { path, stats } = await serve(t)
    const { text, closed } = await exchange(path, `request=release\nmail_id=${'A'.repeat(MAX_LINE_BYTES + 10)}`, 0)
    assert.equal(closed, true)
    assert.match(protoDecode(text.split('\r\n')[0]), /^setreply=450 4\.5\.0 Failure: line longer than \d+ bytes$/)
    assert.equal(stats.oversized, 1)
    assert.equal(stats.requests, 0)
  })
})
