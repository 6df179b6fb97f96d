// DKIM verification through the real pipeline, keys served by a real NSD (test/harness/dns.ts).
import { before, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { encodeAmavisJson } from '@vigil/protocol'
import { createScope, startDns, startSpamd, type DnsInstance, type SpamdInstance } from '../../../test/harness/index.ts'
import { MESSAGE, makeKey, remoteSign, runMessage, txtRecord } from './helpers.ts'

const rsa = makeKey('rsa')
const ed = makeKey('ed25519')
const scope = createScope()
let dns: DnsInstance
let spamd: SpamdInstance
before(async () => {
  spamd = await startSpamd(scope)
  dns = await startDns(scope, {
    zones: {
      'example.com': [
        { name: 'rsa1._domainkey', type: 'TXT', data: txtRecord(rsa) },
        { name: 'ed1._domainkey', type: 'TXT', data: txtRecord(ed) },
      ],
      'list.example': [{ name: 'l._domainkey', type: 'TXT', data: txtRecord(rsa) }],
    },
  })
})
after(() => scope.close())

const filter = () => ({ dns: { servers: [dns.server], timeout_ms: 300, tries: 1 } })
const arOf = (r: Awaited<ReturnType<typeof runMessage>>) => {
  const text = Buffer.concat(r.sent[0].content().filter((c): c is Buffer => Buffer.isBuffer(c))).toString()
  return /^Authentication-Results: ([^\r\n]*(?:\r\n[ \t][^\r\n]*)*)/m.exec(text)?.[1].replace(/\r\n/g, '\n')
}

test('an author domain signature (RSA 2048) passes: dkim_valid_sig, dkim_author_sig, D, Authentication-Results', async () => {
  const r = await runMessage(await remoteSign(MESSAGE, 'example.com', 'rsa1', rsa), filter())
  assert.deepEqual(r.event.dkim_valid_sig, ['example.com'])
  assert.equal(r.event.dkim_author_sig, 'example.com')
  assert.match(String(r.event.checks_performed), /\bD\b/)
  assert.equal(arOf(r), 'mx.test (amavis);\n dkim=pass (2048-bit key)\n header.d=example.com')
})

test('an Ed25519 signature passes; a third-party signature is valid but no author signature', async () => {
  const r = await runMessage(await remoteSign(MESSAGE, 'example.com', 'ed1', ed), filter())
  assert.deepEqual(r.event.dkim_valid_sig, ['example.com'])
  const third = await runMessage(await remoteSign(MESSAGE, 'list.example', 'l', rsa), filter())
  assert.deepEqual(third.event.dkim_valid_sig, ['list.example'])
  assert.equal(third.event.dkim_author_sig, undefined)
})

test('a tampered body fails: no valid signature, dkim=fail (body has been altered)', async () => {
  const signed = await remoteSign(MESSAGE, 'example.com', 'rsa1', rsa)
  const r = await runMessage(Buffer.from(signed.toString().replace('see you.', 'send money.')), filter())
  assert.equal(r.event.dkim_valid_sig, undefined)
  assert.equal(r.event.dkim_author_sig, undefined)
  assert.match(String(r.event.checks_performed), /\bD\b/)
  assert.equal(
    arOf(r),
    'mx.test (amavis);\n dkim=fail (2048-bit key)\n reason="fail (body has been altered)"\n header.d=example.com',
  )
})

test("a missing key: Mail::DKIM's invalid (public key: not available), which amavis reports as dkim=neutral", async () => {
  const r = await runMessage(await remoteSign(MESSAGE, 'example.com', 'gone', rsa), filter())
  assert.equal(r.event.dkim_valid_sig, undefined)
  assert.equal(
    arOf(r),
    'mx.test (amavis);\n dkim=neutral\n reason="invalid (public key: not available)"\n header.d=example.com',
  )
})

test('DNS not answering (server paused) or gone (port closed): temperror, the message still passes, in bounded time', async (t) => {
  const signed = await remoteSign(MESSAGE, 'example.com', 'rsa1', rsa)
  const other = await startDns(t, { zones: { 'example.com': [] } })
  for (const mode of ['paused', 'stopped'] as const) {
    if (mode === 'paused') other.pause()
    else await other.stop()
    const r = await runMessage(signed, { dns: { servers: [other.server], timeout_ms: 300, tries: 1 } })
    assert.deepEqual(r.event.action, ['PASS'], mode)
    assert.equal(r.event.dkim_valid_sig, undefined)
    assert.match(
      arOf(r) ?? '',
      /^mx\.test \(amavis\);\n dkim=temperror\n reason="temperror \(public key: DNS failure: E[A-Z]+\)"/,
      mode,
    )
    assert.ok(r.elapsedMs < 3000, `${mode}: ${r.elapsedMs} ms`)
  }
})

test('@signer_reputation_maps pulls the spam score towards the best signer reputation (AM.DKIM_REPUT)', async () => {
  const signed = await remoteSign(MESSAGE, 'example.com', 'rsa1', rsa)
  // The real spamd's score of the same message with no reputation configured.
  const plain = await runMessage(signed, filter(), { spamd })
  const scoreOf = (e: Record<string, unknown>) => Number((e.spam_score as { text: string }).text)
  const score = scoreOf(plain.event)
  assert.ok(Number.isFinite(score), `spam_score ${JSON.stringify(plain.event.spam_score)}`)
  const r = await runMessage(
    signed,
    { ...filter(), signer_reputation_maps: [{ '@example.com': -5 }], reputation_factor: 0.2 },
    { spamd },
  )
  // adjusted = 0.2 · (−5) + 0.8 · score
  assert.equal(encodeAmavisJson({ s: r.event.spam_score }), `{"s":${(0.2 * -5 + 0.8 * score).toFixed(3)}}`)
  assert.ok((r.event.tests as string[]).includes('AM.DKIM_REPUT'))
  assert.ok((r.event.tests_ham as string[]).includes('AM.DKIM_REPUT'))
  const unsignedPlain = await runMessage(MESSAGE, filter(), { spamd })
  const unsigned = await runMessage(
    MESSAGE,
    { ...filter(), signer_reputation_maps: [{ '@example.com': -5 }] },
    { spamd },
  )
  assert.equal(scoreOf(unsigned.event), scoreOf(unsignedPlain.event))
  assert.ok(!((unsigned.event.tests as string[] | undefined) ?? []).includes('AM.DKIM_REPUT'))
})

test('an unsigned message is not a DKIM check; verification off (enable_dkim_verification) skips signed mail too', async () => {
  const r = await runMessage(MESSAGE, filter())
  assert.doesNotMatch(String(r.event.checks_performed ?? ''), /D/)
  assert.equal(arOf(r), undefined)
  const off = await runMessage(await remoteSign(MESSAGE, 'example.com', 'rsa1', rsa), {
    ...filter(),
    enable_dkim_verification: false,
  })
  assert.equal(off.event.dkim_valid_sig, undefined)
  assert.doesNotMatch(String(off.event.checks_performed ?? ''), /D/)
})
