// A private clamd with a generated, EICAR-only signature database: starts in about a second.
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { EICAR } from './fixtures.ts'
import { freePort } from './ports.ts'
import { spawnService, type ServiceProcess } from './process.ts'
import { streamRequest } from './stream-request.ts'
import { childScope, tmpDir, type Owner } from './tmp.ts'

export interface ClamdInstance {
  host: string
  port: number
  /** `127.0.0.1:PORT`, ready for the filter's `clamd_address`. */
  address: string
  /** clamd's LocalSocket (unix stream socket) in the temp dir. */
  socketPath: string
  dir: string
  dbDir: string
  pid: number
  process: ServiceProcess
  /** Scans bytes with zINSTREAM over TCP; returns clamd's reply ("stream: OK", "stream: X FOUND"). */
  scan(data: Buffer | string): Promise<string>
  /** Sends a z-command ("PING", "VERSION") and returns the reply without the NUL. */
  command(cmd: string): Promise<string>
  stop(): Promise<void>
}

export interface StartClamdOptions {
  /** Extra clamd.conf lines. */
  config?: string[]
  /** Extra signature lines for eicar.ndb ("Name:Target:Offset:HexSig"). */
  ndbSignatures?: string[]
}

type Target = { host: string; port: number } | { path: string }

/** One clamd z-command exchange (session ends when clamd closes). */
export async function clamdRequest(target: Target, payload: Buffer, timeoutMs = 30_000): Promise<string> {
  const reply = await streamRequest(
    'path' in target ? { path: target.path } : target,
    [payload],
    timeoutMs,
    () => new Error(`clamd: no reply within ${timeoutMs} ms`),
  )
  return reply.toString('utf8').replace(/\0$/, '').trim()
}

/** The zINSTREAM request for `data` (one chunk, then a zero-length chunk). */
export function instreamPayload(data: Buffer): Buffer {
  const len = Buffer.alloc(4)
  len.writeUInt32BE(data.length)
  return Buffer.concat([Buffer.from('zINSTREAM\0'), len, data, Buffer.alloc(4)])
}

export async function startClamd(t: Owner | null, opts: StartClamdOptions = {}): Promise<ClamdInstance> {
  const scope = childScope(t)
  try {
    const dir = await tmpDir(scope, 'clamd')
    const dbDir = join(dir, 'db')
    const tmp = join(dir, 'tmp')
    await mkdir(dbDir)
    await mkdir(tmp)
    const hex = Buffer.from(EICAR, 'latin1').toString('hex')
    await writeFile(
      join(dbDir, 'eicar.ndb'),
      [`Eicar-Test-Signature:0:*:${hex}`, ...(opts.ndbSignatures ?? [])].join('\n') + '\n',
    )
    const host = '127.0.0.1'
    const port = await freePort(host)
    const socketPath = join(dir, 'clamd.sock')
    const conf = join(dir, 'clamd.conf')
    // No "User" line: clamd then keeps the invoking user's privileges (root here) and never
    // needs the clamav account or /var/lib/clamav.
    await writeFile(
      conf,
      [
        'Foreground yes',
        `TCPSocket ${port}`,
        `TCPAddr ${host}`,
        `LocalSocket ${socketPath}`,
        'LocalSocketMode 660',
        `DatabaseDirectory ${dbDir}`,
        `PidFile ${join(dir, 'clamd.pid')}`,
        `LogFile ${join(dir, 'clamd.log')}`,
        'LogTime yes',
        `TemporaryDirectory ${tmp}`,
        'StreamMaxLength 25M',
        'MaxThreads 4',
        'ScanArchive yes',
        'ScanMail yes',
        'SelfCheck 0',
        'Bytecode no',
        ...(opts.config ?? []),
      ].join('\n') + '\n',
    )
    const command = (cmd: string): Promise<string> => clamdRequest({ host, port }, Buffer.from(`z${cmd}\0`), 5000)
    const proc = await spawnService({
      t: scope,
      name: 'clamd',
      cmd: 'clamd',
      args: ['-c', conf],
      cwd: dir,
      logFile: join(dir, 'clamd.out'),
      extraLogFiles: [join(dir, 'clamd.log')],
      readyTimeoutMs: 60_000,
      ready: async () => (await clamdRequest({ host, port }, Buffer.from('zPING\0'), 1000)) === 'PONG',
    })
    return {
      host,
      port,
      address: `${host}:${port}`,
      socketPath,
      dir,
      dbDir,
      pid: proc.pid,
      process: proc,
      scan: (data) =>
        clamdRequest({ host, port }, instreamPayload(Buffer.isBuffer(data) ? data : Buffer.from(data, 'latin1'))),
      command,
      stop: () => scope.close(),
    }
  } catch (err) {
    await scope.close().catch(() => {})
    throw err
  }
}
