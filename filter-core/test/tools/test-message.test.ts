// `vigil filter --test-message`: offline verdicts for fixture messages (no checker daemons:
// virus and spam checks are simply not performed, banned and header checks are).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { commonConfigSchema } from '@vigil/protocol'
import { filterConfigSchema } from '../../src/config.ts'
import { envelopeOf, testMessage } from '../../src/tools/test-message.ts'
import { stripQuarantineHeaders } from '../../src/tools/release.ts'

const fixture = (n: string) => fileURLToPath(new URL(`../fixtures/mail/${n}`, import.meta.url))
const common = commonConfigSchema.parse({ home: '/nonexistent', myhostname: 'mx.test' })

async function verdict(file: string, filter: Record<string, unknown> = {}): Promise<string> {
  let out = ''
  const code = await testMessage(
    common,
    filterConfigSchema.parse({ local_domains_maps: ['example.test'], ...filter }),
    fixture(file),
    (s) => (out += s),
  )
  assert.equal(code, 0)
  return out
}

test('prints PASS for a clean message, with no virus or spam check performed', async () => {
  const out = await verdict('clean.eml')
  assert.match(out, /content: Clean {2}checks: H B\n/)
  assert.match(out, /sender: <alice@example\.com>\n/)
  assert.match(out, /<bob@example\.test>: PASS \(main Clean\) -> 250 2\.0\.0 Ok \(not forwarded: test mode\)/)
})

test('prints the configured destiny for a banned attachment, for every recipient', async () => {
  const out = await verdict('banned-exe.eml', { final_banned_destiny: 'D_REJECT' })
  assert.match(out, /content: Banned/)
  assert.match(out, /<bob@example\.test>: REJECT \(blocked Banned\) -> 554 5\.7\.0 Reject, id=\d{5}-01 - BANNED: .*exe/)
  assert.match(out, /<carol@example\.test>: REJECT \(blocked Banned\)/)
})

test('says a DSN would be sent for D_BOUNCE (the default for banned mail)', async () => {
  const out = await verdict('banned-exe.eml')
  assert.match(
    out,
    /<bob@example\.test>: BOUNCE \(blocked Banned\) -> 250 2\.5\.0 Ok, id=\d{5}-01, BOUNCE \(test mode: DSN not sent\)/,
  )
})

test('flags an unencoded 8-bit header as a bad header and passes it by default', async () => {
  const out = await verdict('bad-header.eml')
  assert.match(out, /content: BadHdr8bit/)
  assert.match(out, /<bob@example\.test>: PASS \(main BadHdr8bit\)/)
  const blocked = await verdict('bad-header.eml', { final_bad_header_destiny: 'D_DISCARD' })
  assert.match(blocked, /DISCARD \(blocked BadHdr8bit\) -> 250 2\.7\.0 Ok, discarded/)
})

test('takes the envelope from quarantine headers when present, and release strips them', () => {
  const q = Buffer.from(
    'X-Envelope-From: <a@example.org>\nX-Envelope-To: <b@example.test>\nX-Envelope-To: <c@example.test>\nX-Quarantine-ID: <abcdefghijkl>\nSubject: x\n\nbody\n',
  )
  assert.deepEqual(envelopeOf(q), { from: 'a@example.org', to: ['b@example.test', 'c@example.test'] })
  assert.equal(stripQuarantineHeaders(q).toString(), 'Subject: x\n\nbody\n')
  assert.deepEqual(envelopeOf(Buffer.from('From: x@example.org\r\nTo: y@example.org\r\nCc: z@example.org\r\n\r\n')), {
    from: 'x@example.org',
    to: ['y@example.org', 'z@example.org'],
  })
})
