// `vigil dkim genkey DOMAIN SELECTOR [--type rsa|ed25519] [--bits N] [--key-file FILE]` and
// `vigil dkim showkeys [DOMAIN...]` (amavisd genrsa / showkeys): filter-core/src/tools/dkim-keys.ts.
import { join } from 'node:path'
import { VigilError } from '@vigil/protocol'
import { importPackageFile } from '../components.ts'
import { commonPart, type LoadedConfig } from '../config/load.ts'
import { EXIT } from '../exit-codes.ts'
import type { CliIo } from '../io.ts'

const USAGE =
  'usage: vigil dkim genkey DOMAIN SELECTOR [--type rsa|ed25519] [--bits N] [--key-file FILE] | showkeys [DOMAIN...]\n'

interface DkimTools {
  genkey(d: string, s: string, o: { type?: 'rsa' | 'ed25519'; bits?: number; keyFile: string }): string
  showkeys(cfg: unknown, domains: readonly string[]): string
}

export async function runDkim(
  loaded: LoadedConfig,
  args: readonly string[],
  options: Readonly<Record<string, string | boolean | undefined>>,
  io: CliIo,
): Promise<number> {
  const [sub, ...rest] = args
  const tools = (await importPackageFile('filter-core', 'tools/dkim-keys.ts')) as unknown as DkimTools
  try {
    if (sub === 'genkey' && rest.length === 2) {
      const type = options.type ?? 'rsa'
      const bits = options.bits === undefined ? undefined : Number(options.bits)
      if ((type !== 'rsa' && type !== 'ed25519') || (bits !== undefined && !(Number.isInteger(bits) && bits >= 1024))) {
        io.stderr(USAGE)
        return EXIT.USAGE
      }
      const [domain, selector] = rest
      const keyFile =
        typeof options['key-file'] === 'string'
          ? options['key-file']
          : join(commonPart(loaded.config).home, 'dkim', `${domain.toLowerCase()}.${selector}.pem`)
      io.stdout(tools.genkey(domain, selector, { type, bits, keyFile }))
      return EXIT.OK
    }
    if (sub === 'showkeys') {
      io.stdout(tools.showkeys(loaded.config.filter, rest))
      return EXIT.OK
    }
  } catch (err) {
    if (err instanceof VigilError) {
      io.stderr(`vigil: dkim ${sub}: ${err.message} (${err.code})\n`)
      return EXIT.FAILURE
    }
    throw err
  }
  io.stderr(USAGE)
  return EXIT.USAGE
}
