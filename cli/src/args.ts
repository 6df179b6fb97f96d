// Command-line grammar of `vigil`: global options may appear before or after the command;
// everything else is checked against the command's own table. Pure: no I/O.

export interface GlobalOptions {
  readonly config?: string
  readonly home?: string
  readonly logLevel?: string
}

interface CommandSpec {
  readonly summary: string
  /** Shown after the command name in usage lines. */
  readonly synopsis: string
  /** Command-specific options taking a value. */
  readonly valueOptions: readonly string[]
  /** Command-specific flags (no value). */
  readonly flagOptions: readonly string[]
  readonly minArgs: number
  readonly maxArgs: number
  readonly hidden?: boolean
}

/** Every command with its options and arity; the help text and the parser both read it. */
export const COMMANDS = {
  start: {
    summary: 'Run every available component under a supervisor (restarts crashed ones; SIGHUP reloads).',
    synopsis: '[--only NAME[,NAME...]]',
    valueOptions: ['only'],
    flagOptions: [],
    minArgs: 0,
    maxArgs: 0,
  },
  stop: {
    summary: 'Stop the supervisor of this home (and its components); waits until it has exited.',
    synopsis: '',
    valueOptions: [],
    flagOptions: [],
    minArgs: 0,
    maxArgs: 0,
  },
  reload: {
    summary: 'Ask the supervisor of this home to re-check the configuration and restart its components.',
    synopsis: '',
    valueOptions: [],
    flagOptions: [],
    minArgs: 0,
    maxArgs: 0,
  },
  filter: {
    summary: 'Run the SMTP content filter in the foreground (or check one message offline).',
    synopsis: '[--test-message FILE.eml]',
    valueOptions: ['test-message'],
    flagOptions: [],
    minArgs: 0,
    maxArgs: 0,
  },
  collector: {
    summary: 'Run the collector (ZMQ bus, childproc-minder, snmp-responder, HTTP API).',
    synopsis: '',
    valueOptions: [],
    flagOptions: [],
    minArgs: 0,
    maxArgs: 0,
  },
  'snmp-agent': {
    summary: 'Run the AgentX subagent exporting AMAVIS-MIB.',
    synopsis: '',
    valueOptions: [],
    flagOptions: [],
    minArgs: 0,
    maxArgs: 0,
  },
  dashboard: {
    summary: 'Run the dashboard web server (relays the collector API to the browser).',
    synopsis: '',
    valueOptions: [],
    flagOptions: [],
    minArgs: 0,
    maxArgs: 0,
  },
  pipeline: {
    summary:
      'Print the log pipeline accounting (produced, queued, in flight, indexed, dead-lettered) and whether it balances.',
    synopsis: '[--json] [--url http://HOST:PORT]',
    valueOptions: ['url'],
    flagOptions: ['json'],
    minArgs: 0,
    maxArgs: 0,
  },
  shipper: {
    summary: 'Run a standalone shipper draining the Redis event list into the search backend (besides the collector).',
    synopsis: '',
    valueOptions: [],
    flagOptions: [],
    minArgs: 0,
    maxArgs: 0,
  },
  'print-config': {
    summary: 'Print the effective configuration as YAML (secrets redacted).',
    synopsis: '[--show-secrets]',
    valueOptions: [],
    flagOptions: ['show-secrets'],
    minArgs: 0,
    maxArgs: 0,
  },
  'check-config': {
    summary: 'Validate the configuration; exit 0 when valid, 78 otherwise.',
    synopsis: '',
    valueOptions: [],
    flagOptions: [],
    minArgs: 0,
    maxArgs: 0,
  },
  release: {
    summary: 'Release a quarantined message (like amavisd-release).',
    synopsis: 'MAIL_ID [RECIPIENT...]',
    valueOptions: [],
    flagOptions: [],
    minArgs: 1,
    maxArgs: Infinity,
  },
  demo: {
    summary: 'Send a generated mix of demo mail (clean, spam, virus, banned, ...) to the running filter.',
    synopsis: '[--count N] [--host H] [--port P] [--delay-ms MS]',
    valueOptions: ['count', 'host', 'port', 'delay-ms'],
    flagOptions: [],
    minArgs: 0,
    maxArgs: 0,
  },
  user: {
    summary: 'Manage the dashboard users: add NAME --role admin|viewer, list, del NAME, passwd NAME.',
    synopsis: 'add NAME --role admin|viewer [--password-stdin] | list | del NAME | passwd NAME [--password-stdin]',
    valueOptions: ['role'],
    flagOptions: ['password-stdin'],
    minArgs: 1,
    maxArgs: 2,
  },
  dkim: {
    summary:
      'DKIM signing keys: genkey DOMAIN SELECTOR prints the DNS TXT record (like amavisd genrsa + showkeys), showkeys.',
    synopsis: 'genkey DOMAIN SELECTOR [--type rsa|ed25519] [--bits N] [--key-file FILE] | showkeys [DOMAIN...]',
    valueOptions: ['type', 'bits', 'key-file'],
    flagOptions: [],
    minArgs: 1,
    maxArgs: Infinity,
  },
  help: {
    summary: 'Show this help, or the help of one command.',
    synopsis: '[COMMAND]',
    valueOptions: [],
    flagOptions: [],
    minArgs: 0,
    maxArgs: 1,
  },
  // A stand-in component for supervisor tests and smoke checks: listens on a loopback port
  // and can be told to crash (VIGIL_TEST_COMPONENT_* variables). Not listed in help.
  'test-component': {
    summary: 'Supervisor test component.',
    synopsis: '',
    valueOptions: [],
    flagOptions: [],
    minArgs: 0,
    maxArgs: 0,
    hidden: true,
  },
} as const satisfies Record<string, CommandSpec>

