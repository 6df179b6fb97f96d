// Dispatch of `vigil <command>`. Commands get their process (output, env, signals) through CliIo,
// so everything except main.ts runs in tests without spawning.
import { parseArgs, UsageError, type GlobalOptions } from './args.ts'
import { componentByName } from './components.ts'
import { ConfigError, loadConfig, type LoadedConfig } from './config/load.ts'
import { formatEffectiveConfig } from './config/print.ts'
import { EXIT } from './exit-codes.ts'
import type { CliIo } from './io.ts'
import { formatUsage, formatVersion } from './usage.ts'
import { runComponent } from './commands/component.ts'
import { runStart, selectComponents } from './commands/start.ts'
import { runControl } from './commands/control.ts'
import { runDemo, runRelease, runTestMessage } from './commands/delegated.ts'
import { runPipeline } from './commands/pipeline.ts'
import { runUser } from './commands/user.ts'
import { runDkim } from './commands/dkim.ts'

/** `vigil shipper`: the collector package's standalone shipper (collector/src/shipper-app.ts). */
const SHIPPER = {
  name: 'shipper',
  dir: 'collector',
  section: 'collector',
  factory: 'createShipperComponent',
  schema: 'collectorConfigSchema',
  file: 'shipper-app.ts',
} as const

async function load(global: GlobalOptions, io: CliIo): Promise<LoadedConfig | number> {
  try {
    const loaded = await loadConfig(global, io.env, { cwd: io.cwd })
    for (const w of loaded.warnings) io.stderr(`vigil: warning: ${w}\n`)
    return loaded
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr(`vigil: ${err.message}\n`)
      return EXIT.CONFIG
    }
    throw err
  }
}

/** Runs one `vigil` invocation; resolves with the process exit code. Never rejects. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    return await dispatch(argv, io)
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`vigil: ${err.message}\n${formatUsage(err.command)}`)
      return EXIT.USAGE
    }
    const e = err as Error
    io.stderr(`vigil: internal error: ${e?.message ?? String(err)}\n`)
    if (io.env.VIGIL_DEBUG) io.stderr(`${e?.stack}\n`)
    return EXIT.SOFTWARE
  }
}

async function dispatch(argv: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseArgs(argv)
  if (parsed.kind === 'help') {
    io.stdout(formatUsage(parsed.topic))
    return EXIT.OK
  }
  if (parsed.kind === 'version') {
    io.stdout(formatVersion())
    return EXIT.OK
  }
  const loaded = await load(parsed.global, io)
  if (typeof loaded === 'number') return loaded
  switch (parsed.command) {
    case 'print-config':
      io.stdout(formatEffectiveConfig(loaded, { showSecrets: parsed.options['show-secrets'] === true }))
      return EXIT.OK
    case 'check-config': {
      const { run, skipped } = selectComponents(loaded, undefined)
      io.stdout(`vigil: configuration OK (${loaded.source.file ?? 'built-in defaults'})\n`)
      io.stdout(`vigil start would run: ${run.join(', ') || 'nothing'}\n`)
      for (const s of skipped) io.stdout(`  not started: ${s}\n`)
      return EXIT.OK
    }
    case 'start':
      return runStart(
        loaded,
        {
          only: parsed.options.only as string | undefined,
          global: parsed.global,
          reload: () => loadConfig(parsed.global, io.env, { cwd: io.cwd }),
        },
        io,
      )
    case 'stop':
    case 'reload':
      return runControl(parsed.command, loaded, io)
    case 'test-component':
      return runComponent('test-component', loaded, io)
    case 'filter':
      if (typeof parsed.options['test-message'] === 'string')
        return runTestMessage(loaded, parsed.options['test-message'], io)
      return runComponent(componentByName('filter')!, loaded, io)
    case 'collector':
    case 'snmp-agent':
    case 'dashboard': {
      const info = componentByName(parsed.command)
      if (!info) throw new Error(`component ${parsed.command} missing from the registry`)
      return runComponent(info, loaded, io)
    }
    case 'release':
      return runRelease(loaded, parsed.args, io)
    case 'pipeline':
      return runPipeline(loaded, parsed.options, io)
    case 'user':
      return runUser(loaded, parsed.args, parsed.options, io)
    case 'dkim':
      return runDkim(loaded, parsed.args, parsed.options, io)
    case 'shipper':
      return runComponent(SHIPPER, loaded, io)
    case 'demo':
      return runDemo(loaded, parsed.args, parsed.options, io)
    case 'help':
      io.stdout(formatUsage())
      return EXIT.OK
  }
}
