// A real Postfix queue for tests: Postfix's own tools (installed by scripts/provision.sh) build it.
// `postfix post-install create-missing` lays out <dir>/spool with Postfix's directories, owners and
// modes; `sendmail` (postdrop) writes real queue files into maildrop; for deferred entries a
// private Postfix master (no inet listeners, `defer_transports = smtp`) runs just long enough for
// pickup and qmgr to move them into deferred/<hash>/, then is stopped. Maildrop entries written
// after that stay in maildrop (no pickup is running). Nothing listens on the network.
import { execFile, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { onProcessEnd, resolveBinary, tmpDir, waitFor, type Owner } from '../../test/harness/index.ts'

const run = promisify(execFile)

export interface PostfixQueue {
  /** queue_directory */
  readonly spool: string
  /** config_directory (main.cf, master.cf) */
  readonly configDir: string
}

/** Whether Postfix's tools are installed (tests skip with the reason otherwise). */
export function postfixMissing(): string | undefined {
  try {
    for (const b of ['postfix', 'postconf', 'sendmail']) resolveBinary(b, 'postfix')
    return undefined
  } catch (err) {
    return (err as Error).message
  }
}

/** Files under a queue directory, recursively (what `find <dir> -type f | wc -l` says). */
export function filesUnder(dir: string): number {
  let n = 0
  for (const e of readdirSync(dir, { withFileTypes: true }))
    n += e.isDirectory() ? filesUnder(join(dir, e.name)) : e.isFile() ? 1 : 0
  return n
}

async function sendmail(configDir: string, n: number): Promise<void> {
  const sm = resolveBinary('sendmail', 'postfix')
  for (let i = 0; i < n; i++)
    await new Promise<void>((resolve, reject) => {
      const child = execFile(sm, ['-C', configDir, '-f', 'sender@example.test', 'rcpt@example.test'], (err) =>
        err ? reject(err) : resolve(),
      )
      child.stdin!.end(`Subject: queue entry ${i}\n\nbody ${i}\n`)
    })
}

/** Builds the queue: `deferred` entries in deferred/<hash>/, then `maildrop` entries in maildrop/. */
export async function makePostfixQueue(t: Owner, want: { deferred: number; maildrop: number }): Promise<PostfixQueue> {
  const root = await tmpDir(t, 'postfix')
  const configDir = join(root, 'etc')
  const spool = join(root, 'spool')
  mkdirSync(configDir)
  // Debian's master.cf without its inet smtpd/postscreen (master_service_disable covers the rest)
  const master = readFileSync('/etc/postfix/master.cf', 'utf8').replace(/^(smtp\s+inet\b.*)$/gm, '#$1')
  writeFileSync(join(configDir, 'master.cf'), master)
  writeFileSync(
    join(configDir, 'main.cf'),
    [
      `queue_directory = ${spool}`,
      `data_directory = ${join(root, 'data')}`,
      'compatibility_level = 3.6',
      'myhostname = queue.test',
      'mydestination =',
      'inet_interfaces = loopback-only',
      'inet_protocols = ipv4',
      'master_service_disable = inet',
      'default_transport = smtp',
      'defer_transports = smtp',
      'syslog_name = vigil-test-postfix',
      '',
    ].join('\n'),
  )
  const postfix = resolveBinary('postfix', 'postfix')
  // post-install reads its installation parameters from the environment `postfix` would set up;
  // run directly, it gets them as arguments, from this instance's own postconf.
  const params = ['meta_directory', 'command_directory', 'daemon_directory', 'shlib_directory']
  params.push('queue_directory', 'data_directory', 'mail_owner', 'setgid_group')
  const postconf = resolveBinary('postconf', 'postfix')
  const { stdout } = await run(postconf, ['-c', configDir, '-h', ...params])
  const values = stdout.trim().split('\n')
  const meta = values[0]
  await run(join(meta, 'post-install'), [
    `config_directory=${configDir}`,
    ...params.map((p, i) => `${p}=${values[i]}`),
    'create-missing',
  ])
  if (want.deferred > 0) {
    await sendmail(configDir, want.deferred)
    const pidFile = join(spool, 'pid', 'master.pid')
    const masterPid = (): number | undefined => {
      const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : NaN
      return pid > 0 && existsSync(`/proc/${pid}`) ? pid : undefined
    }
    // a crashed run must not leave this master behind (`postfix stop` signals the PID in its pid file)
    onProcessEnd(() => {
      if (masterPid() !== undefined) spawnSync(postfix, ['-c', configDir, 'stop'], { stdio: 'ignore' })
    })
    await run(postfix, ['-c', configDir, 'start'])
    const pid = await waitFor(masterPid, { timeoutMs: 10_000, what: 'the Postfix master running' })
    try {
      await waitFor(
        () => filesUnder(join(spool, 'deferred')) === want.deferred && filesUnder(join(spool, 'maildrop')) === 0,
        { timeoutMs: 30_000, intervalMs: 100, what: `${want.deferred} entries in ${spool}/deferred` },
      )
    } finally {
      await run(postfix, ['-c', configDir, 'stop'])
      await waitFor(() => !existsSync(`/proc/${pid}`), { timeoutMs: 10_000, what: 'the Postfix master stopped' })
    }
  }
  await sendmail(configDir, want.maildrop)
  return { spool, configDir }
}
