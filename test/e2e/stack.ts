// The stack the e2e tests share: a real collector and (optionally) a real filter forwarding to a
// Postfix smtp-sink, both in this process, on a temp home and free loopback ports. Everything is
// stopped when the test ends.
import type { TestContext } from 'node:test'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  commonConfigSchema,
  createLogger,
  eventsSocket,
  innerSocket,
  type CommonConfig,
  type LogLevel,
  type Logger,
} from '@vigil/protocol'
import type { Collector, CollectorInternals } from '@vigil/collector/app.ts'
import type { Filter } from '@vigil/filter-core/app.ts'
import { freePorts, startSmtpSink, tmpDir, type SmtpSink, type SmtpSinkOptions } from '../harness/index.ts'

export const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** Skips `t` (and returns false) unless every file (relative to the repo root) exists. */
export function needs(t: TestContext, ...files: string[]): boolean {
  const missing = files.filter((f) => !existsSync(join(ROOT, f)))
  if (missing.length === 0) return true
  t.skip(`needs ${missing.join(' and ')}`)
  return false
}

export interface StackOptions {
  /** Prefix of the temp home. */
  name: string
  myhostname: string
  /** Extra common config keys (e.g. snmp_location). */
  common?: Record<string, unknown>
  /** The collector section, default `{ http_listen: '', nanny_interval_secs: 1 }`. */
  collector?: Record<string, unknown>
  /** The filter's max_servers; without it no filter (and no smtp-sink) is started. */
  maxServers?: number
  sink?: SmtpSinkOptions
  /** Level of the shared logger, default 'warn'. */
  logLevel?: LogLevel
}

export interface Stack {
  home: string
  common: CommonConfig
  /** tcp://127.0.0.1:<port> of the outer PUB. */
  outer: string
  collector: Collector & { internals: CollectorInternals }
  /** host:port of the collector's HTTP side, when it has one. */
  http: string | undefined
  /** With maxServers only. */
  filter: Filter | undefined
  filterPort: number
  sink: SmtpSink | undefined
  log: Logger
  /** Everything logged so far (collector and filter). */
  readonly logs: string
}

/** Starts the collector, then (with `maxServers`) smtp-sink and the filter forwarding to it. */
export async function startStack(t: TestContext, o: StackOptions): Promise<Stack> {
  const withFilter = o.maxServers !== undefined
  const { createCollector } = await import('@vigil/collector/app.ts')
  const { collectorConfigSchema } = await import('@vigil/collector/config.ts')
  const filterApp = withFilter ? await import('@vigil/filter-core/app.ts') : undefined
  const filterConfig = withFilter ? await import('@vigil/filter-core/config.ts') : undefined

  const home = await tmpDir(t, o.name)
  const sink = withFilter ? await startSmtpSink(t, o.sink) : undefined
  const ports = await freePorts(withFilter ? 3 : 2)
  const [filterPort, outerPort, snmpPort] = withFilter ? ports : [0, ...ports]
  const outer = `tcp://127.0.0.1:${outerPort}`
  const common = commonConfigSchema.parse({
    home,
    myhostname: o.myhostname,
    ...o.common,
    log_level: 'warn',
    zmq: { inner: [innerSocket(home)], outer, snmp: `tcp://127.0.0.1:${snmpPort}`, events: eventsSocket(home) },
  })
  let logs = ''
  const log = createLogger({ name: 'e2e', level: o.logLevel ?? 'warn', write: (l) => (logs += l + '\n') })
  const collector = createCollector(
    common,
    collectorConfigSchema.parse(o.collector ?? { http_listen: '', nanny_interval_secs: 1 }),
    { log },
  )
  await collector.start()
  t.after(() => collector.stop())

  let filter: Filter | undefined
  if (filterApp && filterConfig) {
    filter = filterApp.createFilter(
      common,
      filterConfig.filterConfigSchema.parse({
        listen: [`127.0.0.1:${filterPort}`],
        forward_method: `smtp:[127.0.0.1]:${sink!.port}`,
        max_servers: o.maxServers,
        zmq_slow_joiner_ms: 200,
      }),
      { log },
    )
    await filter.start()
    const started = filter
    t.after(() => started.stop())
  }

  return {
    home,
    common,
    outer,
    collector,
    http: collector.internals.httpAddress,
    filter,
    filterPort,
    sink,
    log,
    get logs() {
      return logs
    },
  }
}
