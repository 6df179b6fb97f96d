import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { z } from 'zod'
import { buildRootSchema } from '../../src/config/schema.ts'

describe('buildRootSchema', () => {
  it('validates each section with the schema its package exports', async () => {
    const { schema, warnings } = await buildRootSchema(async (dir) =>
      dir === 'filter-core'
        ? { filterConfigSchema: z.strictObject({ max_servers: z.number().int().min(1).default(2) }) }
        : undefined,
    )
    assert.deepEqual(warnings, [])
    const ok = schema.safeParse({})
    assert.ok(ok.success)
    assert.deepEqual(ok.data.filter, { max_servers: 2 })
    assert.deepEqual(ok.data.collector, {})
    const bad = schema.safeParse({ filter: { max_servers: 0 } })
    assert.deepEqual(
      bad.error?.issues.map((i) => i.path),
      [['filter', 'max_servers']],
    )
  })

  it('rejects any key in the section of a package that has no config.ts yet', async () => {
    const { schema } = await buildRootSchema(async () => undefined)
    const bad = schema.safeParse({ snmp_agent: { enabled: true } })
    assert.equal(bad.error?.issues[0].code, 'unrecognized_keys')
  })

  it('leaves the section of a broken package unchecked and says so, without failing the others', async () => {
    const { schema, warnings } = await buildRootSchema(async (dir) => {
      if (dir === 'collector') throw new SyntaxError('Unexpected token (3:7)\n  more detail')
      if (dir === 'snmp-agent') return { somethingElse: 1 }
      return undefined
    })
    assert.deepEqual(warnings, [
      'collector: not checked, collector/src/config.ts failed to load: Unexpected token (3:7)',
      "snmp_agent: not checked, snmp-agent/src/config.ts does not export a zod schema 'snmpAgentConfigSchema'",
    ])
    assert.ok(schema.safeParse({ collector: { anything: 1 }, snmp_agent: { x: 2 } }).success)
    assert.ok(!schema.safeParse({ filter: { x: 1 } }).success)
  })
})
