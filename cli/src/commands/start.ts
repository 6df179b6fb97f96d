// `vigil start`: the supervisor. Creates home, takes the pid file, starts every available
// component as its own child process (`node [--import tsx] cli/src/main.ts <component> …` with the
// same configuration), passes their output through with a `[name]` prefix, and on SIGTERM/SIGINT
// stops them all and exits 0.
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createLogger, type LogLevel } from '@vigil/protocol'
import { RUNNABLE, hasPackageFile, type ComponentInfo } from '../components.ts'
import { ConfigError, type LoadedConfig } from '../config/load.ts'
import { EXIT } from '../exit-codes.ts'
import type { CliIo } from '../io.ts'
import { UsageError, type GlobalOptions } from '../args.ts'
import { ensureHome } from './component.ts'
import { acquirePidFile, releasePidFile } from '../supervisor/pid-file.ts'
import { createSupervisor, type ChildSpec } from '../supervisor/supervisor.ts'

/** Compiled (dist/, scripts/build.mjs), children run the compiled main with no loader. */
const COMPILED = import.meta.url.endsWith('.js')
const MAIN_PATH = fileURLToPath(new URL(COMPILED ? '../main.js' : '../main.ts', import.meta.url))
/** Absolute loader URL: `--import tsx` would resolve against the child's cwd, not this repo. */
const LOADER_ARGS = COMPILED ? [] : ['--import', import.meta.resolve('tsx')]

/** The supervisor's pid file, below `home`. */
export const PID_FILE_NAME = 'vigil.pid'

/** Which components `vigil start` runs, with the reason for each one it skips. Throws UsageError for a bad --only. */
export function selectComponents(
  loaded: LoadedConfig,
  only: string | undefined,
  exists: (c: ComponentInfo) => boolean = (c) => hasPackageFile(c.dir, 'app.ts'),
): { run: string[]; skipped: string[] } {
  const wanted = only
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  const known = [...RUNNABLE.map((c) => c.name), 'test-component']
  for (const w of wanted ?? [])
    if (!known.includes(w)) throw new UsageError(`--only: unknown component '${w}'`, 'start')
  const run: string[] = []
  const skipped: string[] = []
  for (const c of RUNNABLE) {
    if (wanted && !wanted.includes(c.name)) continue
    if (!exists(c)) {
      skipped.push(`${c.name}: not available in this build (${c.dir}/src/app.ts is missing)`)
      continue
    }
    const enabled = (loaded.config as unknown as Record<string, Record<string, unknown>>)[c.section]?.enabled
    // --only names a component explicitly, which overrides its `enabled` key.
    if (!wanted && (enabled === false || (c.name === 'snmp-agent' && enabled !== true))) {
      skipped.push(`${c.name}: disabled (${c.section}.enabled is not true)`)
      continue
    }
    run.push(c.name)
  }
  if (wanted?.includes('test-component')) run.push('test-component')
  return { run, skipped }
}

/**
 * Children get the supervisor's own sources (the same file, environment and flags), not a copy of
 * the resolved values, so that after a SIGHUP they pick up what changed in the file.
 */
function childSpecs(names: readonly string[], loaded: LoadedConfig, global: GlobalOptions, io: CliIo): ChildSpec[] {
  const flags = [
    ...(loaded.source.file ? ['--config', loaded.source.file] : []),
    ...(global.home !== undefined ? ['--home', resolve(io.cwd, global.home)] : []),
    ...(global.logLevel !== undefined ? ['--log-level', global.logLevel] : []),
  ]
  return names.map((name) => ({
    name,
    label: `vigil ${name}`,
    command: process.execPath,
    args: [...LOADER_ARGS, MAIN_PATH, name, ...flags],
    env: { ...io.env, VIGIL_CONFIG: loaded.source.file ?? '' },
    cwd: io.cwd,
    // Every component prints `listening: …` once started (see commands/component.ts).
    ready: /^listening: /,
  }))
}

