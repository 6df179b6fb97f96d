// `vigil release` and `vigil demo` are implemented by filter-core; the CLI only loads the
// configuration and hands over. The delegate contract (the first candidate file that exists):
//   export async function <name>(req: DelegateRequest): Promise<number | void>   // exit code, default 0
import { createLogger, type CommonConfig, type LogLevel, type Logger } from '@vigil/protocol'
import { importPackageFile } from '../components.ts'
import { commonPart, type LoadedConfig } from '../config/load.ts'
import { EXIT } from '../exit-codes.ts'
import type { CliIo } from '../io.ts'

export interface DelegateRequest {
  readonly common: CommonConfig
  readonly filter: Readonly<Record<string, unknown>>
  /** Positional arguments: `release` gets [MAIL_ID, RECIPIENT...]. */
  readonly args: readonly string[]
  /** Command options, e.g. `{ count: '10' }` for `demo --count 10`. */
  readonly options: Readonly<Record<string, string | true>>
  readonly log: Logger
  readonly stdout: (text: string) => void
  readonly stderr: (text: string) => void
}

const DELEGATES: Record<'release' | 'demo', ReadonlyArray<readonly [file: string, exportName: string]>> = {
  release: [
    ['tools/release.ts', 'release'],
    ['quarantine/release.ts', 'release'],
  ],
  demo: [
    ['tools/demo.ts', 'demo'],
    ['tools/demo.ts', 'runDemo'],
  ],
}

export async function runDelegated(
  command: 'release' | 'demo',
  loaded: LoadedConfig,
  args: readonly string[],
  options: Readonly<Record<string, string | true>>,
  io: CliIo,
): Promise<number> {
  let fn: ((req: DelegateRequest) => Promise<number | void>) | undefined
  for (const [file, name] of DELEGATES[command]) {
    let mod: Record<string, unknown> | undefined
    try {
      mod = await importPackageFile('filter-core', file)
    } catch (err) {
      io.stderr(`vigil: ${command}: filter-core/src/${file} failed to load: ${(err as Error).message.split('\n')[0]}\n`)
      return EXIT.SOFTWARE
    }
    if (typeof mod?.[name] === 'function') {
      fn = mod[name] as typeof fn
      break
    }
  }
  if (!fn) {
    const where = DELEGATES[command].map(([f, n]) => `filter-core/src/${f} ${n}()`).join(' or ')
    io.stderr(`vigil: ${command} is not available in this build (needs ${where})\n`)
    return EXIT.UNAVAILABLE
  }
  const { config } = loaded
  const log = createLogger({
    name: command,
    level: config.log_level as LogLevel,
    write: (line) => io.stderr(line + '\n'),
  })
  const code = await fn({
    common: commonPart(config),
    filter: config.filter,
    args,
    options,
    log,
    stdout: io.stdout,
    stderr: io.stderr,
  })
  return typeof code === 'number' ? code : EXIT.OK
}
