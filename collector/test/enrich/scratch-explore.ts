import { loadRangeTable } from '../../src/enrich/range-table.ts'
for (const f of ['asn-ipv4-num.csv', 'asn-ipv6.csv', 'asn-ipv4-num.csv']) {
  const t0 = performance.now()
  await loadRangeTable(['node_modules/@ip-location-db/asn/' + f], { columns: 2 })
  console.log(f, (performance.now() - t0).toFixed(0))
}
