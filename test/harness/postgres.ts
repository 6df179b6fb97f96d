// A private PostgreSQL 15 (Debian's postgresql-15): initdb into a temp dir, postgres on a free
// loopback port with its socket in that dir, trust authentication for loopback only. As root the
// cluster belongs to the `postgres` account (postgres refuses to run as root): setpriv execs the
// server, so the PID we hold is the postmaster's own. stop() is a fast shutdown (SIGINT: clients
// are disconnected), not the smart SIGTERM that waits for every client to leave.
import { chmodSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ErrorCode, VigilError } from '@vigil/protocol'
import { freePort } from './ports.ts'
import { runCommand, spawnService, type ServiceProcess } from './process.ts'
import { childScope, tmpDir, type Owner } from './tmp.ts'

export const PG_BIN_DIR = '/usr/lib/postgresql/15/bin'
const PG_USER = 'postgres'

export interface PostgresInstance {
  host: string
  port: number
  /** Database created for the test (default 'mail_prefs', amavis's README.sql-pg name). */
  database: string
  /** Role owning that database (default 'vscan'). */
  user: string
  /** postgres://vscan@127.0.0.1:PORT/mail_prefs */
  url: string
  dir: string
  pid: number
  process: ServiceProcess
  /** Runs SQL through psql as the test role (ON_ERROR_STOP); resolves with psql's unaligned output. */
  sql(text: string): Promise<string>
  /** Fast shutdown; idempotent. */
  stop(): Promise<void>
}

export interface StartPostgresOptions {
  database?: string
  user?: string
}

export async function startPostgres(t: Owner | null, opts: StartPostgresOptions = {}): Promise<PostgresInstance> {
  const scope = childScope(t)
  const dir = await tmpDir(scope, 'postgres')
  const dataDir = join(dir, 'data')
  const host = '127.0.0.1'
  const port = await freePort(host)
  const database = opts.database ?? 'mail_prefs'
  const user = opts.user ?? 'vscan'
  const asRoot = process.getuid?.() === 0
  const as = (bin: string, args: string[]) =>
    asRoot
      ? { cmd: 'setpriv', args: ['--reuid', PG_USER, '--regid', PG_USER, '--init-groups', bin, ...args] }
      : { cmd: bin, args }
  const fail = async (what: string, r: { stdout: string; stderr: string }) => {
    await scope.close().catch(() => {})
    throw new VigilError(ErrorCode.HARNESS_START, `postgres: ${what}: ${(r.stderr || r.stdout).trim()}`)
  }
  if (asRoot) {
    chmodSync(dir, 0o755)
    const chown = await runCommand('chown', [`${PG_USER}:`, dir])
    if (chown.code !== 0) await fail('cannot chown the temp dir (run scripts/provision.sh)', chown)
  }
  const init = as(join(PG_BIN_DIR, 'initdb'), ['-D', dataDir, '-U', PG_USER, '-A', 'trust', '-E', 'UTF8', '--no-sync'])
  const r = await runCommand(init.cmd, init.args, { timeoutMs: 60_000, pkg: 'postgresql-15', cwd: dir })
  if (r.code !== 0) await fail('initdb failed', r)
  // Loopback TCP and the private socket only; trust is fine for a throw-away cluster nobody else reaches.
  writeFileSync(
    join(dataDir, 'pg_hba.conf'),
    'local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n',
  )
  const server = as(join(PG_BIN_DIR, 'postgres'), [
    '-D',
    dataDir,
    '-p',
    String(port),
    '-c',
    `listen_addresses=${host}`,
    '-c',
    `unix_socket_directories=${dir}`,
    '-c',
    'fsync=off',
    '-c',
    'logging_collector=off',
  ])
  const psqlAs = (role: string, db: string, text: string) =>
    runCommand(
      'psql',
      ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', dir, '-p', String(port), '-U', role, '-d', db],
      {
        input: text,
        timeoutMs: 30_000,
        pkg: 'postgresql-client-15',
      },
    )
  const proc = await spawnService({
    t: scope,
    name: 'postgres',
    cmd: server.cmd,
    args: server.args,
    cwd: dir,
    env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' },
    logFile: join(dir, 'postgres.log'),
    pkg: 'postgresql-15',
    readyTimeoutMs: 30_000,
    ready: async () => (await psqlAs(PG_USER, 'postgres', 'SELECT 1')).code === 0,
  }).catch(async (err: unknown) => {
    await scope.close().catch(() => {})
    throw err
  })
  const setup = await psqlAs(
    PG_USER,
    'postgres',
    `CREATE ROLE ${user} LOGIN; CREATE DATABASE ${database} OWNER ${user};`,
  )
  if (setup.code !== 0) await fail('cannot create the test role and database', setup)
  let stopping: Promise<void> | undefined
  const stop = () =>
    (stopping ??= (async () => {
      if (proc.running()) proc.child.kill('SIGINT')
      await scope.close()
    })())
  return {
    host,
    port,
    database,
    user,
    url: `postgres://${user}@${host}:${port}/${database}`,
    dir,
    pid: proc.pid,
    process: proc,
    async sql(text) {
      const out = await psqlAs(user, database, text)
      if (out.code !== 0) throw new Error(`psql: ${out.stderr.trim()}`)
      return out.stdout
    },
    stop,
  }
}
