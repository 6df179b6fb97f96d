import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startDns } from '../../../test/harness/index.ts'
import { createDnsResolver } from '../../src/dns/resolver.ts'
import { filterConfigSchema } from '../../src/config.ts'

const zones = { 'example.test': [{ name: 'sel._domainkey', type: 'TXT' as const, data: 'v=DKIM1; p=abc' }] }

test('the resolver asks the configured server and answers repeats from its cache', async (t) => {
  const dns = await startDns(t, { zones })
  const r = createDnsResolver({ servers: [dns.server6], timeout_ms: 500, tries: 1 })
  assert.deepEqual(await r.resolveTxt('sel._domainkey.example.test'), [['v=DKIM1; p=abc']])
  await assert.rejects(r.resolveTxt('none._domainkey.example.test'), { code: 'ENOTFOUND' })
  // With the server stopped, the cached answer and the cached "no such name" still come back.
  await dns.stop()
  assert.deepEqual(await r.resolveTxt('SEL._domainkey.example.test.'), [['v=DKIM1; p=abc']])
  await assert.rejects(r.resolveTxt('none._domainkey.example.test'), { code: 'ENOTFOUND' })
  assert.equal(r.stats.queries, 2)
  assert.equal(r.stats.hits, 2)
})

test('a server that does not answer gives ETIMEOUT within the configured time, and it is not cached', async (t) => {
  const dns = await startDns(t, { zones })
  const r = createDnsResolver({ servers: [dns.server], timeout_ms: 200, tries: 1 })
  dns.pause()
  const t0 = Date.now()
  await assert.rejects(r.resolveTxt('sel._domainkey.example.test'), { code: 'ETIMEOUT' })
  assert.ok(Date.now() - t0 < 2000, `took ${Date.now() - t0} ms`)
  dns.resume()
  assert.deepEqual(await r.resolveTxt('sel._domainkey.example.test'), [['v=DKIM1; p=abc']])
})

test('the cache keeps at most cache_size answers and expires them after cache_ttl_secs', async (t) => {
  const dns = await startDns(t, {
    zones: { 'example.test': ['a', 'b', 'c'].map((n) => ({ name: n, type: 'TXT' as const, data: n })) },
  })
  let clock = 0
  const r = createDnsResolver({ servers: [dns.server], cache_size: 2, cache_ttl_secs: 10 }, () => clock)
  for (const n of ['a', 'b', 'c']) await r.resolveTxt(`${n}.example.test`)
  await r.resolveTxt('c.example.test') // cached
  await r.resolveTxt('a.example.test') // dropped as least recently used: asked again
  assert.deepEqual([r.stats.queries, r.stats.hits], [4, 1])
  clock = 11_000
  await r.resolveTxt('a.example.test') // expired
  assert.equal(r.stats.queries, 5)
})

test('config: dns servers as host:port, defaults filled in', () => {
  const cfg = filterConfigSchema.parse({ dns: { servers: ['127.0.0.1:5353', '[::1]:5353', '192.0.2.1'] } })
  assert.deepEqual(cfg.dns, {
    servers: ['127.0.0.1:5353', '[::1]:5353', '192.0.2.1'],
    timeout_ms: 3000,
    tries: 2,
    cache_size: 1000,
    cache_ttl_secs: 300,
    negative_ttl_secs: 60,
  })
  assert.equal(filterConfigSchema.parse({}).dns.timeout_ms, 3000)
  for (const bad of ['bad server', 'localhost:53', '[::1]', '127.0.0.1:70000', '::1:53x'])
    assert.throws(() => filterConfigSchema.parse({ dns: { servers: [bad] } }), /expected an address/, bad)
  assert.deepEqual(filterConfigSchema.parse({ dns: { servers: ['::1'] } }).dns.servers, ['::1'])
})
