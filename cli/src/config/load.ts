// Loads vigil.yaml once: defaults < file < environment < command-line flags. Every problem is
// collected (YAML syntax with line:col, schema issues with their key paths and lines) and
// thrown together as one ConfigError; the result is resolved (home-relative defaults) and
// deep-frozen.
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { LineCounter, isMap, isSeq, isScalar, parseDocument, type Document } from 'yaml'
import { z } from 'zod'
import { ErrorCode, VigilError, eventsSocket, innerSocket, type CommonConfig } from '@vigil/protocol'
import type { FilterConfig } from '@vigil/filter-core/config.ts'
import type { CollectorConfig } from '@vigil/collector/config.ts'
import type { SnmpAgentConfig } from '@vigil/snmp-agent/config.ts'
import type { StatusConfig } from '@vigil/status-cli/config.ts'
import type { DashboardConfig } from '@vigil/dashboard-server/config.ts'
import { globalOptionsFrom, type GlobalOptions } from '../args.ts'
import { formatIssue, formatPath } from './problems.ts'
import { loadRootSchema } from './schema.ts'

export type SectionConfig = Readonly<Record<string, unknown>>
/**
 * The validated, resolved and frozen configuration passed down to every component (frozen at run
 * time; typed with the components' own mutable types so sections can be handed to their factories).
 */
export type VigilConfig = CommonConfig & {
  readonly filter: FilterConfig
  readonly collector: CollectorConfig
  readonly snmp_agent: SnmpAgentConfig
  readonly status: StatusConfig
  readonly dashboard: DashboardConfig
}

/** Where the effective configuration came from. */
export interface ConfigSource {
  /** Absolute path of the YAML file, or undefined for built-in defaults. */
  readonly file?: string
  /** Environment variables and flags that overrode keys, e.g. `VIGIL_HOME`, `--log-level`. */
  readonly overrides: readonly string[]
}

export interface LoadedConfig {
  readonly config: VigilConfig
  readonly source: ConfigSource
  /** Sections that could not be checked (their package's config.ts failed to load). */
  readonly warnings: readonly string[]
}

/** Thrown by loadConfig; `problems` holds every `<path>: <problem>` line. */
export class ConfigError extends VigilError {
  readonly problems: readonly string[]
  readonly file?: string
  constructor(code: typeof ErrorCode.CONFIG_INVALID | typeof ErrorCode.CONFIG_READ, problems: string[], file?: string) {
    const where = file ? `configuration ${file}` : 'configuration'
    const n = problems.length
    super(code, `Invalid ${where} (${n} problem${n === 1 ? '' : 's'}):\n${problems.map((p) => '  ' + p).join('\n')}`)
    this.name = 'ConfigError'
    this.problems = problems
    this.file = file
  }
}

/** Overrides by environment variable and by flag, in increasing precedence. */
const ENV_OVERRIDES: ReadonlyArray<readonly [string, string]> = [
  ['VIGIL_HOME', 'home'],
  ['VIGIL_LOG_LEVEL', 'log_level'],
  ['VIGIL_MYHOSTNAME', 'myhostname'],
]
const FLAG_OVERRIDES: ReadonlyArray<readonly [keyof GlobalOptions, string, string]> = [
  ['home', 'home', '--home'],
  ['logLevel', 'log_level', '--log-level'],
]

/** Longest ipc:// path a unix socket accepts (sun_path is 108 bytes with the NUL). */
const MAX_IPC_PATH_BYTES = 107

export interface LoadOptions {
  /** Relative paths (config file, home) resolve against it; default process.cwd(). */
  readonly cwd?: string
}

function readYaml(file: string): { raw: Record<string, unknown>; doc?: Document; lines?: LineCounter } {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'is a directory' : (e.code ?? e.message)
    throw new ConfigError(ErrorCode.CONFIG_READ, [`${file}: cannot read the configuration file: ${why}`], file)
  }
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true })
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => {
      const pos = e.linePos?.[0] ?? lines.linePos(e.pos[0])
      return `${file}:${pos.line}:${pos.col}: YAML syntax error: ${e.message.split('\n')[0]}`
    })
    throw new ConfigError(ErrorCode.CONFIG_INVALID, problems, file)
  }
  let value: unknown
  try {
    value = doc.toJS({ maxAliasCount: 100 })
  } catch (err) {
    throw new ConfigError(ErrorCode.CONFIG_INVALID, [`${file}: ${(err as Error).message}`], file)
  }
  if (value === null || value === undefined) return { raw: {}, doc, lines }
  if (typeof value !== 'object' || Array.isArray(value)) {
    const what = Array.isArray(value) ? 'a list' : `${typeof value} ${JSON.stringify(value)}`
    throw new ConfigError(ErrorCode.CONFIG_INVALID, [`(top level): expected a mapping of keys, got ${what}`], file)
  }
  return { raw: value as Record<string, unknown>, doc, lines }
}

