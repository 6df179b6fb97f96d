import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { COUNTERS } from '@vigil/protocol'
import { generateMibText } from '../src/mib-text.ts'

describe('AMAVIS-MIB text', () => {
  it('is what the generator produces from the counter catalogue (regenerate with snmp-agent/scripts/gen-mib.ts)', () => {
    const committed = readFileSync(new URL('../mib/AMAVIS-MIB.txt', import.meta.url), 'utf8')
    assert.equal(committed, generateMibText(), 'snmp-agent/mib/AMAVIS-MIB.txt drifted from COUNTERS')
  })

  it('declares every catalogue object once, read-only, under its parent node', () => {
    const text = generateMibText()
    for (const c of COUNTERS) {
      const re = new RegExp(`^${c.mibName} OBJECT-TYPE\\n    SYNTAX      ${c.syntax}\\n`, 'm')
      assert.match(text, re, c.mibName)
    }
    assert.equal(text.match(/MAX-ACCESS {2}read-only/g)?.length, COUNTERS.length)
    // ASN.1 ends a comment at the next "--": a "--" inside a comment line corrupts the module.
    for (const line of text.split('\n')) if (line.startsWith('--')) assert.ok(!line.slice(2).includes('--'), line)
  })
})
