// A private spamd: local tests only (no DNS/network), no user config, private site config and
// home; rules come from the Debian package (/usr/share/spamassassin), never from a sa-update run.
import { copyFile, mkdir, readdir, writeFile } from 'node:fs/promises'
import { userInfo } from 'node:os'
import { join } from 'node:path'
import { freePort } from './ports.ts'
import { runCommand, spawnService, type ServiceProcess } from './process.ts'
import { streamRequest } from './stream-request.ts'
import { childScope, tmpDir, type Owner } from './tmp.ts'

export interface SpamdCheckResult {
  isSpam: boolean
  score: number
  threshold: number
  /** Rule names hit (SYMBOLS). */
  symbols: string[]
  /** Raw response (headers + body). */
  raw: string
}

export interface SpamdInstance {
  host: string
  port: number
  /** `127.0.0.1:PORT`, ready for the filter's `spamd_address`. */
  address: string
  dir: string
  pid: number
  process: ServiceProcess
  /** SYMBOLS request over the spamc protocol (SPAMC/1.5) on a raw socket. */
  check(message: Buffer | string): Promise<SpamdCheckResult>
  /** Runs the real `spamc` client against this spamd with extra args (e.g. ['-c'] or ['-R']). */
  spamc(args: string[], message: Buffer | string): Promise<{ code: number | null; stdout: string; stderr: string }>
  stop(): Promise<void>
}

export interface StartSpamdOptions {
  /** Extra local.cf lines (e.g. 'required_score 3'). */
  config?: string[]
  /**
   * Allow network tests (no -L): with `dns_available yes` and `dns_server 127.0.0.1:PORT` in
   * config, DNS-based checks such as the DKIM plugin ask a private DNS server (test/harness/dns.ts).
   */
  network?: boolean
}

/** One spamc-protocol request; resolves with the whole response. */
export async function spamdRequest(
  host: string,
  port: number,
  method: string,
  message: Buffer | null,
  timeoutMs = 60_000,
): Promise<string> {
  const head = message
    ? `${method} SPAMC/1.5\r\nContent-length: ${message.length}\r\nUser: vigil\r\n\r\n`
    : `${method} SPAMC/1.5\r\n\r\n`
  const reply = await streamRequest(
    { host, port },
    message ? [head, message] : [head],
    timeoutMs,
    () => new Error(`spamd ${host}:${port}: no reply to ${method} within ${timeoutMs} ms`),
  )
  return reply.toString('utf8')
}

/** Parses a SYMBOLS/CHECK response ("Spam: True ; 1000.0 / 5.0"). */
export function parseSpamdResponse(raw: string): SpamdCheckResult {
  const status = /^SPAMD\/\d\.\d+ (\d+) (.*)$/m.exec(raw)
  if (!status || status[1] !== '0') throw new Error(`spamd error response: ${raw.split('\r\n')[0]}`)
  const m = /^Spam: (True|False|Yes|No) ; (-?[\d.]+) \/ (-?[\d.]+)/im.exec(raw)
  if (!m) throw new Error(`spamd response without a Spam: header: ${raw.slice(0, 200)}`)
  const sep = raw.indexOf('\r\n\r\n')
  const body = sep >= 0 ? raw.slice(sep + 4).trim() : ''
  return {
    isSpam: /^(true|yes)$/i.test(m[1]),
    score: Number(m[2]),
    threshold: Number(m[3]),
    symbols: body
      ? body
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : [],
    raw,
  }
}

export async function startSpamd(t: Owner | null, opts: StartSpamdOptions = {}): Promise<SpamdInstance> {
  const scope = childScope(t)
  try {
    const dir = await tmpDir(scope, 'spamd')
    const site = join(dir, 'site')
    const home = join(dir, 'home')
    await mkdir(site, { mode: 0o755 })
    await mkdir(home, { mode: 0o777 })
    // Plugin loading (.pre files) as packaged; our own local.cf instead of /etc's.
    for (const f of await readdir('/etc/spamassassin').catch(() => [] as string[])) {
      if (f.endsWith('.pre')) await copyFile(join('/etc/spamassassin', f), join(site, f))
    }
    await writeFile(
      join(site, 'local.cf'),
      [
        'use_bayes 0',
        'bayes_auto_learn 0',
        'skip_rbl_checks 1',
        'dns_available no',
        'use_razor2 0',
        'use_pyzor 0',
        'required_score 5.0',
        ...(opts.config ?? []),
      ].join('\n') + '\n',
    )
    const host = '127.0.0.1'
    const port = await freePort(host)
    const args = [
      ...(opts.network ? [] : ['-L']),
      '-x',
      `--listen=${host}:${port}`,
      `--siteconfigpath=${site}`,
      '-H',
      home,
      `--pidfile=${join(dir, 'spamd.pid')}`,
      '-s',
      'stderr',
      '-m',
      '2',
      '--min-children=1',
      '--min-spare=1',
      '--max-spare=1',
    ]
    // As root spamd drops to a user; the Debian package created debian-spamd.
    if (userInfo().uid === 0) args.push('-u', 'debian-spamd')
    const proc = await spawnService({
      t: scope,
      name: 'spamd',
      cmd: 'spamd',
      args,
      cwd: dir,
      env: { ...process.env, HOME: home },
      logFile: join(dir, 'spamd.log'),
      readyTimeoutMs: 90_000,
      ready: async () => /^SPAMD\/[\d.]+ 0 PONG/.test(await spamdRequest(host, port, 'PING', null, 2000)),
    })
    return {
      host,
      port,
      address: `${host}:${port}`,
      dir,
      pid: proc.pid,
      process: proc,
      check: async (message) =>
        parseSpamdResponse(
          await spamdRequest(host, port, 'SYMBOLS', Buffer.isBuffer(message) ? message : Buffer.from(message, 'utf8')),
        ),
      spamc: (extra, message) =>
        runCommand('spamc', ['-d', host, '-p', String(port), ...extra], { input: message, timeoutMs: 60_000 }),
      stop: () => scope.close(),
    }
  } catch (err) {
    await scope.close().catch(() => {})
    throw err
  }
}
