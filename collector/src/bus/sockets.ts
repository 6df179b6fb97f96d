// Socket option helpers shared by the bus, the responder and the events receiver (spec §1.3).
import type { Socket } from 'zeromq'
import { mkdirSync } from 'node:fs'
import { connect } from 'node:net'
import { dirname } from 'node:path'
import { ErrorCode, VigilError } from '@vigil/protocol'

/** amavis's rule (`/:[0-9a-f]*:/i`) plus bracketed literals: the endpoint needs ZMQ_IPV6. */
export function needsIpv6(endpoint: string): boolean {
  return /:[0-9a-f]*:/i.test(endpoint.replace(/^[a-z]+:\/\//, '')) || /\[[0-9a-fA-F:.]+\]/.test(endpoint)
}

export function isTcp(endpoint: string): boolean {
  return endpoint.startsWith('tcp://')
}

export function ipcPath(endpoint: string): string | undefined {
  return endpoint.startsWith('ipc://') ? endpoint.slice('ipc://'.length) : undefined
}

/** Sets LINGER 0 and closes, ignoring a socket that is already closed. */
export function closeNow(sock: Socket | undefined): void {
  if (!sock || sock.closed) return
  try {
    sock.linger = 0
  } catch {}
  try {
    sock.close()
  } catch {}
}

/** Creates the directory of an ipc:// endpoint so that bind() can create the socket file. */
export function ensureIpcDir(endpoint: string): void {
  const p = ipcPath(endpoint)
  if (p) mkdirSync(dirname(p), { recursive: true })
}

/**
 * Prepares an ipc:// endpoint for bind(): creates its directory and refuses when another process
 * is listening on it. libzmq would silently unlink a live socket file and steal the endpoint, so
 * a second collector (or amavis-services) on the same home would split the bus without a word.
 * No-op for other transports (tcp bind fails with EADDRINUSE by itself).
 */
export async function prepareBind(endpoint: string): Promise<void> {
  const p = ipcPath(endpoint)
  if (!p) return
  mkdirSync(dirname(p), { recursive: true })
  const inUse = await new Promise<boolean>((resolve) => {
    const s = connect({ path: p })
    s.once('connect', () => {
      s.destroy()
      resolve(true)
    })
    s.once('error', () => resolve(false))
  })
  if (inUse)
    throw new VigilError(
      ErrorCode.ZMQ_BIND_FAILED,
      `Cannot bind ${endpoint}: another process is listening on it (another collector or amavis-services?).`,
    )
}

/**
 * prepareBind() and bind() `endpoint` (or, with `mode: 'connect'`, connect to it); any failure
 * becomes VIGIL_ERR_ZMQ_BIND_FAILED naming the `what` socket, after closing `sock` unless
 * `keepOpen` (the owner closes it, e.g. in its stop()).
 */
export async function bindOrThrow(
  sock: Socket,
  endpoint: string,
  what: string,
  o: { mode?: 'bind' | 'connect'; keepOpen?: boolean } = {},
): Promise<void> {
  try {
    if (o.mode === 'connect') sock.connect(endpoint)
    else {
      await prepareBind(endpoint)
      await sock.bind(endpoint)
    }
  } catch (err) {
    if (!o.keepOpen) closeNow(sock)
    throw new VigilError(
      ErrorCode.ZMQ_BIND_FAILED,
      `Cannot bind the ${what} socket ${endpoint}: ${(err as Error).message}.`,
      { cause: err },
    )
  }
}
