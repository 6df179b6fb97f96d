// Writes snmp-agent/templates/zabbix_amavis_snmp.yaml from the counter catalogue.
// Usage: node --import tsx snmp-agent/scripts/gen-zabbix.ts
import { writeFileSync } from 'node:fs'
import { generateZabbixYaml } from '../src/zabbix-template.ts'

const target = new URL('../templates/zabbix_amavis_snmp.yaml', import.meta.url)
writeFileSync(target, generateZabbixYaml())
process.stdout.write(`wrote ${target.pathname}\n`)
