// Standalone entry: `node --import tsx collector/src/main.ts [--config vigil.yaml] [--home DIR]`.
// The only module with side effects: argv → config → createCollector → start, signals.
// (`vigil collector` in the cli package does the same with the composed schema.)
import { createLogger, installCrashGuard } from '@vigil/protocol'
import { loadStandaloneConfig } from './standalone-config.ts'
import { createCollector } from './app.ts'

const { common, cfg } = loadStandaloneConfig('collector')
const log = createLogger({
  name: 'collector',
  level: common.log_level,
  write: (l) => (common.log_to === 'stderr' ? process.stderr : process.stdout).write(l + '\n'),
})
const collector = createCollector(common, cfg, { log })
installCrashGuard({ log, stop: () => collector.stop() })
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
