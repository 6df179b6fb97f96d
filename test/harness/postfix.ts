// A private, real Postfix (the Debian package's master and daemons) for tests: its own
// config_directory and queue_directory in a temp dir, smtpd on loopback ports, delivery by the
// virtual transport into maildirs under the temp dir. The system instance (/etc/postfix,
// /var/spool/postfix) is never read or touched.
//
// `master -c DIR -d` runs in the foreground as a child of the test process, so it is stopped by
// PID like every other harness service; SIGTERM is what `postfix stop` sends it too, and its
// daemons exit with it. `postfix -c DIR check` runs first: it creates the queue directories with
// Postfix's own owners and modes (meta_directory's postfix-files, read only).
import { connect } from 'node:net'
import { chown, mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { userInfo } from 'node:os'
import { join } from 'node:path'
import { ErrorCode, VigilError } from '@vigil/protocol'
import { freePort } from './ports.ts'
import { runCommand, runCommandSync, spawnService, waitFor, type ServiceProcess } from './process.ts'
import { childScope, tmpDir, type Owner } from './tmp.ts'

/** uid/gid of `nobody`: the owner of the maildirs (virtual_uid_maps). */
const NOBODY = 65534

export interface PostfixOptions {
  /** Port of the public smtpd, on 127.0.0.1 and ::1 (default: a free port). */
  port?: number
  /**
   * false: no public smtpd line is written; `masterCf` must define `<port> inet … smtpd` itself
   * (e.g. the pre-queue snippet's smtpd with smtpd_proxy_filter). Default true.
   */
  publicSmtpd?: boolean
  /** Appended to main.cf (a later setting wins in Postfix). */
  mainCf?: string
  /** Appended to master.cf. */
  masterCf?: string
  /** Default 'mx.vigil.test'. */
  myhostname?: string
  /** The virtual mailbox domain, default 'vigil.test'. */
  domain?: string
  /** Local parts that have a maildir (others are rejected at RCPT), default rcpt, sender, postmaster. */
  mailboxes?: string[]
}

export interface MaildirMessage {
  /** The maildir file (in new/ or cur/). */
  file: string
  /** The message as delivered (LF line ends, Return-Path and Delivered-To prepended by Postfix). */
  data: string
  /** Header fields in order, unfolded. */
  headerList: Array<{ name: string; value: string }>
  /** First value of a header field, case-insensitive. */
  header(name: string): string | undefined
  /** Every value of a header field, in order. */
  headers(name: string): string[]
  body: string
}

export interface QueueEntry {
  queue_name: string
  queue_id: string
  sender: string
  recipients: Array<{ address: string; delay_reason?: string }>
}

export interface Postfix {
  host: string
  port: number
  domain: string
  dir: string
  configDir: string
  queueDir: string
  mailDir: string
  /** Postfix's own log (maillog_file). */
  logFile: string
  pid: number
  process: ServiceProcess
  /** Complete messages in a mailbox (local part), oldest first by file name. */
  mailbox(localPart: string): Promise<MaildirMessage[]>
  /** Polls until the mailbox holds at least n messages (default 30 s). */
  waitForMailbox(localPart: string, n: number, timeoutMs?: number): Promise<MaildirMessage[]>
  /** `postqueue -j`: every queue file, whatever its queue. */
  queue(): Promise<QueueEntry[]>
  /** `postqueue -f`: deliver the deferred mail now (forgets dead destinations). */
  flush(): Promise<void>
  /** The log so far. */
  log(): Promise<string>
  stop(): Promise<void>
}

/** Parses a maildir file (header fields up to the first empty line). */
export function parseMaildirMessage(text: string, file = ''): MaildirMessage {
  const lf = text.replace(/\r\n/g, '\n')
  const end = lf.indexOf('\n\n')
  const head = end < 0 ? lf : lf.slice(0, end)
  const headerList: Array<{ name: string; value: string }> = []
  for (const line of head.split('\n')) {
    if (/^[ \t]/.test(line) && headerList.length) headerList[headerList.length - 1].value += '\n' + line
    else {
      const c = line.indexOf(':')
      if (c > 0) headerList.push({ name: line.slice(0, c), value: line.slice(c + 1).trim() })
    }
  }
  const headers = (name: string) =>
    headerList.filter((h) => h.name.toLowerCase() === name.toLowerCase()).map((h) => h.value)
  return {
    file,
    data: lf,
    headerList,
    header: (name) => headers(name)[0],
    headers,
    body: end < 0 ? '' : lf.slice(end + 2),
  }
}

function greets(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port })
    const timer = setTimeout(() => {
      s.destroy()
      resolve(false)
    }, 1000)
    s.once('data', (d: Buffer) => {
      clearTimeout(timer)
      s.end('QUIT\r\n')
      resolve(d.toString('latin1').startsWith('220'))
    })
    s.once('error', () => {
      clearTimeout(timer)
      resolve(false)
    })
  })
}

/** The services every Postfix needs, none chrooted (the temp dir is not a chroot jail). */
const BASE_MASTER_CF = `pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
`

