// `vigil demo` against a real filter with real clamd and spamd: every kind of the mix gets the
// verdict it is meant to show, and each message yields one event.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startClamd, startSmtpSink, startSpamd } from '../../../test/harness/index.ts'
import { startFilterStack } from '../helpers.ts'
import { demo, demoMix, runDemo } from '../../src/tools/demo.ts'

test('the demo mix shows clean, spam, virus, banned, bad-header, multi-recipient and IPv6 traffic', async (t) => {
  const [clamd, spamd, sink] = await Promise.all([startClamd(t), startSpamd(t), startSmtpSink(t)])
  const { pull, ...f } = await startFilterStack(t, {
    events: true,
    forwardPort: sink.port,
    filter: {
      clamd_address: `tcp:127.0.0.1:${clamd.port}`,
      spamd_address: `tcp:127.0.0.1:${spamd.port}`,
      local_domains_maps: ['example.com'],
      final_spam_destiny: 'D_DISCARD',
      final_banned_destiny: 'D_REJECT',
    },
  })
  const results = await runDemo({ port: f.port })
  const code = (kind: string) => results.find((r) => r.kind === kind)!.replies.map((r) => r.code)
  assert.equal(results.length, demoMix().length)
  assert.deepEqual(code('clean'), [250])
  assert.deepEqual(code('spam (GTUBE)'), [250])
  assert.deepEqual(code('virus (EICAR)'), [250])
  assert.deepEqual(code('virus (EICAR in zip)'), [250])
  assert.deepEqual(code('banned (.exe)'), [554])
  assert.deepEqual(code('multi-recipient'), [250, 250, 250])
  const events = (await pull.waitFor(results.length, 30000)) as Record<string, any>[]
  const byType = events.map((e) => e.content_type)
  for (const c of ['Clean', 'Spam', 'Virus', 'Banned', 'BadHdr8bit']) assert.ok(byType.includes(c), `${c} in ${byType}`)
  const v6 = events.find((e) => e.client_ip === '2001:db8::25')
  assert.ok(v6, 'IPv6 client from XFORWARD')
  assert.ok(events.some((e) => e.rcpt_num === 3))
  // The cli entry point prints one line per message and exits 0.
  let out = ''
  const exit = await demo({
    filter: { listen: [`127.0.0.1:${f.port}`] },
    options: { count: '2' },
    stdout: (s) => (out += s),
    stderr: () => {},
  })
  assert.equal(exit, 0)
  assert.equal(out.trim().split('\n').length, 2)
})
