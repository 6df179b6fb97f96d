// One inbound SMTP or LMTP session on an accepted socket: a robust command parser (bare LF,
// capped line buffer, NUL bytes, invalid UTF-8, pipelining) and the ESMTP state machine with
// PIPELINING, 8BITMIME, SMTPUTF8, SIZE, ENHANCEDSTATUSCODES, DSN and XFORWARD. Content decisions
// are the handler's: the session only collects envelopes and bodies and writes the replies.
import type { Socket } from 'node:net'
import type { SmtpProtocolErrorKind } from '@vigil/protocol'
import { DataReceiver, type MessageBody } from './spool.ts'
import { parsePath, xtextDecode } from './address.ts'

/** What the session counts as a protocol error (the kinds are listed in @vigil/protocol). */
export type ProtocolErrorKind = SmtpProtocolErrorKind

export interface Recipient {
  address: string
  /** DSN NOTIFY (upper-cased), e.g. `SUCCESS,FAILURE`. */
  notify?: string
  /** DSN ORCPT as given (`rfc822;addr`). */
  orcpt?: string
}

export interface Transaction {
  /** amavis am_id of this transaction, e.g. `04321-01` or `04321-01-2`. */
  taskId: string
  mailFrom: string
  /** SIZE, BODY, SMTPUTF8, RET, ENVID (and AUTH) as given. */
  mailParams: Record<string, string | true>
  rcpts: Recipient[]
  /** XFORWARD attributes (upper-case keys, xtext decoded, [UNAVAILABLE] dropped). */
  xforward: Record<string, string>
  heloName: string
  /** `SMTP` (HELO), `ESMTP` (EHLO) or `LMTP`. */
  clientProtocol: 'SMTP' | 'ESMTP' | 'LMTP'
  body: MessageBody
  /** Unix seconds when MAIL FROM was received and when the end of data was seen. */
  startedAt: number
  receivedAt: number
}

export interface SessionHandler {
  /** MAIL FROM accepted: returns the task id of the new transaction (state `m`). */
  onMail(seq: number): string
  /** 354 sent (state `d`). */
  onData(taskId: string): void
  /** The message was received in full. Returns one reply for SMTP, one per recipient for LMTP. */
  onMessage(tx: Transaction): Promise<string[]>
  onProtocolError(kind: ProtocolErrorKind, detail?: string): void
  /** Transaction abandoned (RSET, disconnect mid-transaction). */
  onAbort?(taskId: string): void
}

export interface SessionOptions {
  protocol: 'smtp' | 'lmtp'
  hostname: string
  maxSizeBytes: number
  spoolThresholdBytes: number
  spoolDir: string
  maxLineBytes: number
  maxErrors: number
  timeoutSecs: number
  maxRecipients?: number
  now?: () => number
}

const XFORWARD_ATTRS = ['NAME', 'ADDR', 'PORT', 'PROTO', 'HELO', 'IDENT', 'SOURCE']
const utf8Strict = new TextDecoder('utf-8', { fatal: true })

