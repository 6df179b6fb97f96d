// Standalone entry: `node --import tsx collector/src/main.ts [--config vigil.yaml] [--home DIR]`.
// The only module with side effects: argv → config → createCollector → start, signals.
// (`vigil collector` in the cli package does the same with the composed schema.)
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { parse as parseYaml } from 'yaml'
import { EX_CONFIG, commonConfigSchema, createLogger } from '@vigil/protocol'
import { collectorConfigSchema } from './config.ts'
import { createCollector } from './app.ts'

const { values } = parseArgs({ options: { config: { type: 'string' }, home: { type: 'string' } } })
let doc: Record<string, unknown> = {}
try {
  if (values.config) doc = (parseYaml(readFileSync(values.config, 'utf8')) ?? {}) as Record<string, unknown>
} catch (err) {
  process.stderr.write(`vigil collector: cannot read ${values.config}: ${(err as Error).message}\n`)
  process.exit(EX_CONFIG)
}
const { collector: section, filter: _f, snmp_agent: _s, status: _st, ...rest } = doc
if (values.home) rest.home = values.home
const common = commonConfigSchema.safeParse(rest)
const cfg = collectorConfigSchema.safeParse(section ?? {})
if (!common.success || !cfg.success) {
  const issues = [
    ...(common.success ? [] : common.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)),
    ...(cfg.success ? [] : cfg.error.issues.map((i) => `collector.${i.path.join('.')}: ${i.message}`)),
  ]
  process.stderr.write(`vigil collector: invalid configuration:\n  ${issues.join('\n  ')}\n`)
  process.exit(EX_CONFIG)
}
common.data.home = resolve(common.data.home)
const log = createLogger({
  name: 'collector',
  level: common.data.log_level,
  write: (l) => (common.data.log_to === 'stderr' ? process.stderr : process.stdout).write(l + '\n'),
})
const collector = createCollector(common.data, cfg.data, { log })
let stopping = false
const shutdown = (sig: string) => {
  if (stopping) return
  stopping = true
  log.info('Stopping.', { signal: sig })
  collector.stop().then(
    () => process.exit(0),
    (err) => {
      log.error('Stop failed.', { err })
      process.exit(1)
    },
  )
}
process.on('SIGTERM', () => shutdown('SIGTERM'))
process.on('SIGINT', () => shutdown('SIGINT'))
process.on('SIGHUP', () =>
  log.info('SIGHUP ignored: the collector has no reloadable settings; restart it to apply changes.'),
)
try {
  await collector.start()
  for (const line of collector.describe()) log.info(line)
} catch (err) {
  log.fatal('Cannot start the collector.', { err })
  process.exit(1)
}
