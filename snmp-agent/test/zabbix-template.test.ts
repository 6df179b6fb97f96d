import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { parse } from 'yaml'
import { COUNTERS } from '@vigil/protocol'
import { generateZabbixYaml, itemKey, TEMPLATE_NAME } from '../src/zabbix-template.ts'

interface Item {
  uuid: string
  key: string
  type: string
  snmp_oid?: string
  value_type: string
  params?: string
  preprocessing?: Array<{ type: string; parameters: string[] }>
  triggers?: Array<{ uuid: string; expression: string }>
}
const committed = readFileSync(new URL('../templates/zabbix_amavis_snmp.yaml', import.meta.url), 'utf8')
// Parsed as YAML 1.1, as Zabbix reads it.
const doc = parse(committed, { version: '1.1' }).zabbix_export
const tpl = doc.templates[0]
const items: Item[] = tpl.items
const byKey = new Map(items.map((i) => [i.key, i]))

describe('Zabbix 6.0 template', () => {
  it('is what the generator produces from the counter catalogue (regenerate with snmp-agent/scripts/gen-zabbix.ts)', () => {
    assert.equal(committed, generateZabbixYaml())
  })

  it('is a 6.0 export whose UUIDs are unique UUIDv4 hex and whose scalars stay strings under YAML 1.1', () => {
    assert.equal(doc.version, '6.0')
    const uuids = [...committed.matchAll(/uuid: '([^']+)'/g)].map((m) => m[1])
    assert.equal(new Set(uuids).size, uuids.length)
    for (const u of uuids) assert.match(u, /^[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}$/)
    for (const t of doc.triggers) assert.equal(typeof t.priority, 'string')
  })

  it('has one SNMP item per MIB object at its OID, counters as CHANGE_PER_SECOND rates', () => {
    for (const c of COUNTERS) {
      const it = byKey.get(itemKey(c))
      assert.ok(it, c.mibName)
      assert.equal(it.type, 'SNMP_AGENT')
      assert.equal(it.snmp_oid, c.oid)
      const rate = it.preprocessing?.some((p) => p.type === 'CHANGE_PER_SECOND') ?? false
      assert.equal(rate, ['Counter32', 'Counter64', 'TimeInterval'].includes(c.syntax), c.mibName)
    }
    assert.equal(items.filter((i) => i.type === 'SNMP_AGENT').length, COUNTERS.length)
  })

  it('computes the busy-process percentage from ProcBusy and ProcAll', () => {
    const busy = byKey.get('amavis.procBusyPercent')!
    assert.equal(busy.type, 'CALCULATED')
    assert.match(busy.params!, /last\(\/\/amavis\.procBusy\).*last\(\/\/amavis\.procAll\)/)
  })

  it('has restart and no-data triggers, and every trigger and graph refers to items of the template', () => {
    const exprs: string[] = doc.triggers.map((t: { expression: string }) => t.expression)
    assert.ok(
      exprs.some((e) => /last\(\/.*?\/amavis\.sysUpTime\)<last\(\/.*?\/amavis\.sysUpTime,#2\)/.test(e)),
      'restart trigger',
    )
    assert.ok(
      exprs.some((e) => e.includes('nodata(')),
      'no-data trigger',
    )
    for (const i of items) for (const t of i.triggers ?? []) exprs.push(t.expression)
    for (const e of exprs)
      for (const m of e.matchAll(/\/([^/]+)\/([\w.]+)/g)) {
        assert.equal(m[1], TEMPLATE_NAME)
        assert.ok(byKey.has(m[2]), `${m[2]} in ${e}`)
      }
    const names = doc.graphs.map((g: { name: string }) => g.name)
    for (const want of [
      'load',
      'timing',
      'mail rate',
      'size',
      'content categories',
      'elapsed time',
      'errors',
      'Postfix queue',
    ])
      assert.ok(
        names.some((n: string) => n.includes(want)),
        want,
      )
    for (const g of doc.graphs)
      for (const gi of g.graph_items) {
        assert.equal(gi.item.host, TEMPLATE_NAME)
        assert.ok(byKey.has(gi.item.key), `${g.name}: ${gi.item.key}`)
      }
  })
})
