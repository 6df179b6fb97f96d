// DKIM signing of originating mail through the real pipeline; each signature is checked by Perl's
// Mail::DKIM (Debian libmail-dkim-perl) against keys in a real NSD, and by Vigil's own verifier.
import { before, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  GTUBE,
  createScope,
  startDns,
  startSpamd,
  tmpDir,
  type DnsInstance,
  type SpamdInstance,
} from '../../../test/harness/index.ts'
import { MESSAGE, forwarded, makeKey, runMessage, txtRecord } from './helpers.ts'

const PERL_VERIFY = fileURLToPath(new URL('../../../test/interop/dkim-verify.pl', import.meta.url))
const rsa = makeKey('rsa')
const ed = makeKey('ed25519')
const scope = createScope()
let dns: DnsInstance
let spamd: SpamdInstance
let keys: { rsa: string; ed: string }
before(async () => {
  spamd = await startSpamd(scope)
  const dir = await tmpDir(scope, 'dkim-keys')
  keys = { rsa: join(dir, 'rsa.pem'), ed: join(dir, 'ed.pem') }
  writeFileSync(keys.rsa, rsa.privatePem)
  writeFileSync(keys.ed, ed.privatePem)
  dns = await startDns(scope, {
    zones: {
      'example.com': [
        { name: 'sel1._domainkey', type: 'TXT', data: txtRecord(rsa) },
        { name: 'ed1._domainkey', type: 'TXT', data: txtRecord(ed) },
      ],
    },
  })
})
after(() => scope.close())

const ORIG = '10.0.0.5' // in @mynetworks: originating
const signing = (extra: Record<string, unknown> = {}) => ({
  dns: { servers: [dns.server], timeout_ms: 500, tries: 1 },
  enable_dkim_signing: true,
  dkim_keys: [
    { domain: 'example.com', selector: 'sel1', key_file: keys.rsa },
    { domain: 'example.com', selector: 'ed1', key_file: keys.ed },
  ],
  ...extra,
})

function perlVerify(msg: Buffer): string {
  const r = spawnSync('perl', [PERL_VERIFY, '127.0.0.1', String(dns.port)], { input: msg, timeout: 20_000 })
  assert.equal(r.status, 0, r.stderr.toString())
  return r.stdout.toString().trim()
}
const sigField = (msg: Buffer) => /^DKIM-Signature:[^\r\n]*(?:\r\n[ \t][^\r\n]*)*/m.exec(msg.toString())?.[0] ?? ''

test('originating mail is signed (RSA 2048, relaxed/simple, t=): Mail::DKIM says pass; dkim_new_sig', async () => {
  const r = await runMessage(MESSAGE, signing(), { clientIp: ORIG })
  assert.deepEqual(r.event.dkim_new_sig, ['example.com'])
  const out = await forwarded(r)
  const sig = sigField(out).replace(/\r\n[ \t]+/g, ' ')
  assert.match(sig, /\bd=example\.com;/)
  assert.match(sig, /\bs=sel1;/)
  assert.match(sig, /\ba=rsa-sha256;/)
  assert.match(sig, /\bc=relaxed\/simple;/)
  assert.match(sig, /\bt=1704103200;/)
  assert.match(perlVerify(out), /^pass d=example\.com s=sel1 a=rsa-sha256 c=relaxed\/simple /)
  // Vigil's verifier agrees when the message comes back in.
  const back = await runMessage(out, signing())
  assert.deepEqual(back.event.dkim_valid_sig, ['example.com'])
  assert.equal(back.event.dkim_author_sig, 'example.com')
})

test('signed header fields follow %signed_header_fields: From/Subject/Date yes, To not; Sender when configured', async () => {
  const withSender = Buffer.from(MESSAGE.toString().replace('To: bob', 'Sender: list@example.com\r\nTo: bob'))
  const plain = await forwarded(await runMessage(withSender, signing(), { clientIp: ORIG }))
  const h = perlVerify(plain).split(' h=')[1]
  for (const f of ['from', 'subject', 'date', 'message-id', 'received']) assert.match(h, new RegExp(`\\b${f}\\b`, 'i'))
  assert.doesNotMatch(h, /\bto\b|\bsender\b/i)
  const talk = await forwarded(
    await runMessage(withSender, signing({ signed_header_fields: { sender: 1 } }), { clientIp: ORIG }),
  )
  assert.match(perlVerify(talk), /^pass .* h=.*\bsender\b/i)
})

test('bysender options: Ed25519 (a=ed25519-sha256, s=ed1) and relaxed/relaxed; verified by Vigil', async () => {
  const opts = {
    dkim_signature_options_bysender_maps: [{ 'example.com': { a: 'ed25519-sha256', c: 'relaxed/relaxed' } }],
  }
  const r = await runMessage(MESSAGE, signing(opts), { clientIp: ORIG })
  const out = await forwarded(r)
  const sig = sigField(out).replace(/\r\n[ \t]+/g, ' ')
  assert.match(sig, /\ba=ed25519-sha256;/)
  assert.match(sig, /\bs=ed1;/)
  assert.match(sig, /\bc=relaxed\/relaxed;/)
  const back = await runMessage(out, signing())
  assert.deepEqual(back.event.dkim_valid_sig, ['example.com'])
})

test('not signed: inbound mail, spam from inside, a domain without a key, signing off', async () => {
  const inbound = await runMessage(MESSAGE, signing())
  assert.equal(inbound.event.dkim_new_sig, undefined)
  assert.equal(sigField(await forwarded(inbound)), '')
  // GTUBE through the real spamd (score 1000), passed on by final_spam_destiny: never signed.
  const gtube = Buffer.from(MESSAGE.toString('latin1').replace('\r\n\r\n', `\r\n\r\n${GTUBE}\r\n`), 'latin1')
  const spam = await runMessage(gtube, signing({ final_spam_destiny: 'D_PASS' }), { clientIp: ORIG, spamd })
  assert.ok(Number((spam.event.spam_score as { text: string }).text) >= 1000, 'GTUBE scores 1000')
  assert.equal(spam.event.dkim_new_sig, undefined)
  assert.equal(sigField(await forwarded(spam)), '')
  const other = Buffer.from(MESSAGE.toString().replace('alice@example.com>', 'alice@other.example>'))
  const nokey = await runMessage(other, signing(), { clientIp: ORIG, mailFrom: 'alice@other.example' })
  assert.equal(nokey.event.dkim_new_sig, undefined)
  const off = await runMessage(MESSAGE, signing({ enable_dkim_signing: false }), { clientIp: ORIG })
  assert.equal(off.event.dkim_new_sig, undefined)
})

test("a policy bank enables signing (the talk's MLIST-NOCHECKS: signing only, every check bypassed)", async () => {
  const cfg = signing({
    enable_dkim_signing: false,
    policy_banks: {
      'MLIST-NOCHECKS': {
        originating: true,
        enable_dkim_signing: true,
        bypass_virus_checks: true,
        bypass_spam_checks: true,
        bypass_banned_checks: true,
        bypass_header_checks: true,
      },
    },
  })
  const r = await runMessage(MESSAGE, cfg, { bank: 'MLIST-NOCHECKS' })
  assert.deepEqual(r.event.dkim_new_sig, ['example.com'])
  assert.deepEqual(r.event.policy_banks, ['MLIST-NOCHECKS'])
  assert.match(perlVerify(await forwarded(r)), /^pass d=example\.com/)
})
