// Standalone shipper: `node --import tsx collector/src/shipper-main.ts [--config vigil.yaml] [--home DIR]`
// (`vigil shipper` does the same through the cli). The only shipper module with side effects:
// argv → config → createShipperComponent → start, signals. SIGTERM/SIGINT: graceful drain (the
// current batch is finished and acknowledged), exit 0. Reads the same vigil.yaml as collector/src/main.ts.
import { EX_CONFIG, VigilError, createLogger, installCrashGuard } from '@vigil/protocol'
import { loadStandaloneConfig } from './standalone-config.ts'
import { createShipperComponent } from './shipper-app.ts'

const { common, cfg } = loadStandaloneConfig('shipper')
const log = createLogger({
  name: 'shipper',
  level: common.log_level,
  write: (l) => (common.log_to === 'stderr' ? process.stderr : process.stdout).write(l + '\n'),
})
let component: ReturnType<typeof createShipperComponent>
try {
  component = createShipperComponent(common, cfg, { log })
} catch (err) {
  process.stderr.write(`vigil shipper: ${(err as Error).message}\n`)
  process.exit(err instanceof VigilError ? EX_CONFIG : 1)
}
installCrashGuard({ log, stop: () => component.stop() })
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
