import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Resolver } from 'node:dns/promises'
import { startDns, txtStrings } from './index.ts'

const LONG = 'v=DKIM1; k=rsa; p=' + 'M'.repeat(390)

test('startDns serves its test zone from a real NSD on 127.0.0.1 and ::1', async (t) => {
  const dns = await startDns(t, {
    zones: {
      'example.test': [
        { name: 'sel._domainkey', type: 'TXT', data: LONG },
        { name: 'mx', type: 'A', data: '192.0.2.25' },
      ],
    },
  })
  for (const server of [dns.server, dns.server6]) {
    const r = new Resolver({ timeout: 1000, tries: 1 })
    r.setServers([server])
    // A TXT record longer than 255 octets arrives as several strings that join to the value.
    const txt = await r.resolveTxt('sel._domainkey.example.test')
    assert.equal(txt.length, 1)
    assert.ok(txt[0].length > 1)
    assert.equal(txt[0].join(''), LONG)
    assert.deepEqual(await r.resolve4('mx.example.test'), ['192.0.2.25'])
    await assert.rejects(r.resolveTxt('nokey._domainkey.example.test'), { code: 'ENOTFOUND' })
  }
})

test('a paused DNS server answers nothing (the resolver times out) until it is resumed', async (t) => {
  const dns = await startDns(t, { zones: { 'example.test': [{ name: 'a', type: 'TXT', data: 'x' }] } })
  const r = new Resolver({ timeout: 300, tries: 1 })
  r.setServers([dns.server])
  dns.pause()
  const t0 = Date.now()
  await assert.rejects(r.resolveTxt('a.example.test'), { code: 'ETIMEOUT' })
  assert.ok(Date.now() - t0 >= 250)
  dns.resume()
  assert.deepEqual(await r.resolveTxt('a.example.test'), [['x']])
  await dns.stop()
  assert.equal(dns.process.running(), false)
})

test('txtStrings splits at 255 octets and escapes quotes', () => {
  assert.equal(txtStrings('a"b'), '"a\\"b"')
  assert.equal(txtStrings('x'.repeat(256)), `"${'x'.repeat(255)}" "x"`)
})
