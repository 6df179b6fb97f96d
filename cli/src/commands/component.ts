// `vigil filter|collector|snmp-agent|dashboard`: runs one component in the foreground, the way the
// supervisor's children run. Prints `listening: …` lines after start, stops cleanly on
// SIGTERM/SIGINT or when the supervisor that started it goes away (IPC disconnect).
import { mkdirSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import { createLogger, installCrashGuard, type LogLevel, type Logger } from '@vigil/protocol'
import { importPackageFile, type Component, type ComponentInfo } from '../components.ts'
import { commonPart, type LoadedConfig } from '../config/load.ts'
import { EXIT } from '../exit-codes.ts'
import type { CliIo } from '../io.ts'
import { createTestComponent, testComponentOptions } from '../test-component.ts'

/** How long stop() may take before the process gives up on a clean stop. */
const STOP_TIMEOUT_MS = 10_000

/** The component's logger: its name, the configured level, stdout or stderr per `log_to`. */
export function componentLogger(name: string, loaded: LoadedConfig, io: CliIo): Logger {
  const { log_level, log_to } = loaded.config
  const sink = log_to === 'stderr' ? io.stderr : io.stdout
  return createLogger({ name, level: log_level as LogLevel, write: (line) => sink(line + '\n') })
}

/**
 * mkdir -p without `{ recursive: true }`, which never returns for some paths on Node 20 (seen with
 * a directory below /proc, where mkdir reports ENOENT for an existing parent).
 */
function mkdirp(dir: string): void {
  try {
    mkdirSync(dir)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EEXIST' && statSync(dir).isDirectory()) return
    const parent = dirname(dir)
    if (code !== 'ENOENT' || parent === dir) throw err
    mkdirp(parent)
    mkdirSync(dir)
  }
}

/** Creates the home directory; returns an error line when it cannot. */
export function ensureHome(home: string): string | undefined {
  try {
    mkdirp(home)
    return undefined
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    return `vigil: cannot create home directory ${home}: ${e.code ?? e.message} (set --home, VIGIL_HOME or \`home\`)\n`
  }
}

async function buildComponent(
  info: ComponentInfo | 'test-component',
  loaded: LoadedConfig,
  io: CliIo,
  log: Logger,
): Promise<Component | number> {
  if (info === 'test-component') return createTestComponent(testComponentOptions(io.env), { log })
  let mod: Record<string, unknown> | undefined
  try {
    mod = await importPackageFile(info.dir, info.file ?? 'app.ts', info.pkg)
  } catch (err) {
    io.stderr(`vigil: component '${info.name}' failed to load: ${(err as Error).message.split('\n')[0]}\n`)
    return EXIT.SOFTWARE
  }
  const factory = mod?.[info.factory ?? '']
  if (typeof factory !== 'function') {
    io.stderr(
      mod === undefined
        ? `vigil: component '${info.name}' is not available in this build (${info.dir}/src/${info.file ?? 'app.ts'} is missing)\n`
        : `vigil: component '${info.name}' is not available: ${info.dir}/src/${info.file ?? 'app.ts'} does not export ${info.factory}()\n`,
    )
    return EXIT.UNAVAILABLE
  }
  const section = (loaded.config as unknown as Record<string, unknown>)[info.section]
  return (factory as (...a: unknown[]) => Component)(commonPart(loaded.config), section, { log })
}

/**
 * Runs one component until a stop request; resolves with the exit code. Stop requests (SIGTERM,
 * SIGINT, loss of the supervisor's IPC channel) are watched from the very beginning, so one that
 * arrives while the component is still starting stops it as soon as start() is done.
 */
export async function runComponent(
  info: ComponentInfo | 'test-component',
  loaded: LoadedConfig,
  io: CliIo,
): Promise<number> {
  const name = info === 'test-component' ? info : info.name
  let requested: string | undefined
  let onRequest: ((why: string) => void) | undefined
  const request = (why: string) => {
    requested ??= why
    onRequest?.(why)
  }
  const onTerm = () => request('SIGTERM')
  const onInt = () => request('SIGINT')
  const onDisconnect = () => request('supervisor went away')
  // A component has no reload of its own: `vigil start` reloads by restarting it. Ignoring SIGHUP
  // keeps a stray hangup from killing it.
  const onHup = () => {}
  io.proc.on('SIGTERM', onTerm)
  io.proc.on('SIGINT', onInt)
  io.proc.on('SIGHUP', onHup)
  const supervised = typeof io.proc.send === 'function'
  if (supervised) {
    if (io.proc.connected) io.proc.once('disconnect', onDisconnect)
    else request('supervisor went away')
  }
  const unwatch = () => {
    io.proc.removeListener('SIGTERM', onTerm)
    io.proc.removeListener('SIGINT', onInt)
    io.proc.removeListener('SIGHUP', onHup)
    io.proc.removeListener('disconnect', onDisconnect)
  }
  try {
    return await runUntilStopped(name, info, loaded, io, (handler) => {
      onRequest = handler
      if (requested !== undefined) handler(requested)
    })
  } finally {
    unwatch()
  }
}

async function runUntilStopped(
  name: string,
  info: ComponentInfo | 'test-component',
  loaded: LoadedConfig,
  io: CliIo,
  onStopRequest: (handler: (why: string) => void) => void,
): Promise<number> {
  const homeProblem = ensureHome(loaded.config.home)
  if (homeProblem) {
    io.stderr(homeProblem)
    return EXIT.CANT_CREATE
  }
  const log = componentLogger(name, loaded, io)
  let component: Component | number
  try {
    component = await buildComponent(info, loaded, io, log)
  } catch (err) {
    log.fatal('Component could not be created.', { err })
    return EXIT.FAILURE
  }
  if (typeof component === 'number') return component
  const comp = component
  // From here on a bug of the component is logged and counted, never a silent death (exit 70 and
  // a restart by the supervisor after an uncaught exception).
  if (io.guard) installCrashGuard({ log, stop: () => comp.stop(), proc: io.guard })
  try {
    await comp.start()
  } catch (err) {
    log.fatal('Component failed to start.', { err })
    await comp.stop().catch(() => {})
    return EXIT.FAILURE
  }
  for (const line of comp.describe()) io.stdout(`listening: ${line}\n`)
  log.info('Component started.')

  return new Promise<number>((resolve) => {
    let stopping = false
    onStopRequest((why) => {
      if (stopping) return
      stopping = true
      log.info(`Stopping (${why}).`)
      const timer = setTimeout(() => {
        log.error('Stop timed out; exiting anyway.', { timeout_ms: STOP_TIMEOUT_MS })
        resolve(EXIT.FAILURE)
      }, STOP_TIMEOUT_MS)
      comp.stop().then(
        () => {
          clearTimeout(timer)
          log.info('Component stopped.')
          resolve(EXIT.OK)
        },
        (err: unknown) => {
          clearTimeout(timer)
          log.error('Component failed to stop cleanly.', { err })
          resolve(EXIT.FAILURE)
        },
      )
    })
  })
}