export interface StartOptions {
  readonly only?: string
  /** The global options vigil was started with (passed on to the children). */
  readonly global: GlobalOptions
  /** Loads the configuration again from the same sources (SIGHUP). */
  readonly reload: () => Promise<LoadedConfig>
}

/**
 * Runs the supervisor until SIGTERM/SIGINT (exit 0) or until every component has given up (exit 1);
 * 73/75 when home or the pid file cannot be had, 69 when there is nothing to start.
 */
export async function runStart(loaded: LoadedConfig, options: StartOptions, io: CliIo): Promise<number> {
  const { config } = loaded
  const log = createLogger({
    name: 'vigil',
    level: config.log_level as LogLevel,
    write: (line) => (config.log_to === 'stderr' ? io.stderr : io.stdout)(line + '\n'),
  })
  const selection = selectComponents(loaded, options.only)
  const homeProblem = ensureHome(config.home)
  if (homeProblem) {
    io.stderr(homeProblem)
    return EXIT.CANT_CREATE
  }
  const pidFile = join(config.home, PID_FILE_NAME)
  const pid = acquirePidFile(pidFile)
  if (!pid.ok) {
    if (pid.runningPid !== undefined) {
      io.stderr(`vigil: already running with pid ${pid.runningPid} (${pidFile})\n`)
      return EXIT.TEMPFAIL
    }
    io.stderr(`vigil: cannot write the pid file: ${pid.error}\n`)
    return EXIT.CANT_CREATE
  }
  log.info('Supervisor starting.', { home: config.home, config: loaded.source.file ?? 'built-in defaults' })
  for (const s of selection.skipped) log.info(`Component not started: ${s}.`)
  if (selection.run.length === 0) {
    log.error('No component to start.')
    releasePidFile(pidFile)
    return EXIT.UNAVAILABLE
  }

  const supervisor = createSupervisor({
    children: childSpecs(selection.run, loaded, options.global, io),
    log,
    output: (name, stream, line) => (stream === 'stderr' ? io.stderr : io.stdout)(`[${name}] ${line}\n`),
  })
  supervisor.start()

  let signalled = 0
  const outcome = await new Promise<'signal' | 'idle'>((resolve) => {
    const onSignal = (sig: string) => () => {
      signalled++
      if (signalled === 1) {
        log.info(`Received ${sig}; stopping every component.`)
        resolve('signal')
      } else {
        log.warn(`Received ${sig} again; killing every component now.`)
        supervisor.kill()
      }
    }
    io.proc.on('SIGTERM', onSignal('SIGTERM'))
    io.proc.on('SIGINT', onSignal('SIGINT'))
    io.proc.on('SIGHUP', () => {
      if (signalled > 0) return
      log.info('Received SIGHUP; checking the configuration.')
      options.reload().then(
        (fresh) => {
          if (fresh.config.home !== config.home)
            log.warn('The home directory changed; the pid file stays where it is until vigil start is restarted.', {
              pid_file: pidFile,
            })
          const wanted = selectComponents(fresh, options.only).run
          if (wanted.join(',') !== selection.run.join(','))
            log.warn('The set of components changed; restart vigil start to apply it.', {
              running: selection.run.join(','),
              configured: wanted.join(','),
            })
          log.info('Configuration valid; restarting every component.')
          supervisor.restartAll()
        },
        (err: unknown) => {
          const problems = err instanceof ConfigError ? err.problems : [String((err as Error)?.message ?? err)]
          log.error('Configuration invalid; the components keep running with the previous one.', {
            file: loaded.source.file,
          })
          for (const p of problems) log.error(`Configuration problem: ${p}`)
        },
      )
    })
    supervisor.idle.then(() => resolve('idle'))
  })
  await supervisor.stop()
  releasePidFile(pidFile)
  if (outcome === 'idle') {
    log.error('No component left running; supervisor exiting.')
    return EXIT.FAILURE
  }
  log.info('Supervisor stopped.')
  return EXIT.OK
}
