// `vigil user add NAME --role admin|viewer | list | del NAME | passwd NAME`: the dashboard's local
// users (dashboard/server/src/auth/users.ts, in <home>/dashboard/dashboard.db). Passwords are read
// without echo from a terminal (asked twice), or as the first line of stdin when it is not a
// terminal or with --password-stdin; nothing secret is ever printed.
import { commonPart, type LoadedConfig } from '../config/load.ts'
import { EXIT } from '../exit-codes.ts'
import type { CliIo, CliStdin } from '../io.ts'
import { ensureHome } from './component.ts'

const USAGE =
  'usage: vigil user add NAME --role admin|viewer [--password-stdin] | list | del NAME | passwd NAME [--password-stdin]\n'

/** The first line of a non-terminal stdin. */
async function readLine(stdin: CliStdin): Promise<string> {
  let text = ''
  for await (const chunk of stdin as AsyncIterable<Buffer | string>) {
    text += typeof chunk === 'string' ? chunk : chunk.toString('utf8')
    if (text.includes('\n')) break
  }
  return text.split(/\r?\n/)[0]
}

/** One line typed on the terminal without echo (raw mode); Ctrl-C or Ctrl-D abort. */
function readHidden(stdin: CliStdin, prompt: string, io: CliIo): Promise<string | undefined> {
  io.stderr(prompt)
  return new Promise((resolve) => {
    let typed = ''
    const tty = stdin as CliStdin & { setRawMode(on: boolean): void }
    tty.setRawMode(true)
    stdin.resume()
    const done = (v: string | undefined) => {
      stdin.removeListener('data', onData)
      tty.setRawMode(false)
      stdin.pause()
      io.stderr('\n')
      resolve(v)
    }
    const onData = (chunk: Buffer | string) => {
      for (const ch of typeof chunk === 'string' ? chunk : chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done(typed)
        if (ch === '\u0003' || ch === '\u0004') return done(undefined)
        if (ch === '\u007f' || ch === '\b') typed = [...typed].slice(0, -1).join('')
        else if (ch >= ' ') typed += ch
      }
    }
    stdin.on('data', onData)
  })
}

async function askPassword(io: CliIo, fromStdin: boolean): Promise<string | undefined> {
  const stdin = io.stdin
  if (!stdin) return undefined
  if (fromStdin || !stdin.isTTY) return readLine(stdin)
  const a = await readHidden(stdin, 'Password: ', io)
  if (a === undefined) return undefined
  const b = await readHidden(stdin, 'Again: ', io)
  if (a !== b) {
    io.stderr('vigil: user: the passwords differ\n')
    return undefined
  }
  return a
}

export async function runUser(
  loaded: LoadedConfig,
  args: readonly string[],
  options: Readonly<Record<string, string | true>>,
  io: CliIo,
): Promise<number> {
  const [sub, name, ...rest] = args
  const needsName = sub === 'add' || sub === 'del' || sub === 'passwd'
  if (
    !sub ||
    !['add', 'list', 'del', 'passwd'].includes(sub) ||
    (needsName ? !name : name !== undefined) ||
    rest.length
  ) {
    io.stderr(USAGE)
    return EXIT.USAGE
  }
  if (options.role !== undefined && sub !== 'add') {
    io.stderr(`vigil: user ${sub}: --role is for \`user add\`\n${USAGE}`)
    return EXIT.USAGE
  }
  const home = commonPart(loaded.config).home
  const problem = ensureHome(home)
  if (problem) {
    io.stderr(problem)
    return EXIT.CANT_CREATE
  }
  // Loaded here, not at the top: only this command needs better-sqlite3 and the dashboard package.
  const auth: typeof import('@vigil/dashboard-server/auth/users.ts') =
    await import('@vigil/dashboard-server/auth/users.ts')
  const { createUserStore, UserError } = auth
  const store = createUserStore(home, { scryptLogN: loaded.config.dashboard.auth.scrypt_log_n })
  try {
    switch (sub) {
      case 'list': {
        const users = store.list()
        if (!users.length)
          io.stdout('no users (the dashboard creates "admin" with a generated password on its first start)\n')
        for (const u of users)
          io.stdout(`${u.name.padEnd(24)} ${u.role.padEnd(7)} ${new Date(u.created_ms).toISOString()}\n`)
        return EXIT.OK
      }
      case 'del':
        if (!store.remove(name)) {
          io.stderr(`vigil: user del: no user '${name}'\n`)
          return EXIT.FAILURE
        }
        io.stdout(`deleted user ${name} (and their sessions and saved searches)\n`)
        return EXIT.OK
      case 'add':
      case 'passwd': {
        const role = sub === 'add' ? options.role : undefined
        if (sub === 'add') {
          if (typeof role !== 'string') {
            io.stderr(`vigil: user add needs --role admin|viewer\n${USAGE}`)
            return EXIT.USAGE
          }
          auth.checkRole(role)
          auth.checkUserName(name)
          if (store.get(name)) {
            io.stderr(
              `vigil: user add: user '${name}' exists already (vigil user passwd ${name} sets a new password)\n`,
            )
            return EXIT.FAILURE
          }
        } else if (!store.get(name)) {
          io.stderr(`vigil: user passwd: no user '${name}'\n`)
          return EXIT.FAILURE
        }
        const password = await askPassword(io, options['password-stdin'] === true)
        if (password === undefined || password === '') {
          io.stderr(`vigil: user ${sub}: no password given (type it on a terminal, or pipe it: --password-stdin)\n`)
          return EXIT.FAILURE
        }
        if (sub === 'add') {
          const u = await store.add(name, role as 'admin' | 'viewer', password)
          io.stdout(`added user ${u.name} (${u.role})\n`)
        } else {
          await store.setPassword(name, password)
          io.stdout(`password of ${name} changed (their sessions ended)\n`)
        }
        return EXIT.OK
      }
    }
    return EXIT.USAGE
  } catch (err) {
    if (err instanceof UserError) {
      io.stderr(`vigil: user ${sub}: ${err.message}\n`)
      return EXIT.FAILURE
    }
    throw err
  } finally {
    store.close()
  }
}
