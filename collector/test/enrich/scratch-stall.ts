import { createEnricher } from '../../src/enrich/enricher.ts'
import { rmSync } from 'node:fs'
rmSync('/tmp/geo-explore/cache2', { recursive: true, force: true })
for (const cacheDir of ['/tmp/geo-explore/cache2', '/tmp/geo-explore/cache2', undefined]) {
  const gaps: number[] = []
  let last = performance.now()
  const timer = setInterval(() => { const now = performance.now(); gaps.push(now - last); last = now }, 5)
  const t0 = performance.now()
  await createEnricher({ enabled: true, country_mmdb: '', asn_dir: '' }, undefined, { cacheDir })
  clearInterval(timer)
  console.log(cacheDir, 'total', (performance.now() - t0).toFixed(0), 'top gaps', gaps.sort((a, b) => b - a).slice(0, 5).map((g) => g.toFixed(0)).join(' '), 'last gap (until end)', (performance.now() - last).toFixed(0))
}
