// SMTP/LMTP client used to hand checked mail on (forward_method) and to submit DSNs and
// notifications (notify_method). PIPELINING when offered, XFORWARD and DSN parameters passed
// through when the next hop supports them, one connection reused across transactions (and, in a
// worker, across sessions). It never throws for a delivery problem: every recipient gets a reply (4xx synthesised
// on connection or protocol failure), so the caller can never mistake a failure for a 250.
import { connect, type Socket } from 'node:net'
import type { Readable } from 'node:stream'
import { xtextEncode } from '../smtp/address.ts'

export interface DeliveryMethod {
  protocol: 'smtp' | 'lmtp'
  host?: string
  port?: number
  path?: string
  /** The method string as configured, e.g. `smtp:[127.0.0.1]:10025`. */
  raw: string
}

export function parseDeliveryMethod(s: string): DeliveryMethod {
  const m = /^(smtp|lmtp):(?:\[([^\]]+)\]:(\d+)|([A-Za-z0-9.-]+):(\d+)|unix:(\/.+))$/.exec(s)
  if (!m) throw new Error(`bad delivery method ${JSON.stringify(s)}`)
  const protocol = m[1] as 'smtp' | 'lmtp'
  if (m[6]) return { protocol, path: m[6], raw: s }
  return { protocol, host: m[2] ?? m[4], port: Number(m[3] ?? m[5]), raw: s }
}

export interface Reply {
  code: number
  /** Whole reply, lines joined with a space after the code of the last line, e.g. `250 2.0.0 Ok: queued as X`. */
  text: string
  /** The raw lines of a multi-line reply. */
  lines?: string[]
}

export interface OutRecipient {
  address: string
  notify?: string
  orcpt?: string
}

export interface OutTransaction {
  mailFrom: string
  size: number
  body8bit?: boolean
  smtputf8?: boolean
  ret?: string
  envid?: string
  rcpts: OutRecipient[]
  xforward?: Record<string, string>
  /** Content pieces in order, already CRLF-terminated lines; dot-stuffing is done here. */
  content: () => (Buffer | Readable)[]
}

export interface CounterSink {
  count(name: string, n?: number, type?: 'C32' | 'C64'): void
}

export type ClientCounterEvent =
  'OutConnNew' | 'OutConnQuit' | 'OutConnTransact' | 'OutConnReuseRecent' | 'OutConnReuseFail'

export interface ClientOptions {
  heloName: string
  timeoutSecs?: number
  onEvent?: (e: ClientCounterEvent) => void
}

const tempfail = (why: string): Reply => ({ code: 451, text: `451 4.4.1 ${why}` })

/** Reads SMTP replies from a socket, one promise per reply. */
class ReplyReader {
  private buf = ''
  private lines: string[] = []
  private readonly ready: Reply[] = []
  private waiters: { resolve: (r: Reply) => void; reject: (e: Error) => void }[] = []
  private failure: Error | undefined

  feed(chunk: Buffer) {
    this.buf += chunk.toString('latin1')
    for (;;) {
      const lf = this.buf.indexOf('\n')
      if (lf < 0) break
      const line = this.buf.slice(0, lf).replace(/\r$/, '')
      this.buf = this.buf.slice(lf + 1)
      this.lines.push(line)
      if (line.length < 4 || line[3] !== '-') {
        const code = Number(line.slice(0, 3))
        const text = this.lines.length === 1 ? line : line.slice(0, 4) + this.lines.map((l) => l.slice(4)).join(' ')
        const lines = this.lines
        this.lines = []
        const r: Reply = {
          code: Number.isFinite(code) && code >= 200 && code < 600 ? code : 451,
          text: Buffer.from(text, 'latin1').toString('utf8'),
          lines,
        }
        const w = this.waiters.shift()
        if (w) w.resolve(r)
        else this.ready.push(r)
      }
    }
    if (this.buf.length > 65536) this.fail(new Error('reply line too long'))
  }
  fail(e: Error) {
    if (this.failure) return
    this.failure = e
    for (const w of this.waiters.splice(0)) w.reject(e)
  }
  next(timeoutMs: number): Promise<Reply> {
    const r = this.ready.shift()
    if (r) return Promise.resolve(r)
    if (this.failure) return Promise.reject(this.failure)
    return new Promise<Reply>((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== res)
        reject(new Error('timeout waiting for reply'))
      }, timeoutMs)
      const res = (x: Reply) => {
        clearTimeout(t)
        resolve(x)
      }
      this.waiters.push({
        resolve: res,
        reject: (e) => {
          clearTimeout(t)
          reject(e)
        },
      })
    })
  }
}

