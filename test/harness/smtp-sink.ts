// Postfix's real smtp-sink as the next-hop MTA, capturing every message to a file.
// Each transaction is dumped with `-d <dir>/mail/%Y%m%d%H%M%S.` (one file per message; see
// smtp-sink(1) "DUMP FILE FORMAT": X-Client-Addr, X-Client-Proto, X-Helo-Args, X-Mail-Args,
// X-Rcpt-Args..., a 3-line Received header, the message as received (LF line ends), an empty line).
import { connect } from 'node:net'
import { chown, mkdir, readdir, readFile, readlink, stat } from 'node:fs/promises'
import { userInfo } from 'node:os'
import { join } from 'node:path'
import { freePort } from './ports.ts'
import { spawnService, type ServiceProcess } from './process.ts'
import { childScope, tmpDir, type Owner } from './tmp.ts'

export interface ReceivedMail {
  /** Envelope sender without <> ('' for the null sender). */
  mailFrom: string
  /** Envelope recipients without <>, in RCPT order. */
  rcpts: string[]
  /** Raw X-Mail-Args (e.g. "<a@b> SIZE=123 BODY=8BITMIME"). */
  mailArgs: string
  /** Raw X-Rcpt-Args, one per RCPT. */
  rcptArgs: string[]
  /** Client address as smtp-sink saw it ("127.0.0.1", "ipv6:::1"). */
  clientAddr: string
  /** SMTP, ESMTP or LMTP. */
  proto: string
  helo: string
  /** The message (header + body) as received, dot-unstuffed, lines ending in LF. */
  data: Buffer
  /** Same with CRLF line ends (what the client sent, modulo bare LF/CR). */
  dataCrlf: Buffer
  /** Header fields in order, unfolded (continuation lines joined with their original whitespace). */
  headerList: Array<{ name: string; value: string }>
  /** Lower-cased header name → values in order. */
  headers: Record<string, string[]>
  /** First value of a header, case-insensitive. */
  header(name: string): string | undefined
  body: Buffer
  /** The dump file it was parsed from. */
  file: string
}

export interface SmtpSinkOptions {
  /** Default: a free port. */
  port?: number
  /** Default 127.0.0.1; '::1' listens on IPv6 loopback only. */
  host?: string
  /** Shorthand for host: '::1'. */
  ipv6?: boolean
  /** Listen on a unix socket in the temp dir instead of TCP (`socketPath`; port is then 0). */
  unixSocket?: boolean
  /** Speak LMTP instead of SMTP (-L). */
  lmtp?: boolean
  /** Commands to reject with 5xx (-f), e.g. 'RCPT' or '.,RCPT' ('.' = end of DATA). */
  reject?: string
  /** Commands to reject with 4xx (-r), e.g. '.' to tempfail every message. */
  tempfail?: string
  /** Commands after which smtp-sink answers 421 and disconnects (-Q). */
  reply421?: string
  /** Commands after which smtp-sink disconnects without a reply (-q). */
  disconnect?: string
  /** Reply for soft rejects (-b), default "450 4.3.0 Error: command failed". */
  softReply?: string
  /** Reply for hard rejects (-B), default "500 5.3.0 Error: command failed". */
  hardReply?: string
  /** Seconds to wait before answering DATA (-w). */
  dataDelaySecs?: number
  /** Per-command waits (-W command:delay[:odds]). */
  commandDelays?: string[]
  /** Greeting/EHLO host name (-h), default "smtp-sink". */
  hostname?: string
  /** Don't announce XFORWARD (-F). */
  noXforward?: boolean
  /** Don't announce PIPELINING (-p). */
  noPipelining?: boolean
  /** Extra raw smtp-sink options. */
  args?: string[]
}

export interface SmtpSink {
  host: string
  port: number
  /** With unixSocket: the socket path (e.g. for forward_method `lmtp:unix:/path`). */
  socketPath?: string
  dir: string
  /** Directory of the dump files. */
  mailDir: string
  pid: number
  process: ServiceProcess
  /**
   * Every message the sink accepted, oldest first. smtp-sink dumps a transaction even when it
   * then rejects it, so a sink configured to reject/tempfail/drop at '.' or DATA accepts nothing.
   */
  messages(): Promise<ReceivedMail[]>
  /** Every completely dumped transaction, including ones smtp-sink then rejected. */
  attempts(): Promise<ReceivedMail[]>
  /** Number of completely received messages. */
  count(): Promise<number>
  /** Polls until at least n messages arrived (default timeout 20 s); returns them. */
  waitForMessages(n: number, timeoutMs?: number): Promise<ReceivedMail[]>
  stop(): Promise<void>
}

