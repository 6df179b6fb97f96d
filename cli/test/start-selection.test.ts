import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import { UsageError } from '../src/args.ts'
import { loadConfig } from '../src/config/load.ts'
import { selectComponents } from '../src/commands/start.ts'

async function configWith(t: TestContext, yaml: string) {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-sel-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'vigil.yaml'), yaml)
  return loadConfig(['--config', join(dir, 'vigil.yaml')], {})
}

const all = () => true

describe('selectComponents', () => {
  it('starts the collector, the filter and the dashboard, not the SNMP agent, by default', async (t) => {
    const sel = selectComponents(await configWith(t, ''), undefined, all)
    assert.deepEqual(sel.run, ['collector', 'filter', 'dashboard'])
    assert.deepEqual(sel.skipped, ['snmp-agent: disabled (snmp_agent.enabled is not true)'])
  })

  it('starts the SNMP agent when snmp_agent.enabled is true', async (t) => {
    const sel = selectComponents(await configWith(t, 'snmp_agent:\n  enabled: true\n'), undefined, all)
    assert.deepEqual(sel.run, ['collector', 'filter', 'snmp-agent', 'dashboard'])
  })

  it('does not start a component whose section says enabled: false', async (t) => {
    const sel = selectComponents(await configWith(t, 'dashboard:\n  enabled: false\n'), undefined, all)
    assert.deepEqual(sel.run, ['collector', 'filter'])
    assert.ok(sel.skipped.includes('dashboard: disabled (dashboard.enabled is not true)'))
  })

  it('skips a component whose package is missing, saying why', async (t) => {
    const sel = selectComponents(await configWith(t, ''), undefined, (c) => c.name !== 'filter')
    assert.deepEqual(sel.run, ['collector', 'dashboard'])
    assert.ok(sel.skipped.includes('filter: not available in this build (filter-core/src/app.ts is missing)'))
  })

  it('starts only the components named by --only', async (t) => {
    const loaded = await configWith(t, '')
    assert.deepEqual(selectComponents(loaded, 'filter', all).run, ['filter'])
    assert.deepEqual(selectComponents(loaded, 'snmp-agent, collector', all).run, ['collector', 'snmp-agent'])
    assert.throws(() => selectComponents(loaded, 'filter,bogus', all), UsageError)
  })
})
