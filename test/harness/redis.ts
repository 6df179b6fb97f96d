// A private redis-server on a free loopback port, no persistence, removed when the test ends.
import { connect } from 'node:net'
import { join } from 'node:path'
import { freePort } from './ports.ts'
import { spawnService, type ServiceProcess } from './process.ts'
import { childScope, tmpDir, type Owner } from './tmp.ts'

export interface RedisInstance {
  host: string
  port: number
  /** redis://127.0.0.1:PORT */
  url: string
  /** `host:port`, the form of an amavis @storage_redis_dsn `server`. */
  server: string
  /** With unixSocket: the socket path. */
  socketPath?: string
  dir: string
  pid: number
  process: ServiceProcess
  /** Sends one command over a fresh connection (RESP) and returns the raw reply text. */
  command(...args: string[]): Promise<string>
  stop(): Promise<void>
}

export interface StartRedisOptions {
  /** Extra redis-server arguments, e.g. ['--maxmemory', '10mb']. */
  args?: string[]
  /** Also listen on a unix socket in the temp dir (amavis @storage_redis_dsn accepts a socket path). */
  unixSocket?: boolean
}

function encodeCommand(args: string[]): Buffer {
  const parts = [`*${args.length}\r\n`]
  for (const a of args) parts.push(`$${Buffer.byteLength(a)}\r\n${a}\r\n`)
  return Buffer.from(parts.join(''))
}

/** Length of one complete RESP value at the start of `buf`, or -1 if incomplete. */
function respLength(buf: Buffer, at = 0): number {
  const eol = buf.indexOf('\r\n', at)
  if (eol < 0) return -1
  const type = String.fromCharCode(buf[at])
  const head = buf.toString('utf8', at + 1, eol)
  if (type === '$') {
    const n = Number(head)
    if (n < 0) return eol + 2 - at
    return buf.length >= eol + 2 + n + 2 ? eol + 2 + n + 2 - at : -1
  }
  if (type === '*') {
    const n = Number(head)
    let pos = eol + 2
    for (let i = 0; i < n; i++) {
      const l = respLength(buf, pos)
      if (l < 0) return -1
      pos += l
    }
    return pos - at
  }
  return eol + 2 - at
}

/** One RESP command on a raw socket (no client library), resolving with the raw reply. */
export function redisCommand(host: string, port: number, args: string[], timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host, port })
    let buf = Buffer.alloc(0)
    const timer = setTimeout(() => {
      sock.destroy()
      reject(new Error(`redis ${host}:${port}: no reply to ${args[0]} within ${timeoutMs} ms`))
    }, timeoutMs)
    sock.once('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d])
      const n = respLength(buf)
      if (n >= 0) {
        clearTimeout(timer)
        sock.destroy()
        resolve(buf.subarray(0, n).toString('utf8'))
      }
    })
    sock.write(encodeCommand(args))
  })
}

export async function startRedis(t: Owner | null, opts: StartRedisOptions = {}): Promise<RedisInstance> {
  const scope = childScope(t)
  const dir = await tmpDir(scope, 'redis')
  const host = '127.0.0.1'
  const port = await freePort(host)
  const proc = await spawnService({
    t: scope,
    name: 'redis-server',
    cmd: 'redis-server',
    args: [
      '--port',
      String(port),
      '--bind',
      host,
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      '--daemonize',
      'no',
      '--protected-mode',
      'yes',
      '--logfile',
      '',
      ...(opts.unixSocket ? ['--unixsocket', join(dir, 'redis.sock'), '--unixsocketperm', '700'] : []),
      ...(opts.args ?? []),
    ],
    cwd: dir,
    logFile: join(dir, 'redis.log'),
    readyTimeoutMs: 20_000,
    ready: async () => (await redisCommand(host, port, ['PING'], 1000)) === '+PONG\r\n',
  }).catch(async (err: unknown) => {
    await scope.close().catch(() => {})
    throw err
  })
  return {
    host,
    port,
    url: `redis://${host}:${port}`,
    server: `${host}:${port}`,
    socketPath: opts.unixSocket ? join(dir, 'redis.sock') : undefined,
    dir,
    pid: proc.pid,
    process: proc,
    command: (...args: string[]) => redisCommand(host, port, args),
    stop: () => scope.close(),
  }
}