function stripAngles(s: string): string {
  const m = /^<([^>]*)>/.exec(s.trim())
  return m ? m[1] : (s.trim().split(/\s+/)[0] ?? '')
}

/** Parses one smtp-sink -d dump file; null when the transaction is not complete yet. */
export function parseSinkDump(buf: Buffer, file = ''): ReceivedMail | null {
  // A finished dump ends with the message's last LF plus the empty line smtp-sink adds.
  if (buf.length < 2 || buf[buf.length - 1] !== 0x0a || buf[buf.length - 2] !== 0x0a) return null
  let pos = 0
  const meta: Array<[string, string]> = []
  const nextLine = (): string | null => {
    const nl = buf.indexOf(0x0a, pos)
    if (nl < 0) return null
    const line = buf.toString('latin1', pos, nl)
    pos = nl + 1
    return line
  }
  // smtp-sink headers up to and including the 3-line Received header.
  for (;;) {
    const line = nextLine()
    if (line === null) return null
    if (line.startsWith('Received: ')) {
      // two continuation lines
      for (let i = 0; i < 2; i++) {
        const save = pos
        const cont = nextLine()
        if (cont === null || !/^\s/.test(cont)) {
          pos = save
          break
        }
      }
      break
    }
    const m = /^(X-[A-Za-z-]+): ?(.*)$/.exec(line)
    if (!m) return null
    meta.push([m[1], m[2]])
  }
  const data = buf.subarray(pos, buf.length - 1)
  const get = (k: string): string[] => meta.filter(([n]) => n === k).map(([, v]) => v)
  const mailArgs = get('X-Mail-Args')[0] ?? ''
  const rcptArgs = get('X-Rcpt-Args')

  // Message header fields.
  const text = data.toString('latin1')
  let headerEnd = text.indexOf('\n\n')
  const headerText = headerEnd < 0 ? text : text.slice(0, headerEnd + 1)
  const bodyStart = headerEnd < 0 ? data.length : headerEnd + 2
  const headerList: Array<{ name: string; value: string }> = []
  for (const line of headerText.split('\n')) {
    if (line === '') continue
    if (/^[ \t]/.test(line) && headerList.length) headerList[headerList.length - 1].value += '\n' + line
    else {
      const c = line.indexOf(':')
      if (c <= 0) continue
      headerList.push({ name: line.slice(0, c), value: line.slice(c + 1).replace(/^ /, '') })
    }
  }
  const headers: Record<string, string[]> = {}
  for (const h of headerList) (headers[h.name.toLowerCase()] ??= []).push(h.value)
  headerEnd = bodyStart
  return {
    mailFrom: stripAngles(mailArgs),
    rcpts: rcptArgs.map(stripAngles),
    mailArgs,
    rcptArgs,
    clientAddr: get('X-Client-Addr')[0] ?? '',
    proto: get('X-Client-Proto')[0] ?? '',
    helo: get('X-Helo-Args')[0] ?? '',
    data,
    get dataCrlf() {
      return Buffer.from(text.replace(/\r?\n/g, '\r\n'), 'latin1')
    },
    headerList,
    headers,
    header: (name: string) => headers[name.toLowerCase()]?.[0],
    body: data.subarray(headerEnd),
    file,
  }
}

function greets(target: { host: string; port: number } | { path: string }): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(target)
    const timer = setTimeout(() => {
      s.destroy()
      resolve(false)
    }, 1000)
    s.once('data', (d: Buffer) => {
      clearTimeout(timer)
      s.end('QUIT\r\n')
      s.destroy()
      resolve(d.toString('latin1').startsWith('220'))
    })
    s.once('error', () => {
      clearTimeout(timer)
      resolve(false)
    })
  })
}