/** Runs the session until the client quits or the connection drops. Never throws. */
export function runSmtpSession(socket: Socket, opts: SessionOptions, handler: SessionHandler): Promise<void> {
  const now = opts.now ?? (() => Date.now() / 1000)
  const lmtp = opts.protocol === 'lmtp'
  const maxRcpts = opts.maxRecipients ?? 1000
  let inbuf: Buffer = Buffer.alloc(0)
  let discardingLongLine = false
  let closed = false
  let wake: (() => void) | undefined
  let errors = 0
  let helo: string | undefined
  let clientProtocol: Transaction['clientProtocol'] = lmtp ? 'LMTP' : 'SMTP'
  let xforward: Record<string, string> = {}
  let txSeq = 0
  let tx:
    | {
        taskId: string
        mailFrom: string
        mailParams: Record<string, string | true>
        rcpts: Recipient[]
        startedAt: number
      }
    | undefined
  let receiver: DataReceiver | undefined
  let dataBareLf = false

  return new Promise<void>((resolve) => {
    const finish = () => {
      if (closed) return
      closed = true
      if (receiver) receiver.abort()
      if (tx) handler.onAbort?.(tx.taskId)
      wake?.()
      resolve()
    }
    socket.on('data', (chunk: Buffer) => {
      if (receiver) {
        inbuf = inbuf.length ? Buffer.concat([inbuf, chunk]) : chunk
      } else if (discardingLongLine) {
        if (inbuf.length && inbuf[0] === 0x0a) {
          // The end of the long line was already seen; this is what follows it.
          inbuf = Buffer.concat([inbuf, chunk])
        } else {
          const lf = chunk.indexOf(0x0a)
          if (lf < 0) return
          // A marker LF at position 0 ends the long line (the loop answers 500 and drops it).
          inbuf = Buffer.concat([Buffer.from('\n'), chunk.subarray(lf + 1)])
        }
      } else {
        inbuf = inbuf.length ? Buffer.concat([inbuf, chunk]) : chunk
        if (inbuf.indexOf(0x0a) < 0 && inbuf.length > opts.maxLineBytes) {
          discardingLongLine = true
          inbuf = Buffer.alloc(0)
        }
      }
      // Backpressure: do not read further while a large amount is queued (the loop drains it).
      if (inbuf.length > 4 * 1024 * 1024) socket.pause()
      const w = wake
      wake = undefined
      w?.()
    })
    socket.on('end', () => {
      socket.end()
      finish()
    })
    socket.on('close', finish)
    socket.on('error', finish)
    socket.on('timeout', () => {
      handler.onProtocolError('timeout')
      write('421 4.4.2 ' + opts.hostname + ' Error: timeout exceeded')
      socket.end()
      setTimeout(() => socket.destroy(), 1000).unref()
    })
    socket.setTimeout(opts.timeoutSecs * 1000)

    const write = (reply: string) => {
      if (closed || socket.destroyed) return
      socket.write(reply + '\r\n')
    }
    let corked = false
    const uncork = () => {
      if (corked) {
        corked = false
        socket.uncork()
      }
    }
    const waitData = () =>
      new Promise<void>((r) => {
        uncork()
        if (closed) return r()
        socket.resume()
        wake = r
      })

    const protoError = (kind: ProtocolErrorKind, reply: string): boolean => {
      handler.onProtocolError(kind)
      errors++
      write(reply)
      if (errors >= opts.maxErrors) {
        handler.onProtocolError('too_many_errors')
        write(`421 4.7.0 ${opts.hostname} Error: too many errors`)
        socket.end()
        closed = true
        if (tx) handler.onAbort?.(tx.taskId)
        tx = undefined
        resolve()
        return true
      }
      return false
    }

    const resetTx = (aborted: boolean) => {
      if (aborted && tx) handler.onAbort?.(tx.taskId)
      tx = undefined
      xforward = {}
    }

    const ehloLines = (name: string): string => {
      const ext = [
        `${opts.hostname}`,
        'PIPELINING',
        `SIZE${opts.maxSizeBytes > 0 ? ' ' + opts.maxSizeBytes : ''}`,
        'ENHANCEDSTATUSCODES',
        '8BITMIME',
        'SMTPUTF8',
        'DSN',
        'XFORWARD NAME ADDR PORT PROTO HELO IDENT SOURCE',
      ]
      void name
      return ext.map((l, i) => `250${i === ext.length - 1 ? ' ' : '-'}${l}`).join('\r\n')
    }

    const handleCommand = async (raw: Buffer, bareLf: boolean): Promise<void> => {
      if (bareLf) handler.onProtocolError('bare_lf')
      if (raw.indexOf(0) >= 0) {
        protoError('nul_byte', '500 5.5.2 Error: NUL character in command')
        return
      }
      let line: string
      try {
        line = utf8Strict.decode(raw)
      } catch {
        protoError('bad_utf8', '500 5.5.2 Error: invalid UTF-8 in command')
        return
      }
      const sp = line.indexOf(' ')
      const verb = (sp < 0 ? line : line.slice(0, sp)).toUpperCase()
      const arg = sp < 0 ? '' : line.slice(sp + 1)
      switch (verb) {
        case 'EHLO':
        case 'HELO':
        case 'LHLO': {
          if (lmtp !== (verb === 'LHLO')) {
            protoError(
              'bad_sequence',
              lmtp ? '500 5.5.1 Error: LMTP requires LHLO' : '500 5.5.1 Error: command not recognized',
            )
            return
          }
          if (!arg.trim()) {
            protoError('bad_syntax', `501 5.5.4 Syntax: ${verb} hostname`)
            return
          }
          helo = arg.trim()
          resetTx(!!tx)
          if (verb === 'HELO') {
            clientProtocol = 'SMTP'
            write(`250 ${opts.hostname}`)
          } else {
            clientProtocol = lmtp ? 'LMTP' : 'ESMTP'
            write(ehloLines(helo))
          }
          return
        }
        case 'XFORWARD': {
          if (tx) {
            protoError('bad_sequence', '503 5.5.1 Error: MAIL transaction in progress')
            return
          }
          const attrs: Record<string, string> = {}
          for (const tok of arg.trim().split(/\s+/).filter(Boolean)) {
            const eq = tok.indexOf('=')
            const k = eq < 0 ? '' : tok.slice(0, eq).toUpperCase()
            if (!XFORWARD_ATTRS.includes(k)) {
              protoError('bad_syntax', `501 5.5.4 Bad XFORWARD attribute name: ${k || tok.slice(0, 20)}`)
              return
            }
            attrs[k] = xtextDecode(tok.slice(eq + 1))
          }
          if (!Object.keys(attrs).length) {
            protoError('bad_syntax', '501 5.5.4 Syntax: XFORWARD attribute=value...')
            return
          }
          for (const [k, v] of Object.entries(attrs)) {
            if (v === '[UNAVAILABLE]' || v === '[TEMPUNAVAIL]') delete xforward[k]
            else xforward[k] = v
          }
          write('250 2.0.0 Ok')
          return
        }
        case 'MAIL': {
          if (!helo) {
            protoError('bad_sequence', `503 5.5.1 Error: send ${lmtp ? 'LHLO' : 'HELO/EHLO'} first`)
            return
          }
          if (tx) {
            protoError('bad_sequence', '503 5.5.1 Error: nested MAIL command')
            return
          }
          const p = parsePath(arg, 'FROM')
          if (!p.ok) {
            protoError('bad_syntax', p.reply)
            return
          }
          const params = p.value.params
          for (const k of Object.keys(params)) {
            if (
              !['SIZE', 'BODY', 'SMTPUTF8', 'RET', 'ENVID', 'AUTH'].includes(k) ||
              (clientProtocol === 'SMTP' && k !== 'AUTH')
            ) {
              protoError('bad_syntax', `555 5.5.4 Unsupported option: ${k}`)
              return
            }
          }
          if (params.BODY !== undefined && !/^(7BIT|8BITMIME)$/i.test(String(params.BODY))) {
            protoError('bad_syntax', '501 5.5.4 Bad BODY parameter')
            return
          }
          if (params.RET !== undefined && !/^(FULL|HDRS)$/i.test(String(params.RET))) {
            protoError('bad_syntax', '501 5.5.4 Bad RET parameter')
            return
          }
          if (params.SIZE !== undefined) {
            const n = Number(params.SIZE)
            if (!/^\d{1,20}$/.test(String(params.SIZE))) {
              protoError('bad_syntax', '501 5.5.4 Bad message size syntax')
              return
            }
            if (opts.maxSizeBytes > 0 && n > opts.maxSizeBytes) {
              protoError('oversize', '552 5.3.4 Message size exceeds fixed limit')
              return
            }
          }
          if (/[^\x00-\x7f]/.test(p.value.address) && !params.SMTPUTF8) {
            protoError('non_ascii_address', '553 5.6.7 Must declare SMTPUTF8 to send non-ASCII addresses')
            return
          }
          txSeq++
          const taskId = handler.onMail(txSeq)
          tx = { taskId, mailFrom: p.value.address, mailParams: params, rcpts: [], startedAt: now() }
          write(`250 2.1.0 Sender <${p.value.address}> OK`)
          return
        }
        case 'RCPT': {
          if (!tx) {
            protoError('bad_sequence', '503 5.5.1 Error: need MAIL command')
            return
          }
          const p = parsePath(arg, 'TO')
          if (!p.ok) {
            protoError('bad_syntax', p.reply)
            return
          }
          const params = p.value.params
          for (const k of Object.keys(params)) {
            if (!['NOTIFY', 'ORCPT'].includes(k) || clientProtocol === 'SMTP') {
              protoError('bad_syntax', `555 5.5.4 Unsupported option: ${k}`)
              return
            }
          }
          if (
            params.NOTIFY !== undefined &&
            !/^(NEVER|((SUCCESS|FAILURE|DELAY)(,(SUCCESS|FAILURE|DELAY))*))$/i.test(String(params.NOTIFY))
          ) {
            protoError('bad_syntax', '501 5.5.4 Bad NOTIFY parameter')
            return
          }
          if (/[^\x00-\x7f]/.test(p.value.address) && !tx.mailParams.SMTPUTF8) {
            protoError('non_ascii_address', '553 5.6.7 Must declare SMTPUTF8 to send non-ASCII addresses')
            return
          }
          if (tx.rcpts.length >= maxRcpts) {
            write('452 4.5.3 Error: too many recipients')
            return
          }
          tx.rcpts.push({
            address: p.value.address,
            notify: params.NOTIFY === undefined ? undefined : String(params.NOTIFY).toUpperCase(),
            orcpt: params.ORCPT === undefined ? undefined : xtextDecode(String(params.ORCPT)),
          })
          write(`250 2.1.5 Recipient <${p.value.address}> OK`)
          return
        }
        case 'DATA': {
          if (arg.trim()) {
            protoError('bad_syntax', '501 5.5.4 Syntax: DATA')
            return
          }
          if (!tx) {
            protoError('bad_sequence', '503 5.5.1 Error: need MAIL command')
            return
          }
          if (!tx.rcpts.length) {
            protoError('bad_sequence', '503 5.5.1 Error: need RCPT command')
            return
          }
          if (inbuf.length > 0) handler.onProtocolError('pipelining', 'data before 354')
          receiver = new DataReceiver({
            maxSizeBytes: opts.maxSizeBytes,
            spoolThresholdBytes: opts.spoolThresholdBytes,
            spoolDir: opts.spoolDir,
          })
          dataBareLf = false
          write('354 End data with <CR><LF>.<CR><LF>')
          handler.onData(tx.taskId)
          return
        }
        case 'RSET':
          resetTx(true)
          write('250 2.0.0 Ok')
          return
        case 'NOOP':
          write('250 2.0.0 Ok')
          return
        case 'VRFY':
          write('252 2.0.0 Cannot VRFY user, but will accept message')
          return
        case 'HELP':
          write('214 2.0.0 See RFC 5321')
          return
        case 'QUIT':
          write(`221 2.0.0 ${opts.hostname} amavisd-new closing transmission channel`)
          socket.end()
          resetTx(true)
          closed = true
          resolve()
          return
        default:
          if (!verb) protoError('bad_syntax', '500 5.5.2 Error: bad syntax')
          else protoError('unknown_command', '502 5.5.2 Error: command not recognized')
      }
    }

    const endOfData = async (): Promise<void> => {
      const rx = receiver!
      receiver = undefined
      const t = tx!
      tx = undefined
      const xf = xforward
      xforward = {}
      if (dataBareLf) handler.onProtocolError('bare_lf')
      if (rx.error) {
        rx.abort()
        handler.onAbort?.(t.taskId)
        const r = `451 4.3.0 Error: cannot spool the message, id=${t.taskId}`
        write(lmtp ? t.rcpts.map(() => r).join('\r\n') : r)
        return
      }
      if (rx.oversize) {
        rx.abort()
        handler.onProtocolError('oversize')
        errors++
        handler.onAbort?.(t.taskId)
        const r = '552 5.3.4 Message size exceeds fixed limit'
        write(lmtp ? t.rcpts.map(() => r).join('\r\n') : r)
        return
      }
      uncork()
      const body = rx.finish()
      let replies: string[]
      try {
        socket.pause()
        socket.setTimeout(0)
        replies = await handler.onMessage({
          taskId: t.taskId,
          mailFrom: t.mailFrom,
          mailParams: t.mailParams,
          rcpts: t.rcpts,
          xforward: xf,
          heloName: helo ?? '',
          clientProtocol,
          body,
          startedAt: t.startedAt,
          receivedAt: now(),
        })
      } catch {
        replies = [`451 4.5.0 Error in processing, id=${t.taskId}`]
      } finally {
        body.dispose()
        if (!closed) socket.setTimeout(opts.timeoutSecs * 1000)
      }
      if (lmtp) {
        for (let i = 0; i < t.rcpts.length; i++)
          write(replies[i] ?? replies[0] ?? `451 4.5.0 Error in processing, id=${t.taskId}`)
      } else write(replies[0] ?? `451 4.5.0 Error in processing, id=${t.taskId}`)
    }

    const loop = async () => {
      write(`220 ${opts.hostname} ${lmtp ? 'LMTP' : 'ESMTP'} amavisd-new service ready`)
      while (!closed) {
        if (receiver) {
          if (!inbuf.length) {
            await waitData()
            continue
          }
          const chunk = inbuf
          inbuf = Buffer.alloc(0)
          if (!dataBareLf) {
            // Cheap check for a bare LF in this chunk (only the first occurrence matters).
            let i = chunk.indexOf(0x0a)
            while (i >= 0 && !dataBareLf) {
              if (i > 0 && chunk[i - 1] !== 0x0d) dataBareLf = true
              i = chunk.indexOf(0x0a, i + 1)
              if (i > 4096) break
            }
          }
          const used = receiver.push(chunk)
          if (used >= 0) {
            inbuf = chunk.subarray(used)
            await endOfData()
          }
          continue
        }
        if (discardingLongLine) {
          if (inbuf.length && inbuf[0] === 0x0a) {
            inbuf = inbuf.subarray(1)
            discardingLongLine = false
            if (protoError('line_too_long', '500 5.5.2 Error: line too long')) break
            continue
          }
          await waitData()
          continue
        }
        const lf = inbuf.indexOf(0x0a)
        if (lf < 0) {
          await waitData()
          continue
        }
        if (!corked) {
          socket.cork()
          corked = true
        }
        const bare = lf === 0 || inbuf[lf - 1] !== 0x0d
        const line = inbuf.subarray(0, bare ? lf : lf - 1)
        inbuf = inbuf.subarray(lf + 1)
        if (line.length > opts.maxLineBytes) {
          if (protoError('line_too_long', '500 5.5.2 Error: line too long')) break
          continue
        }
        await handleCommand(line, bare)
        if (receiver || !inbuf.length || inbuf.indexOf(0x0a) < 0) uncork()
      }
      uncork()
    }
    loop().catch(() => {
      socket.destroy()
      finish()
    })
  })
}
