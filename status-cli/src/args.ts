// amavis-status command line: amavisd-status's `-c <count>` and `-w <wait-interval>` (spec §3.4)
// plus Vigil's long options. Pure: returns the options or a usage error, never exits.

export interface StatusArgs {
  /** Redraws before exiting; undefined = forever; 0 or negative = header only. */
  readonly count?: number
  readonly waitSecs?: number
  readonly connect?: string
  readonly mode?: 'plain' | 'tui'
  readonly config?: string
  /** Write every received message to this `.frames` file (see replay.ts). */
  readonly record?: string
  /** Print a recording through the plain session instead of connecting (needs -c). */
  readonly replay?: string
  /** Collector HTTP base URL: full-screen rows (with hosts) and counters from its API. */
  readonly api?: string
}

export type ParsedArgs = { ok: true; args: StatusArgs } | { ok: false; problem: string }

const COUNT_RE = /^[+-]?\d+$/
const WAIT_RE = /^\+?\d+(\.\d*)?$/

/** The extra line printed after amavisd-status's usage line. */
export const VIGIL_USAGE =
  '       [--connect <zmq-url>] [--plain | --tui [--api <http-url>]] [--config <vigil.yaml>] [--record <file.frames>]\n       [--replay <file.frames> -c <count>]\n'

/**
 * Parses argv (without node and script). Every option needs a value; `-c`/`-w` values must match
 * amavisd-status's patterns; anything else is a usage error.
 */
export function parseStatusArgs(argv: readonly string[]): ParsedArgs {
  const out: { -readonly [K in keyof StatusArgs]: StatusArgs[K] } = {}
  const fail = (problem: string): ParsedArgs => ({ ok: false, problem })
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    let name: string
    let value: string | undefined
    const short = /^-([cw])(.*)$/.exec(a)
    const long = /^--([a-z-]+)(?:=(.*))?$/.exec(a)
    if (short) {
      name = short[1]
      value = short[2] !== '' ? short[2] : undefined
    } else if (long) {
      name = long[1]
      value = long[2]
    } else if (a.startsWith('-')) return fail(`unknown option ${a}`)
    else return fail(`unexpected argument ${JSON.stringify(a)}`)
    if (name === 'plain' || name === 'tui') {
      if (value !== undefined) return fail(`--${name} takes no value`)
      out.mode = name
      continue
    }
    if (!['c', 'w', 'connect', 'config', 'record', 'replay', 'api'].includes(name)) return fail(`unknown option ${a}`)
    if (value === undefined) {
      if (i + 1 >= argv.length) return fail(`option ${a} needs a value`)
      value = argv[++i]
    }
    switch (name) {
      case 'c':
        if (!COUNT_RE.test(value)) return fail(`bad count ${JSON.stringify(value)}`)
        out.count = Number(value)
        break
      case 'w':
        if (!WAIT_RE.test(value)) return fail(`bad wait interval ${JSON.stringify(value)}`)
        out.waitSecs = Number(value)
        break
      case 'connect':
        if (
          !/^(ipc:\/\/.+|tcp:\/\/(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.*-]+):\d{1,5})$/.test(value) ||
          Number(value.split(':').pop()) > 65535
        )
          return fail(`bad endpoint ${JSON.stringify(value)} (expected tcp://HOST:PORT or ipc://PATH)`)
        out.connect = value
        break
      case 'config':
        out.config = value
        break
      case 'record':
        out.record = value
        break
      case 'replay':
        out.replay = value
        break
      case 'api':
        if (!/^https?:\/\/[^/]+/.test(value)) return fail(`bad API URL ${JSON.stringify(value)}`)
        out.api = value
        break
    }
  }
  if (out.replay !== undefined && out.count === undefined) return fail('--replay needs -c <count>')
  if (out.replay !== undefined && (out.record !== undefined || out.connect !== undefined || out.mode === 'tui'))
    return fail('--replay reads a file; it takes no --record, --connect or --tui')
  return { ok: true, args: out }
}
