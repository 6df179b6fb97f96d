// A minimal SMTP/LMTP client on a raw socket, for tests that must send one specific message and
// see every reply (multi-line replies handled). No pipelining, no TLS, no AUTH.
import { connect, type Socket } from 'node:net'

export interface SmtpReply {
  code: number
  /** Reply lines without the code and separator ("250-PIPELINING" -> "PIPELINING"). */
  lines: string[]
  /** The full reply as received, lines joined with "\n" ("250-a\n250 b"). */
  raw: string
  /** The enhanced status code of the last line, if any ("2.0.0"). */
  enhanced?: string
}

export interface SmtpConnection {
  readonly greeting: SmtpReply
  /** Every line sent ("C: ...") and received ("S: ..."), in order (message content is summarised). */
  readonly transcript: string[]
  readonly socket: Socket
  /** Sends `line` + CRLF and reads one reply. */
  command(line: string, timeoutMs?: number): Promise<SmtpReply>
  /** Writes raw bytes (no CRLF added, nothing read). */
  write(data: Buffer | string): void
  /** Reads the next reply. Rejects if the server closes the connection first or on timeout. */
  readReply(timeoutMs?: number): Promise<SmtpReply>
  /** True once the server (or we) closed the connection. */
  isClosed(): boolean
  /** Resolves when the connection is closed. */
  readonly closed: Promise<void>
  /** Sends QUIT (if still open), reads the 221 and closes. Never throws. */
  quit(): Promise<SmtpReply | null>
  /** Destroys the socket immediately. */
  destroy(): void
}

export interface OpenSmtpOptions {
  host?: string
  /** TCP port (ignored when `path` is given). */
  port: number
  /** Unix socket path instead of TCP (e.g. an LMTP socket). */
  path?: string
  /** Per-reply timeout (default 30 000 ms). */
  timeoutMs?: number
}

const REPLY_LINE = /^(\d{3})([ -])(.*)$|^(\d{3})$/

export function openSmtp(opts: OpenSmtpOptions): Promise<SmtpConnection> {
  const host = opts.host ?? '127.0.0.1'
  const defaultTimeout = opts.timeoutMs ?? 30_000
  return new Promise((resolveOpen, rejectOpen) => {
    const socket = opts.path ? connect({ path: opts.path }) : connect({ host, port: opts.port })
    const transcript: string[] = []
    let buf = ''
    let pending: string[] = []
    const replies: SmtpReply[] = []
    const waiters: Array<{ resolve: (r: SmtpReply) => void; reject: (e: Error) => void }> = []
    let closed = false
    let closeErr: Error | null = null
    let resolveClosed!: () => void
    const closedP = new Promise<void>((r) => (resolveClosed = r))

    const deliver = (r: SmtpReply): void => {
      const w = waiters.shift()
      if (w) w.resolve(r)
      else replies.push(r)
    }
    socket.setNoDelay(true)
    socket.on('data', (d: Buffer) => {
      buf += d.toString('latin1')
      let nl: number
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).replace(/\r$/, '')
        buf = buf.slice(nl + 1)
        transcript.push(`S: ${line}`)
        const m = REPLY_LINE.exec(line)
        if (!m) {
          pending.push(line) // garbage line: keep it in the next reply's raw text
          continue
        }
        pending.push(line)
        if (m[2] === '-') continue
        const code = Number(m[1] ?? m[4])
        const lines = pending.map((l) => l.slice(4))
        const last = lines[lines.length - 1] ?? ''
        const enh = /^([245]\.\d{1,3}\.\d{1,3})\b/.exec(last)
        deliver({ code, lines, raw: pending.join('\n'), enhanced: enh?.[1] })
        pending = []
      }
    })
    const onClose = (err?: Error): void => {
      if (closed) return
      closed = true
      closeErr = err ?? new Error(`SMTP ${host}:${opts.port}: connection closed by server`)
      while (waiters.length) waiters.shift()!.reject(closeErr)
      resolveClosed()
    }
    socket.on('error', (e) => onClose(new Error(`SMTP ${host}:${opts.port}: ${e.message}`)))
    socket.on('close', () => onClose())

    const readReply = (timeoutMs = defaultTimeout): Promise<SmtpReply> => {
      const ready = replies.shift()
      if (ready) return Promise.resolve(ready)
      if (closed) return Promise.reject(closeErr)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          const i = waiters.indexOf(w)
          if (i >= 0) waiters.splice(i, 1)
          reject(
            new Error(
              `SMTP ${host}:${opts.port}: no reply within ${timeoutMs} ms\n${transcript.slice(-10).join('\n')}`,
            ),
          )
        }, timeoutMs)
        const w = {
          resolve: (r: SmtpReply) => {
            clearTimeout(timer)
            resolve(r)
          },
          reject: (e: Error) => {
            clearTimeout(timer)
            reject(e)
          },
        }
        waiters.push(w)
      })
    }
    const write = (data: Buffer | string): void => {
      if (!closed) socket.write(data)
    }
    const command = (line: string, timeoutMs?: number): Promise<SmtpReply> => {
      transcript.push(`C: ${line}`)
      write(line + '\r\n')
      return readReply(timeoutMs)
    }
    const conn = (greeting: SmtpReply): SmtpConnection => ({
      greeting,
      transcript,
      socket,
      command,
      write,
      readReply,
      isClosed: () => closed,
      closed: closedP,
      async quit() {
        if (closed) return null
        try {
          return await command('QUIT', 5000)
        } catch {
          return null
        } finally {
          socket.destroy()
        }
      },
      destroy: () => socket.destroy(),
    })
    socket.once('connect', () => {
      readReply().then(
        (g) => resolveOpen(conn(g)),
        (e: Error) => {
          socket.destroy()
          rejectOpen(e)
        },
      )
    })
    socket.once('error', (e) => rejectOpen(new Error(`SMTP ${host}:${opts.port}: ${e.message}`)))
  })
}