/** ` (line N)` for the key at `path` in the YAML document, or '' when it is not in the file. */
function locator(doc: Document | undefined, lines: LineCounter | undefined) {
  return (path: readonly PropertyKey[]): string => {
    if (!doc || !lines) return ''
    let node: unknown = doc.contents
    let offset: number | undefined
    for (const seg of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === seg)
        if (!pair) return ''
        offset = isScalar(pair.key) ? pair.key.range?.[0] : undefined
        node = pair.value
      } else if (isSeq(node) && typeof seg === 'number') {
        node = node.items[seg]
        offset = isScalar(node) || isMap(node) || isSeq(node) ? node.range?.[0] : undefined
      } else return ''
    }
    if (offset === undefined) return ''
    return ` (line ${lines.linePos(offset).line})`
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v)
    Object.freeze(value)
  }
  return value
}

/** Fills the home-relative defaults (spec §1.2: `@zmq_sockets` defaults to ipc://$MYHOME/amavisd-zmq.sock). */
function resolveDefaults(cfg: Record<string, unknown>, cwd: string): string[] {
  const problems: string[] = []
  const home = resolve(cwd, cfg.home as string)
  cfg.home = home
  const zmq = cfg.zmq as { inner: string[]; outer: string; snmp: string; events?: string }
  if (zmq.inner.length === 0) zmq.inner = [innerSocket(home)]
  zmq.events ??= eventsSocket(home)
  const endpoints: Array<[PropertyKey[], string]> = [
    ...zmq.inner.map((e, i): [PropertyKey[], string] => [['zmq', 'inner', i], e]),
    [['zmq', 'outer'], zmq.outer],
    [['zmq', 'snmp'], zmq.snmp],
    [['zmq', 'events'], zmq.events],
  ]
  for (const [path, ep] of endpoints) {
    if (!ep.startsWith('ipc://')) continue
    const bytes = Buffer.byteLength(ep.slice('ipc://'.length))
    if (bytes > MAX_IPC_PATH_BYTES)
      problems.push(
        `${formatPath(path)}: ipc socket path is ${bytes} bytes, longer than the ${MAX_IPC_PATH_BYTES}-byte unix socket limit; use a shorter home or set the endpoint (${ep})`,
      )
  }
  return problems
}

/**
 * Loads, validates and resolves the configuration named by `argv` (`--config FILE`, `--home DIR`,
 * `--log-level L`; other arguments are ignored) and `env` (`VIGIL_CONFIG`, `VIGIL_HOME`,
 * `VIGIL_LOG_LEVEL`, `VIGIL_MYHOSTNAME`). Without a file, built-in defaults apply.
 * Throws ConfigError (VIGIL_ERR_CONFIG_INVALID or VIGIL_ERR_CONFIG_READ) listing every problem.
 */
export async function loadConfig(
  argv: readonly string[] | GlobalOptions,
  env: Readonly<Record<string, string | undefined>>,
  opts: LoadOptions = {},
): Promise<LoadedConfig> {
  const cwd = opts.cwd ?? process.cwd()
  const global = Array.isArray(argv) ? globalOptionsFrom(argv) : (argv as GlobalOptions)
  const named = global.config ?? (env.VIGIL_CONFIG || undefined)
  const file = named === undefined ? undefined : resolve(cwd, named)
  const { raw, doc, lines } = file
    ? readYaml(file)
    : { raw: {} as Record<string, unknown>, doc: undefined, lines: undefined }

  const origin = new Map<string, string>()
  for (const [name, key] of ENV_OVERRIDES) {
    const v = env[name]
    if (v === undefined || v === '') continue
    raw[key] = v
    origin.set(key, name)
  }
  for (const [opt, key, flag] of FLAG_OVERRIDES) {
    const v = global[opt]
    if (v === undefined) continue
    raw[key] = v
    origin.set(key, flag)
  }

  const { schema, warnings } = await loadRootSchema()
  const parsed = schema.safeParse(raw, { reportInput: true })
  const fromFile = locator(doc, lines)
  const locate = (path: readonly PropertyKey[]) => {
    const o = path.length === 1 ? origin.get(String(path[0])) : undefined
    return o ? ` (from ${o})` : fromFile(path)
  }
  if (!parsed.success) {
    const jsonSchema = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as object
    const problems = parsed.error.issues.flatMap((issue) => formatIssue(issue, { jsonSchema, locate }))
    throw new ConfigError(ErrorCode.CONFIG_INVALID, problems, file)
  }
  const cfg = parsed.data
  const problems = resolveDefaults(cfg, cwd)
  if (problems.length > 0) throw new ConfigError(ErrorCode.CONFIG_INVALID, problems, file)
  return {
    config: deepFreeze(cfg) as unknown as VigilConfig,
    source: { file, overrides: [...origin.values()] },
    warnings,
  }
}

/** The common keys only (what a component factory receives as `common`). */
export function commonPart(config: VigilConfig): CommonConfig {
  const { filter: _f, collector: _c, snmp_agent: _s, status: _t, dashboard: _d, ...common } = config
  return Object.freeze(common) as CommonConfig
}
