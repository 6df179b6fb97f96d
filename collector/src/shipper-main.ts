// Standalone shipper: `node --import tsx collector/src/shipper-main.ts [--config vigil.yaml] [--home DIR]`
// (`vigil shipper` does the same through the cli). The only shipper module with side effects:
// argv → config → createShipperComponent → start, signals. SIGTERM/SIGINT: graceful drain (the
// current batch is finished and acknowledged), exit 0. Reads the same vigil.yaml as collector/src/main.ts.
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { parse as parseYaml } from 'yaml'
import { EX_CONFIG, VigilError, commonConfigSchema, createLogger } from '@vigil/protocol'
import { collectorConfigSchema } from './config.ts'
import { createShipperComponent } from './shipper-app.ts'

const { values } = parseArgs({ options: { config: { type: 'string' }, home: { type: 'string' } } })
let doc: Record<string, unknown> = {}
try {
  if (values.config) doc = (parseYaml(readFileSync(values.config, 'utf8')) ?? {}) as Record<string, unknown>
} catch (err) {
  process.stderr.write(`vigil shipper: cannot read ${values.config}: ${(err as Error).message}\n`)
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
  process.stderr.write(`vigil shipper: invalid configuration:\n  ${issues.join('\n  ')}\n`)
  process.exit(EX_CONFIG)
}
common.data.home = resolve(common.data.home)
const log = createLogger({
  name: 'shipper',
  level: common.data.log_level,
  write: (l) => (common.data.log_to === 'stderr' ? process.stderr : process.stdout).write(l + '\n'),
})
let component: ReturnType<typeof createShipperComponent>
try {
  component = createShipperComponent(common.data, cfg.data, { log })
} catch (err) {
  process.stderr.write(`vigil shipper: ${(err as Error).message}\n`)
  process.exit(err instanceof VigilError ? EX_CONFIG : 1)
}
let stopping = false
const shutdown = (sig: string) => {
  if (stopping) return
  stopping = true
  log.info('Stopping: finishing the batch in flight.', { signal: sig })
  component.stop().then(
    () => process.exit(0),
    (err) => {
      log.error('Stop failed.', { err })
      process.exit(1)
    },
  )
}
process.on('SIGTERM', () => shutdown('SIGTERM'))
process.on('SIGINT', () => shutdown('SIGINT'))
process.on('SIGHUP', () => log.info('SIGHUP ignored: restart the shipper to apply changes.'))
try {
  await component.start()
} catch (err) {
  log.fatal('Cannot start the shipper.', { err })
  process.exit(1)
}