/**
 * Message bytes for DATA: line endings normalised to CRLF, lines starting with "." dot-stuffed,
 * a final CRLF ensured, and the ".\r\n" terminator appended.
 */
export function encodeData(data: Buffer | string): Buffer {
  const text = Buffer.isBuffer(data) ? data.toString('latin1') : Buffer.from(data, 'utf8').toString('latin1')
  let body = text.replace(/\r?\n/g, '\r\n')
  if (body.length && !body.endsWith('\r\n')) body += '\r\n'
  body = body.replace(/^\./gm, '..')
  return Buffer.from(body + '.\r\n', 'latin1')
}

export interface SendMailOptions {
  host?: string
  /** TCP port (ignored when `path` is given; pass 0). */
  port: number
  /** Unix socket path instead of TCP. */
  path?: string
  from: string
  to: string[]
  data: Buffer | string
  /** EHLO/LHLO name (default "localhost"). */
  helo?: string
  lmtp?: boolean
  /** XFORWARD attributes (NAME, ADDR, PORT, PROTO, HELO, IDENT, SOURCE); sent only if advertised. */
  xforward?: Record<string, string>
  /** Extra MAIL FROM parameters, e.g. "BODY=8BITMIME SIZE=1234". */
  mailParams?: string
  /** Extra RCPT TO parameters, e.g. "NOTIFY=NEVER". */
  rcptParams?: string
  /** Send `data` exactly as given (caller did CRLF, dot-stuffing and the terminator). */
  raw?: boolean
  /** Per-reply timeout (default 60 000 ms: content checks can be slow under load). */
  timeoutMs?: number
}