export class SmtpClient {
  readonly method: DeliveryMethod
  private readonly opts: ClientOptions
  private socket: Socket | undefined
  private reader: ReplyReader | undefined
  private ext = new Map<string, string>()
  private usable = false
  private lastUsed = 0
  /** Receives OutConn* events (the pipeline points it at the current message's counters). */
  onEvent: ((e: ClientCounterEvent) => void) | undefined

  constructor(method: DeliveryMethod | string, opts: ClientOptions) {
    this.method = typeof method === 'string' ? parseDeliveryMethod(method) : method
    this.opts = opts
    this.onEvent = opts.onEvent
  }

  private get timeoutMs() {
    return (this.opts.timeoutSecs ?? 120) * 1000
  }

  /** The extensions the next hop offered in its EHLO/LHLO reply. */
  get extensions(): ReadonlyMap<string, string> {
    return this.ext
  }

  private async open(): Promise<void> {
    const m = this.method
    const socket = m.path ? connect(m.path) : connect({ host: m.host!, port: m.port! })
    socket.setNoDelay(true)
    const reader = new ReplyReader()
    this.socket = socket
    this.reader = reader
    socket.on('data', (c: Buffer) => reader.feed(c))
    socket.on('error', (e) => reader.fail(e))
    socket.on('close', () => {
      this.usable = false
      reader.fail(new Error('connection closed by next hop'))
    })
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('connect timeout')), this.timeoutMs)
      socket.once('connect', () => {
        clearTimeout(t)
        resolve()
      })
      socket.once('error', (e) => {
        clearTimeout(t)
        reject(e)
      })
    })
    this.onEvent?.('OutConnNew')
    const greet = await reader.next(this.timeoutMs)
    if (greet.code !== 220) throw new ReplyError(greet)
    const hello = m.protocol === 'lmtp' ? 'LHLO' : 'EHLO'
    socket.write(`${hello} ${this.opts.heloName}\r\n`)
    let r = await reader.next(this.timeoutMs)
    if (r.code !== 250 && m.protocol === 'smtp') {
      socket.write(`HELO ${this.opts.heloName}\r\n`)
      r = await reader.next(this.timeoutMs)
    }
    if (r.code !== 250) throw new ReplyError(r)
    this.ext = parseExtensions(r.lines ?? [r.text])
    this.usable = true
  }

  /** Sends one transaction. Returns one final reply per recipient, in order. Never throws. */
  async send(tx: OutTransaction): Promise<Reply[]> {
    let reused = false
    try {
      if (this.usable && this.socket && !this.socket.destroyed) {
        reused = true
        this.onEvent?.('OutConnReuseRecent')
      } else {
        this.dispose()
        await this.open()
      }
      try {
        return await this.transaction(tx)
      } catch (e) {
        // A cached connection the next hop closed while idle: reconnect once (nothing was accepted).
        if (!reused || this.firstReplySeen) throw e
        this.onEvent?.('OutConnReuseFail')
        this.dispose()
        await this.open()
        return await this.transaction(tx)
      }
    } catch (e) {
      this.dispose()
      const why = e instanceof ReplyError ? e.reply.text : `${(e as Error).message}`
      if (e instanceof ReplyError && e.reply.code >= 500) return tx.rcpts.map(() => e.reply)
      return tx.rcpts.map(() => tempfail(`${this.method.raw}: ${why}`))
    }
  }

  private firstReplySeen = false

  /** Milliseconds since the last completed transaction (Infinity when none). */
  get idleMs(): number {
    return this.lastUsed ? Date.now() - this.lastUsed : Infinity
  }

  get isOpen(): boolean {
    return this.usable && !!this.socket && !this.socket.destroyed
  }

  private async transaction(tx: OutTransaction): Promise<Reply[]> {
    const s = this.socket!
    const reader = this.reader!
    // RFC 6531 §3.2: UTF-8 envelope addresses need a next hop that offers SMTPUTF8 (as Postfix's
    // smtp client, which bounces such mail with 5.6.7 rather than sending it). ASCII-only
    // envelopes are passed on without the parameter (headers may still carry UTF-8).
    const utf8Env = /[^\x00-\x7f]/.test(tx.mailFrom) || tx.rcpts.some((r) => /[^\x00-\x7f]/.test(r.address))
    if (tx.smtputf8 && utf8Env && !this.ext.has('SMTPUTF8'))
      return tx.rcpts.map(() => ({
        code: 553,
        text: `553 5.6.7 ${this.method.raw} does not support SMTPUTF8, required for this message's addresses`,
      }))
    const pipelining = this.ext.has('PIPELINING')
    const cmds: string[] = []
    // XFORWARD: only the attributes the next hop asked for, in commands below 512 bytes.
    const xfOffered = this.ext.get('XFORWARD')
    if (xfOffered !== undefined && tx.xforward && Object.keys(tx.xforward).length) {
      const allowed = new Set(xfOffered.toUpperCase().split(/\s+/))
      let cur = 'XFORWARD'
      for (const [k, v] of Object.entries(tx.xforward)) {
        if (!allowed.has(k)) continue
        const item = ` ${k}=${xtextEncode(v)}`
        if (cur.length + item.length > 500 && cur !== 'XFORWARD') {
          cmds.push(cur)
          cur = 'XFORWARD'
        }
        cur += item
      }
      if (cur !== 'XFORWARD') cmds.push(cur)
    }
    const nXf = cmds.length
    let mail = `MAIL FROM:<${tx.mailFrom}>`
    if (this.ext.has('SIZE')) mail += ` SIZE=${tx.size}`
    if (tx.body8bit && this.ext.has('8BITMIME')) mail += ' BODY=8BITMIME'
    if (tx.smtputf8 && this.ext.has('SMTPUTF8')) mail += ' SMTPUTF8'
    const dsn = this.ext.has('DSN')
    if (dsn && tx.ret) mail += ` RET=${tx.ret}`
    if (dsn && tx.envid) mail += ` ENVID=${xtextEncode(tx.envid)}`
    cmds.push(mail)
    for (const r of tx.rcpts) {
      let c = `RCPT TO:<${r.address}>`
      if (dsn && r.notify) c += ` NOTIFY=${r.notify}`
      if (dsn && r.orcpt) c += ` ORCPT=${xtextEncode(r.orcpt)}`
      cmds.push(c)
    }
    cmds.push('DATA')
    const replies: Reply[] = []
    this.firstReplySeen = false
    if (pipelining) {
      s.write(cmds.map((c) => c + '\r\n').join(''))
      for (let i = 0; i < cmds.length; i++) {
        replies.push(await reader.next(this.timeoutMs))
        this.firstReplySeen = true
      }
    } else {
      for (let i = 0; i < cmds.length; i++) {
        s.write(cmds[i] + '\r\n')
        const r = await reader.next(this.timeoutMs)
        this.firstReplySeen = true
        replies.push(r)
        if (i === nXf && r.code !== 250) break // MAIL failed: no point going on
        if (i === cmds.length - 2 && !replies.slice(nXf + 1).some((x) => x.code === 250)) break
      }
    }
    this.onEvent?.('OutConnTransact')
    const mailReply = replies[nXf]
    const rcptReplies = tx.rcpts.map((_, i) => replies[nXf + 1 + i])
    const dataReply = replies[nXf + 1 + tx.rcpts.length]
    if (!mailReply || mailReply.code !== 250) {
      if (dataReply && dataReply.code === 354) await this.sendDot()
      await this.rset()
      return tx.rcpts.map(() => mailReply ?? tempfail('no reply to MAIL'))
    }
    const accepted = rcptReplies.map((r) => r !== undefined && r.code >= 200 && r.code < 300)
    if (!dataReply || dataReply.code !== 354) {
      await this.rset()
      return tx.rcpts.map((_, i) =>
        accepted[i] ? (dataReply ?? tempfail('no reply to DATA')) : (rcptReplies[i] ?? tempfail('no reply to RCPT')),
      )
    }
    if (!accepted.some(Boolean)) {
      await this.sendDot()
      return rcptReplies.map((r) => r ?? tempfail('no reply to RCPT'))
    }
    await this.writeContent(tx.content())
    const out: Reply[] = []
    if (this.method.protocol === 'lmtp') {
      const perRcpt: Reply[] = []
      for (let i = 0; i < accepted.filter(Boolean).length; i++) perRcpt.push(await reader.next(this.timeoutMs * 5))
      let k = 0
      for (let i = 0; i < tx.rcpts.length; i++) out.push(accepted[i] ? perRcpt[k++] : rcptReplies[i])
    } else {
      const fin = await reader.next(this.timeoutMs * 5)
      for (let i = 0; i < tx.rcpts.length; i++) out.push(accepted[i] ? fin : rcptReplies[i])
    }
    this.lastUsed = Date.now()
    return out
  }

  private async sendDot() {
    this.socket!.write('.\r\n')
    await this.reader!.next(this.timeoutMs).catch(() => undefined)
  }
  private async rset() {
    if (!this.socket || this.socket.destroyed) return
    this.socket.write('RSET\r\n')
    const r = await this.reader!.next(this.timeoutMs).catch(() => undefined)
    if (!r || r.code !== 250) this.dispose()
  }

  private async writeContent(pieces: (Buffer | Readable)[]): Promise<void> {
    const s = this.socket!
    let atLineStart = true
    let lastByte = 0x0a
    const put = async (b: Buffer) => {
      if (!b.length) return
      const out: Buffer[] = []
      let from = 0
      if (atLineStart && b[0] === 0x2e) out.push(DOT)
      // Only lines that start with a dot need stuffing: one native search per such line.
      let i = b.indexOf(LF_DOT)
      while (i >= 0) {
        out.push(b.subarray(from, i + 1), DOT)
        from = i + 1
        i = b.indexOf(LF_DOT, i + 1)
      }
      out.push(b.subarray(from))
      lastByte = b[b.length - 1]
      atLineStart = lastByte === 0x0a
      const data = out.length === 1 ? out[0] : Buffer.concat(out)
      if (!s.write(data)) {
        s.uncork()
        await waitDrain(s)
        s.cork()
      }
    }
    // Coalesce header, body and the final dot into as few packets as possible.
    s.cork()
    try {
      for (const p of pieces) {
        if (Buffer.isBuffer(p)) await put(p)
        else for await (const chunk of p) await put(chunk as Buffer)
      }
      s.write(lastByte === 0x0a ? '.\r\n' : '\r\n.\r\n')
    } finally {
      s.uncork()
    }
  }

  /** Ends the session politely (QUIT). */
  async close(): Promise<void> {
    const s = this.socket
    if (!s || s.destroyed) return this.dispose()
    if (this.usable) {
      s.write('QUIT\r\n')
      this.onEvent?.('OutConnQuit')
      await this.reader!.next(2000).catch(() => undefined)
    }
    this.dispose()
  }

  dispose() {
    this.usable = false
    if (this.socket && !this.socket.destroyed) this.socket.destroy()
    this.socket = undefined
  }
}

const DOT = Buffer.from('.')
const LF_DOT = Buffer.from('\n.')

class ReplyError extends Error {
  readonly reply: Reply
  constructor(reply: Reply) {
    super(reply.text)
    this.reply = reply
  }
}

function waitDrain(s: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      s.off('drain', done)
      s.off('close', closed)
      resolve()
    }
    const closed = () => {
      s.off('drain', done)
      reject(new Error('connection closed while sending'))
    }
    s.once('drain', done)
    s.once('close', closed)
  })
}

/** EHLO reply lines (`250-PIPELINING`, `250 SIZE 1000`) → keyword → parameters. The first line is the greeting name. */
export function parseExtensions(lines: string[]): Map<string, string> {
  const out = new Map<string, string>()
  const ehlo = lines.filter((l) => /^250[- ]/.test(l))
  for (const l of ehlo.slice(1)) {
    const body = l.slice(4).trim()
    const sp = body.indexOf(' ')
    out.set((sp < 0 ? body : body.slice(0, sp)).toUpperCase(), sp < 0 ? '' : body.slice(sp + 1))
  }
  return out
}
