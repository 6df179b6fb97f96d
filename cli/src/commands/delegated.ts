// Commands implemented by filter-core tools; the CLI loads the configuration, hands over and turns
// the outcome into output and an exit code:
//   vigil release MAIL_ID [RECIPIENT...]    filter-core/src/tools/release.ts  releaseMessage()
//   vigil filter --test-message FILE.eml    filter-core/src/tools/test-message.ts  testMessage()
//   vigil demo [--count N]                  filter-core/src/tools/demo.ts  demo(req: DelegateRequest)
import { VigilError, createLogger, type CommonConfig, type LogLevel, type Logger } from '@vigil/protocol'
import { importPackageFile } from '../components.ts'
import { commonPart, type LoadedConfig } from '../config/load.ts'
import { EXIT } from '../exit-codes.ts'
import type { CliIo } from '../io.ts'

type AnyFn = (...args: never[]) => unknown

/** Loads `filter-core/src/<file>` and returns its export `name`, or an exit code after saying why not. */
async function delegate(command: string, file: string, name: string, io: CliIo): Promise<AnyFn | number> {
  let mod: Record<string, unknown> | undefined
  try {
    mod = await importPackageFile('filter-core', file)
  } catch (err) {
    io.stderr(`vigil: ${command}: filter-core/src/${file} failed to load: ${(err as Error).message.split('\n')[0]}\n`)
    return EXIT.SOFTWARE
  }
  const fn = mod?.[name]
  if (typeof fn !== 'function') {
    io.stderr(`vigil: ${command} is not available in this build (needs filter-core/src/${file} ${name}())\n`)
    return EXIT.UNAVAILABLE
  }
  return fn as AnyFn
}

/** A VigilError becomes one line on stderr and exit 1; anything else is rethrown (internal error). */
function reportFailure(command: string, err: unknown, io: CliIo): number {
  if (err instanceof VigilError) {
    io.stderr(`vigil: ${command}: ${err.message} (${err.code})\n`)
    return EXIT.FAILURE
  }
  throw err
}

interface ReleaseResult {
  mailId: string
  sender: string
  recipients: string[]
  replies: Array<{ code: number; text: string }>
  released: boolean
}

/** `vigil release MAIL_ID [RECIPIENT...]`: prints each next-hop reply; exit 0 only when every recipient got 2xx. */
export async function runRelease(loaded: LoadedConfig, args: readonly string[], io: CliIo): Promise<number> {
  const fn = await delegate('release', 'tools/release.ts', 'releaseMessage', io)
  if (typeof fn === 'number') return fn
  const [mailId, ...recipients] = args
  const release = fn as unknown as (
    c: CommonConfig,
    f: unknown,
    id: string,
    o: { recipients?: string[] },
  ) => Promise<ReleaseResult>
  let result: ReleaseResult
  try {
    result = await release(commonPart(loaded.config), loaded.config.filter, mailId, { recipients })
  } catch (err) {
    return reportFailure('release', err, io)
  }
  io.stdout(
    `release ${result.mailId} from <${result.sender}> to ${result.recipients.map((r) => `<${r}>`).join(', ')}\n`,
  )
  for (const r of result.replies) io.stdout(`${r.text.startsWith(String(r.code)) ? r.text : `${r.code} ${r.text}`}\n`)
  return result.released ? EXIT.OK : EXIT.FAILURE
}

/** `vigil filter --test-message FILE`: the filter's offline verdict for one message. */
export async function runTestMessage(loaded: LoadedConfig, file: string, io: CliIo): Promise<number> {
  const fn = await delegate('filter --test-message', 'tools/test-message.ts', 'testMessage', io)
  if (typeof fn === 'number') return fn
  const test = fn as unknown as (c: CommonConfig, f: unknown, file: string, out: (s: string) => void) => Promise<number>
  try {
    return await test(commonPart(loaded.config), loaded.config.filter, file, io.stdout)
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    if (e?.code === 'ENOENT' || e?.code === 'EISDIR') {
      io.stderr(`vigil: filter --test-message: cannot read ${file}: ${e.code}\n`)
      return EXIT.FAILURE
    }
    return reportFailure('filter --test-message', err, io)
  }
}

/** What `vigil demo` hands to filter-core's demo generator. */
export interface DelegateRequest {
  readonly common: CommonConfig
  readonly filter: Readonly<Record<string, unknown>>
  readonly args: readonly string[]
  /** Command options, e.g. `{ count: '10' }` for `demo --count 10`. */
  readonly options: Readonly<Record<string, string | true>>
  readonly log: Logger
  readonly stdout: (text: string) => void
  readonly stderr: (text: string) => void
}

/** `vigil demo`: resolves with the generator's exit code (default 0). */
export async function runDemo(
  loaded: LoadedConfig,
  args: readonly string[],
  options: Readonly<Record<string, string | true>>,
  io: CliIo,
): Promise<number> {
  const fn = await delegate('demo', 'tools/demo.ts', 'demo', io)
  if (typeof fn === 'number') return fn
  const { config } = loaded
  const log = createLogger({
    name: 'demo',
    level: config.log_level as LogLevel,
    write: (line) => io.stderr(line + '\n'),
  })
  const req: DelegateRequest = {
    common: commonPart(config),
    filter: config.filter,
    args,
    options,
    log,
    stdout: io.stdout,
    stderr: io.stderr,
  }
  try {
    const code = await (fn as unknown as (r: DelegateRequest) => Promise<number | void>)(req)
    return typeof code === 'number' ? code : EXIT.OK
  } catch (err) {
    return reportFailure('demo', err, io)
  }
}
