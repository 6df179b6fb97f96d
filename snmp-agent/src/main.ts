// Standalone entry: `node --import tsx snmp-agent/src/main.ts [--config vigil.yaml]`. The usual way
// to run the agent is `vigil snmp-agent` / `vigil start` (the cli package composes the config);
// this file is the only one of the package with side effects.
import { readFileSync } from 'node:fs'
import { parse } from 'yaml'
import { commonConfigSchema, createLogger, EX_CONFIG, installCrashGuard } from '@vigil/protocol'
import { createSnmpAgent } from './app.ts'
import { snmpAgentConfigSchema } from './config.ts'

const argv = process.argv.slice(2)
const i = argv.indexOf('--config')
const file = i >= 0 ? argv[i + 1] : undefined
let raw: Record<string, unknown> = {}
try {
  raw = file ? ((parse(readFileSync(file, 'utf8')) as Record<string, unknown> | null) ?? {}) : {}
} catch (err) {
  process.stderr.write(`snmp-agent: cannot read ${file}: ${(err as Error).message}\n`)
  process.exit(EX_CONFIG)
}
const { snmp_agent: section = {}, filter: _f, collector: _c, status: _s, ...top } = raw
const common = commonConfigSchema.safeParse(top)
const cfg = snmpAgentConfigSchema.safeParse(section)
type Issue = { path: PropertyKey[]; message: string; code: string; keys?: string[] }
const show = (prefix: string[], x: Issue): string[] =>
  x.code === 'unrecognized_keys' && x.keys
    ? x.keys.map((k) => `${[...prefix, ...x.path.map(String), k].join('.')}: unknown key`)
    : [`${[...prefix, ...x.path.map(String)].join('.')}: ${x.message}`]
const problems = [
  ...(common.success ? [] : common.error.issues.flatMap((x) => show([], x as Issue))),
  ...(cfg.success ? [] : cfg.error.issues.flatMap((x) => show(['snmp_agent'], x as Issue))),
]
if (!common.success || !cfg.success) {
  process.stderr.write(
    `snmp-agent: invalid configuration${file ? ` ${file}` : ''}:\n${problems.map((p) => `  ${p}\n`).join('')}`,
  )
  process.exit(EX_CONFIG)
}
const log = createLogger({
  name: 'snmp-agent',
  level: common.data.log_level,
  write: (l) => (common.data.log_to === 'stderr' ? process.stderr : process.stdout).write(l + '\n'),
})
const agent = createSnmpAgent(common.data, cfg.data, { log })
installCrashGuard({ log, stop: () => agent.stop() })
await agent.start()
for (const line of agent.describe()) log.info(`Listening: ${line}.`)
const shutdown = (sig: string) => {
  log.info('Stopping on signal.', { signal: sig })
  agent.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  )
}
process.once('SIGINT', () => shutdown('SIGINT'))
process.once('SIGTERM', () => shutdown('SIGTERM'))