export type CommandName = keyof typeof COMMANDS

export type ParsedArgs =
  | { readonly kind: 'help'; readonly topic?: CommandName }
  | { readonly kind: 'version' }
  | {
      readonly kind: 'command'
      readonly command: CommandName
      readonly global: GlobalOptions
      readonly options: Readonly<Record<string, string | true>>
      readonly args: readonly string[]
    }

/** A command-line mistake; main prints the message and the usage on stderr and exits 64. */
export class UsageError extends Error {
  readonly command?: CommandName
  constructor(message: string, command?: CommandName) {
    super(message)
    this.name = 'UsageError'
    this.command = command
  }
}

const GLOBAL_VALUE_OPTIONS: Record<string, keyof GlobalOptions> = {
  config: 'config',
  c: 'config',
  home: 'home',
  'log-level': 'logLevel',
}

function isCommand(word: string): word is CommandName {
  return Object.hasOwn(COMMANDS, word)
}

/** Parses `vigil` arguments (without node and script). Throws UsageError on any mistake. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const global: { config?: string; home?: string; logLevel?: string } = {}
  const options: Record<string, string | true> = {}
  const positionals: string[] = []
  let command: CommandName | undefined
  let wantHelp = false
  let wantVersion = false
  let onlyPositionals = false

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (onlyPositionals || arg === '-' || !arg.startsWith('-')) {
      if (command === undefined) {
        if (!isCommand(arg)) throw new UsageError(`unknown command '${arg}'`)
        command = arg
      } else positionals.push(arg)
      continue
    }
    if (arg === '--') {
      onlyPositionals = true
      continue
    }
    if (arg === '-h' || arg === '--help') {
      wantHelp = true
      continue
    }
    if (arg === '-V' || arg === '--version') {
      wantVersion = true
      continue
    }
    const long = arg.startsWith('--')
    const body = long ? arg.slice(2) : arg.slice(1)
    const eq = long ? body.indexOf('=') : -1
    const name = eq >= 0 ? body.slice(0, eq) : body
    if (!long && name.length !== 1) throw new UsageError(`unknown option '${arg}'`, command)
    const takeValue = (): string => {
      if (eq >= 0) return body.slice(eq + 1)
      const next = argv[i + 1]
      if (next === undefined || (next.startsWith('-') && next !== '-'))
        throw new UsageError(`option '${arg}' needs a value`, command)
      i++
      return next
    }
    const globalKey = GLOBAL_VALUE_OPTIONS[name]
    if (globalKey !== undefined && (long || name === 'c')) {
      const value = takeValue()
      if (value === '') throw new UsageError(`option '${arg}' needs a non-empty value`, command)
      global[globalKey] = value
      continue
    }
    const spec: CommandSpec | undefined = command ? COMMANDS[command] : undefined
    if (long && spec?.valueOptions.includes(name)) {
      options[name] = takeValue()
      continue
    }
    if (long && spec?.flagOptions.includes(name)) {
      if (eq >= 0) throw new UsageError(`option '--${name}' takes no value`, command)
      options[name] = true
      continue
    }
    throw new UsageError(`unknown option '${arg}'`, command)
  }

  if (wantVersion) return { kind: 'version' }
  if (wantHelp) return command && command !== 'help' ? { kind: 'help', topic: command } : { kind: 'help' }
  if (command === undefined) throw new UsageError('missing command')
  if (command === 'help') {
    const topic = positionals[0]
    if (topic === undefined) return { kind: 'help' }
    if (!isCommand(topic)) throw new UsageError(`unknown command '${topic}'`)
    return { kind: 'help', topic }
  }
  const spec: CommandSpec = COMMANDS[command]
  if (positionals.length < spec.minArgs)
    throw new UsageError(`'${command}' needs ${spec.synopsis.split(' ')[0]}`, command)
  if (positionals.length > spec.maxArgs)
    throw new UsageError(`unexpected argument '${positionals[spec.maxArgs]}'`, command)
  return { kind: 'command', command, global, options, args: positionals }
}

/**
 * Picks the global options (`--config`, `-c`, `--home`, `--log-level`) out of an argument list and
 * ignores everything else; for library callers of loadConfig. Throws UsageError on a missing value.
 */
export function globalOptionsFrom(argv: readonly string[]): GlobalOptions {
  const out: { config?: string; home?: string; logLevel?: string } = {}
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--') break
    const m = /^(?:--(config|home|log-level)|-(c))(?:=(.*))?$/.exec(arg)
    if (!m) continue
    const key = GLOBAL_VALUE_OPTIONS[m[1] ?? m[2]]
    let value = m[3]
    if (value === undefined) {
      value = argv[i + 1]
      if (value === undefined) throw new UsageError(`option '${arg}' needs a value`)
      i++
    }
    out[key] = value
  }
  return out
}