function mainCf(dir: string, o: Required<Pick<PostfixOptions, 'myhostname' | 'domain' | 'mailboxes'>>): string {
  const boxes = o.mailboxes.map((m) => `${m}@${o.domain}=${m}/`).join(', ')
  return `# private test instance (test/harness/postfix.ts)
compatibility_level = 3.6
queue_directory = ${dir}/queue
data_directory = ${dir}/data
mail_owner = postfix
setgid_group = postdrop
maillog_file = ${dir}/maillog
maillog_file_prefixes = ${dir}
myhostname = ${o.myhostname}
mydomain = ${o.domain}
myorigin = ${o.domain}
mydestination =
relay_domains =
relayhost =
inet_interfaces = 127.0.0.1, [::1]
inet_protocols = all
mynetworks = 127.0.0.0/8 [::1]/128
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
alias_maps =
alias_database =
local_recipient_maps =
virtual_mailbox_domains = ${o.domain}
virtual_mailbox_base = ${dir}/mail
virtual_mailbox_maps = inline:{ ${boxes} }
virtual_uid_maps = static:${NOBODY}
virtual_gid_maps = static:${NOBODY}
smtp_host_lookup = native
smtp_dns_support_level = disabled
in_flow_delay = 0s
biff = no
`
}

export async function startPostfix(t: Owner | null, opts: PostfixOptions = {}): Promise<Postfix> {
  if (userInfo().uid !== 0) {
    throw new VigilError(
      ErrorCode.HARNESS_START,
      'postfix: a private Postfix master needs root (it switches to mail_owner)',
    )
  }
  const postfixBin = 'postfix'
  const daemonDir =
    runCommandSync('postconf', ['-d', '-h', 'daemon_directory']).stdout.trim() || '/usr/lib/postfix/sbin'
  const scope = childScope(t)
  try {
    const dir = await tmpDir(scope, 'postfix')
    const configDir = join(dir, 'etc')
    const queueDir = join(dir, 'queue')
    const mailDir = join(dir, 'mail')
    const logFile = join(dir, 'maillog')
    const domain = opts.domain ?? 'vigil.test'
    const mailboxes = opts.mailboxes ?? ['rcpt', 'sender', 'postmaster']
    await mkdir(configDir)
    await mkdir(queueDir, { mode: 0o755 })
    await mkdir(join(dir, 'data'), { mode: 0o700 })
    await chown(join(dir, 'data'), ...postfixIds())
    await mkdir(mailDir, { mode: 0o755 })
    await chown(mailDir, NOBODY, NOBODY)
    const port = opts.port ?? (await freePort())
    const main = mainCf(dir, { myhostname: opts.myhostname ?? 'mx.vigil.test', domain, mailboxes })
    const publicLine =
      opts.publicSmtpd === false ? '' : `${port}      inet  n       -       n       -       -       smtpd\n`
    await writeFile(join(configDir, 'main.cf'), main + (opts.mainCf ? `\n${opts.mainCf.trimEnd()}\n` : ''))
    await writeFile(join(configDir, 'master.cf'), publicLine + BASE_MASTER_CF + (opts.masterCf ?? ''))

    const check = await runCommand(postfixBin, ['-c', configDir, 'check'], { pkg: 'postfix' })
    if (check.code !== 0) {
      throw new VigilError(
        ErrorCode.HARNESS_START,
        `postfix -c ${configDir} check failed (${check.code}): ${check.stderr}${await readFile(logFile, 'utf8').catch(() => '')}`,
      )
    }
    const proc = await spawnService({
      t: scope,
      name: 'postfix master',
      cmd: join(daemonDir, 'master'),
      args: ['-c', configDir, '-d'],
      cwd: dir,
      pkg: 'postfix',
      logFile: join(dir, 'master.out'),
      extraLogFiles: [logFile],
      readyTimeoutMs: 20_000,
      ready: () => greets('127.0.0.1', port),
    })

    const postqueue = async (args: string[]) => {
      const r = await runCommand('postqueue', ['-c', configDir, ...args], { pkg: 'postfix' })
      if (r.code !== 0) throw new Error(`postqueue ${args.join(' ')} failed (${r.code}): ${r.stderr}`)
      return r.stdout
    }
    const mailbox = async (localPart: string): Promise<MaildirMessage[]> => {
      const out: MaildirMessage[] = []
      for (const sub of ['new', 'cur']) {
        const d = join(mailDir, localPart, sub)
        const names = (await readdir(d).catch(() => [] as string[])).sort()
        for (const n of names) out.push(parseMaildirMessage(await readFile(join(d, n), 'utf8'), join(d, n)))
      }
      return out
    }
    return {
      host: '127.0.0.1',
      port,
      domain,
      dir,
      configDir,
      queueDir,
      mailDir,
      logFile,
      pid: proc.pid,
      process: proc,
      mailbox,
      waitForMailbox: async (localPart, n, timeoutMs = 30_000) => {
        await waitFor(async () => (await mailbox(localPart)).length >= n, {
          timeoutMs,
          intervalMs: 100,
          what: `${n} messages in maildir ${localPart}`,
        })
        return mailbox(localPart)
      },
      queue: async () =>
        (await postqueue(['-j']))
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as QueueEntry),
      flush: async () => {
        await postqueue(['-f'])
      },
      log: () => readFile(logFile, 'utf8').catch(() => ''),
      stop: () => scope.close(),
    }
  } catch (err) {
    await scope.close().catch(() => {})
    throw err
  }
}

/** uid and gid of the `postfix` account (mail_owner), which owns data_directory. */
function postfixIds(): [number, number] {
  const r = runCommandSync('id', ['-u', 'postfix'])
  const g = runCommandSync('id', ['-g', 'postfix'])
  const uid = Number(r.stdout.trim())
  const gid = Number(g.stdout.trim())
  if (r.code !== 0 || !Number.isInteger(uid)) {
    throw new VigilError(
      ErrorCode.HARNESS_MISSING,
      'postfix: no `postfix` account: run scripts/provision.sh (Debian package postfix)',
    )
  }
  return [uid, gid]
}