export async function startSmtpSink(t: Owner | null, opts: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const scope = childScope(t)
  try {
    const dir = await tmpDir(scope, 'smtp-sink')
    const mailDir = join(dir, 'mail')
    await mkdir(mailDir, { mode: 0o777 })
    const host = opts.host ?? (opts.ipv6 ? '::1' : '127.0.0.1')
    const socketPath = opts.unixSocket ? join(dir, 'sink.sock') : undefined
    const port = socketPath ? 0 : (opts.port ?? (await freePort(host)))
    const args: string[] = []
    // As root smtp-sink insists on dropping privileges (-u); the dump dir must be writable by that user.
    if (userInfo().uid === 0) {
      args.push('-u', 'nobody')
      await chown(mailDir, 65534, 65534).catch(() => {})
    }
    if (!socketPath) args.push(host.includes(':') ? '-6' : '-4')
    if (opts.lmtp) args.push('-L')
    if (opts.reject) args.push('-f', opts.reject)
    if (opts.tempfail) args.push('-r', opts.tempfail)
    if (opts.reply421) args.push('-Q', opts.reply421)
    if (opts.disconnect) args.push('-q', opts.disconnect)
    if (opts.softReply) args.push('-b', opts.softReply)
    if (opts.hardReply) args.push('-B', opts.hardReply)
    if (opts.dataDelaySecs !== undefined) args.push('-w', String(opts.dataDelaySecs))
    for (const w of opts.commandDelays ?? []) args.push('-W', w)
    if (opts.hostname) args.push('-h', opts.hostname)
    if (opts.noXforward) args.push('-F')
    if (opts.noPipelining) args.push('-p')
    args.push(...(opts.args ?? []))
    args.push('-d', join(mailDir, '%Y%m%d%H%M%S.'))
    const listen = socketPath
      ? `unix:${socketPath}`
      : host.includes(':')
        ? `inet:[${host}]:${port}`
        : `inet:${host}:${port}`
    args.push(listen, '64')
    const proc = await spawnService({
      t: scope,
      name: 'smtp-sink',
      cmd: 'smtp-sink',
      args,
      cwd: dir,
      logFile: join(dir, 'smtp-sink.log'),
      readyTimeoutMs: 15_000,
      ready: () => greets(socketPath ? { path: socketPath } : { host, port }),
    })

    // Files smtp-sink still holds open belong to transactions in progress.
    const openFiles = async (): Promise<Set<string>> => {
      const out = new Set<string>()
      const fds = await readdir(`/proc/${proc.pid}/fd`).catch(() => [] as string[])
      for (const fd of fds) {
        const target = await readlink(`/proc/${proc.pid}/fd/${fd}`).catch(() => '')
        if (target.startsWith(mailDir)) out.add(target)
      }
      return out
    }
    // Parsed dumps by file name; a finished dump never changes, so it is parsed once.
    const cache = new Map<string, { size: bigint; mtime: bigint; m: ReceivedMail }>()
    const messages = async (): Promise<ReceivedMail[]> => {
      const busy = await openFiles()
      const names = await readdir(mailDir).catch(() => [] as string[])
      const items: Array<{ m: ReceivedMail; mtime: bigint; name: string }> = []
      for (const name of names) {
        const file = join(mailDir, name)
        if (busy.has(file)) continue
        try {
          const st = await stat(file, { bigint: true })
          let hit = cache.get(name)
          if (!hit || hit.size !== st.size || hit.mtime !== st.mtimeNs) {
            const m = parseSinkDump(await readFile(file), file)
            if (!m) continue
            hit = { size: st.size, mtime: st.mtimeNs, m }
            cache.set(name, hit)
          }
          items.push({ m: hit.m, mtime: hit.mtime, name })
        } catch {}
      }
      items.sort((a, b) => (a.mtime < b.mtime ? -1 : a.mtime > b.mtime ? 1 : a.name.localeCompare(b.name)))
      return items.map((i) => i.m)
    }
    const refusesData = [opts.reject, opts.tempfail, opts.reply421, opts.disconnect].some((list) =>
      (list ?? '').split(/[\s,]+/).some((c) => c === '.' || c.toUpperCase() === 'DATA'),
    )
    const attempts = messages
    const accepted = async (): Promise<ReceivedMail[]> => (refusesData ? [] : attempts())
    const count = async (): Promise<number> => (await accepted()).length
    const waitForMessages = async (n: number, timeoutMs = 20_000): Promise<ReceivedMail[]> => {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const ms = await accepted()
        if (ms.length >= n) return ms
        if (Date.now() > deadline)
          throw new Error(
            `smtp-sink on ${host}:${port}: expected ${n} message(s), got ${ms.length} within ${timeoutMs} ms`,
          )
        await new Promise((r) => setTimeout(r, 50))
      }
    }
    return {
      host,
      port,
      socketPath,
      dir,
      mailDir,
      pid: proc.pid,
      process: proc,
      messages: accepted,
      attempts,
      count,
      waitForMessages,
      stop: () => scope.close(),
    }
  } catch (err) {
    await scope.close().catch(() => {})
    throw err
  }
}