export interface SendMailResult {
  /** SMTP: the reply to the end of DATA is 2xx. LMTP: every per-recipient reply is 2xx. */
  accepted: boolean
  /** Code of the last reply of the transaction (the one that decided it). 0 when none. */
  finalCode: number
  finalReply: SmtpReply | null
  /** Every server reply (raw, multi-line joined with "\n"), greeting included. */
  replies: string[]
  /** Capabilities from the EHLO/LHLO reply (upper-cased keywords with their args). */
  capabilities: string[]
  rcptReplies: SmtpReply[]
  /** Recipients whose RCPT got 2xx. */
  acceptedRcpts: string[]
  /** SMTP: the one end-of-data reply. LMTP: one per accepted recipient. */
  dataReplies: SmtpReply[]
  /** Where the transaction ended. */
  stage: 'greeting' | 'helo' | 'xforward' | 'mail' | 'rcpt' | 'data' | 'dot' | 'done'
  xforwardSent: boolean
  transcript: string[]
  /** Set when the connection broke or timed out (accepted is then false). */
  error?: string
}

/** Sends one message over a fresh connection and reports every reply. Never throws for SMTP failures. */
export async function sendMail(opts: SendMailOptions): Promise<SendMailResult> {
  const res: SendMailResult = {
    accepted: false,
    finalCode: 0,
    finalReply: null,
    replies: [],
    capabilities: [],
    rcptReplies: [],
    acceptedRcpts: [],
    dataReplies: [],
    stage: 'greeting',
    xforwardSent: false,
    transcript: [],
  }
  const timeoutMs = opts.timeoutMs ?? 60_000
  let conn: SmtpConnection
  try {
    conn = await openSmtp({ host: opts.host, port: opts.port, path: opts.path, timeoutMs })
  } catch (e) {
    res.error = (e as Error).message
    return res
  }
  res.transcript = conn.transcript as string[]
  const note = (r: SmtpReply): SmtpReply => {
    res.replies.push(r.raw)
    res.finalCode = r.code
    res.finalReply = r
    return r
  }
  try {
    note(conn.greeting)
    if (conn.greeting.code !== 220) return res
    res.stage = 'helo'
    const helo = opts.helo ?? 'localhost'
    let r = note(await conn.command(`${opts.lmtp ? 'LHLO' : 'EHLO'} ${helo}`))
    if (r.code >= 500 && !opts.lmtp) r = note(await conn.command(`HELO ${helo}`))
    else res.capabilities = r.lines.slice(1).map((l) => l.toUpperCase())
    if (r.code !== 250) return res
    if (opts.xforward && Object.keys(opts.xforward).length) {
      res.stage = 'xforward'
      if (res.capabilities.some((c) => c.startsWith('XFORWARD'))) {
        const attrs = Object.entries(opts.xforward).map(([k, v]) => `${k.toUpperCase()}=${v}`)
        r = note(await conn.command(`XFORWARD ${attrs.join(' ')}`))
        res.xforwardSent = true
        if (r.code !== 250) return res
      }
    }
    res.stage = 'mail'
    r = note(await conn.command(`MAIL FROM:<${opts.from}>${opts.mailParams ? ' ' + opts.mailParams : ''}`))
    if (r.code !== 250) return res
    res.stage = 'rcpt'
    for (const rcpt of opts.to) {
      r = note(await conn.command(`RCPT TO:<${rcpt}>${opts.rcptParams ? ' ' + opts.rcptParams : ''}`))
      res.rcptReplies.push(r)
      if (r.code >= 200 && r.code < 300) res.acceptedRcpts.push(rcpt)
    }
    if (res.acceptedRcpts.length === 0) return res
    res.stage = 'data'
    r = note(await conn.command('DATA'))
    if (r.code !== 354) return res
    res.stage = 'dot'
    const bytes = opts.raw ? (Buffer.isBuffer(opts.data) ? opts.data : Buffer.from(opts.data)) : encodeData(opts.data)
    conn.transcript.push(`C: <message, ${bytes.length} bytes>`)
    conn.write(bytes)
    const n = opts.lmtp ? res.acceptedRcpts.length : 1
    for (let i = 0; i < n; i++) res.dataReplies.push(note(await conn.readReply(timeoutMs)))
    res.accepted = res.dataReplies.every((d) => d.code >= 200 && d.code < 300)
    res.stage = 'done'
    return res
  } catch (e) {
    res.error = (e as Error).message
    res.accepted = false
    return res
  } finally {
    await conn.quit()
  }
}
