// Writes snmp-agent/mib/AMAVIS-MIB.txt from the counter catalogue.
// Usage: node --import tsx snmp-agent/scripts/gen-mib.ts
import { writeFileSync } from 'node:fs'
import { generateMibText } from '../src/mib-text.ts'

const target = new URL('../mib/AMAVIS-MIB.txt', import.meta.url)
writeFileSync(target, generateMibText())
process.stdout.write(`wrote ${target.pathname}\n`)
