// A real collector in its own process, for bench/log-pipeline.ts part 3: bus, minder, responder,
// events receiver and the pipeline worker, which (storage_redis_dsn set) runs the shipper into the
// embedded store, everything else at its shipped defaults; no HTTP. Forked with
//   --home DIR --outer tcp://127.0.0.1:P --snmp tcp://127.0.0.1:P --redis HOST:PORT
// it sends 'ready' once started and stops (then exits) on any message from the parent.
import { parseArgs } from 'node:util'
import { commonConfigSchema, createLogger } from '@vigil/protocol'
import { createCollector } from '../collector/src/app.ts'
import { collectorConfigSchema } from '../collector/src/config.ts'

const { values } = parseArgs({
  options: {
    home: { type: 'string' },
    outer: { type: 'string' },
    snmp: { type: 'string' },
    redis: { type: 'string' },
  },
})
const home = values.home!
const common = commonConfigSchema.parse({
  home,
  myhostname: 'bench.test',
  log_level: 'warn',
  zmq: {
    inner: [`ipc://${home}/amavisd-zmq.sock`],
    outer: values.outer!,
    snmp: values.snmp!,
    events: `ipc://${home}/vigil-events.sock`,
  },
  storage_redis_dsn: [{ server: values.redis! }],
})
const collector = createCollector(common, collectorConfigSchema.parse({ http_listen: '' }), {
  log: createLogger({ name: 'bench-collector', level: 'warn', write: (l) => process.stderr.write(l + '\n') }),
})
await collector.start()
process.once('message', () => {
  void collector.stop().finally(() => process.exit(0))
})
process.send!('ready')
