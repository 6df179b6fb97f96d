// Socket addresses for scanner daemons and one request/response exchange with deadline and abort.
import { connect, type Socket } from 'node:net'
import { ErrorCode, VigilError } from '@vigil/protocol'

export type SocketTarget = { readonly host: string; readonly port: number } | { readonly path: string }

/**
 * Parses `tcp:host:port`, `unix:/path`, `host:port`, `[::1]:port` or an absolute path.
 * Throws a VigilError(CONFIG_INVALID) naming the bad value.
 */
export function parseSocketTarget(spec: string): SocketTarget {
  let s = spec.trim()
  if (s.startsWith('unix:')) return { path: s.slice(5) }
  if (s.startsWith('/')) return { path: s }
  if (s.startsWith('tcp:')) s = s.slice(4)
  if (s.startsWith('inet:')) s = s.slice(5)
  const m = /^\[([0-9a-fA-F:.]+)\]:(\d{1,5})$/.exec(s) ?? /^([^:[\]]+):(\d{1,5})$/.exec(s)
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535)
    throw new VigilError(
      ErrorCode.CONFIG_INVALID,
      `Invalid socket address "${spec}"; expected tcp:host:port or unix:/path.`,
    )
  return { host: m[1], port: Number(m[2]) }
}

export function describeTarget(t: SocketTarget): string {
  return 'path' in t ? `unix:${t.path}` : `tcp:${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`
}

export interface ExchangeOptions {
  /** Scanner name for error messages, e.g. `ClamAV-clamd`. */
  readonly name: string
  readonly timeoutMs: number
  readonly signal?: AbortSignal
  /** Stops reading when this returns true for the bytes received so far (else reads until the peer closes). */
  readonly complete?: (received: Buffer) => boolean
  /** Largest reply accepted. */
  readonly maxReplyBytes?: number
}

/**
 * Connects, lets `send` write the request, and resolves with the reply bytes. Throws
 * VigilError(CHECK_TIMEOUT) after `timeoutMs`, VigilError(CHECK_FAILED) on connection errors,
 * oversized replies or abort; the socket is destroyed in every failure case.
 */
export function exchange(
  target: SocketTarget,
  send: (sock: Socket) => Promise<void>,
  opts: ExchangeOptions,
): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    if (opts.signal?.aborted) {
      reject(new VigilError(ErrorCode.CHECK_FAILED, `${opts.name}: aborted.`, { cause: opts.signal.reason }))
      return
    }
    const where = describeTarget(target)
    const sock = 'path' in target ? connect({ path: target.path }) : connect({ host: target.host, port: target.port })
    const chunks: Buffer[] = []
    let size = 0
    let settled = false
    const finish = (err: Error | undefined, value?: Buffer) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      opts.signal?.removeEventListener('abort', onAbort)
      if (err) {
        sock.destroy()
        reject(err)
      } else {
        sock.end()
        sock.destroy()
        resolve(value!)
      }
    }
    const onAbort = () =>
      finish(new VigilError(ErrorCode.CHECK_FAILED, `${opts.name}: aborted.`, { cause: opts.signal?.reason }))
    const timer = setTimeout(
      () =>
        finish(
          new VigilError(ErrorCode.CHECK_TIMEOUT, `${opts.name} at ${where}: no reply within ${opts.timeoutMs} ms.`),
        ),
      opts.timeoutMs,
    )
    opts.signal?.addEventListener('abort', onAbort, { once: true })
    sock.on('data', (d: Buffer) => {
      chunks.push(d)
      size += d.length
      if (size > (opts.maxReplyBytes ?? 4 * 1024 * 1024)) {
        finish(new VigilError(ErrorCode.CHECK_FAILED, `${opts.name} at ${where}: reply too large.`))
        return
      }
      if (opts.complete) {
        const all = Buffer.concat(chunks)
        if (opts.complete(all)) finish(undefined, all)
      }
    })
    sock.once('error', (err) =>
      finish(new VigilError(ErrorCode.CHECK_FAILED, `${opts.name} at ${where}: ${err.message}.`, { cause: err })),
    )
    sock.once('close', () => finish(undefined, Buffer.concat(chunks)))
    sock.once('connect', () => {
      send(sock).catch((err: Error) =>
        finish(new VigilError(ErrorCode.CHECK_FAILED, `${opts.name} at ${where}: ${err.message}.`, { cause: err })),
      )
    })
  })
}

/** Writes and waits for drain when the socket buffer is full; rejects if the socket is gone. */
export function writeAll(sock: Socket, data: Buffer): Promise<void> {
  if (sock.destroyed) return Promise.reject(new Error('socket closed'))
  if (sock.write(data)) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const onDrain = () => {
      sock.off('close', onClose)
      resolve()
    }
    const onClose = () => {
      sock.off('drain', onDrain)
      reject(new Error('socket closed while sending'))
    }
    sock.once('drain', onDrain)
    sock.once('close', onClose)
  })
}
