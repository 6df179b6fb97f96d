// A redis-server with its persistence on (appendonly, fsync always) that can be stopped and
// started again on the same port and directory: the "Redis restarted" fault. The harness's
// startRedis picks a fresh port per start, which a restart must not do.
import { join } from 'node:path'
import {
  freePort,
  redisCommand,
  spawnService,
  tmpDir,
  type Owner,
  type ServiceProcess,
} from '../../../test/harness/index.ts'

export interface AofRedis {
  readonly host: string
  readonly port: number
  /** host:port, the amavis DSN form. */
  readonly server: string
  readonly dir: string
  /** The running process (replaced by restart). */
  proc(): ServiceProcess
  /** Graceful stop (SIGTERM: Redis writes its AOF), then a new process on the same port and dir. */
  restart(downMs?: number): Promise<void>
  stop(): Promise<void>
}

export async function startAofRedis(t: Owner): Promise<AofRedis> {
  const dir = await tmpDir(t, 'redis-aof')
  const host = '127.0.0.1'
  const port = await freePort(host)
  let n = 0
  const spawn = () =>
    spawnService({
      t,
      name: `redis-server-aof-${++n}`,
      cmd: 'redis-server',
      args: [
        '--port',
        String(port),
        '--bind',
        host,
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--dir',
        dir,
        '--daemonize',
        'no',
        '--protected-mode',
        'yes',
        '--logfile',
        '',
      ],
      cwd: dir,
      logFile: join(dir, `redis-${n}.log`),
      readyTimeoutMs: 20_000,
      ready: async () => (await redisCommand(host, port, ['PING'], 1000)) === '+PONG\r\n',
    })
  let p = await spawn()
  return {
    host,
    port,
    server: `${host}:${port}`,
    dir,
    proc: () => p,
    async restart(downMs = 0) {
      await p.stop()
      if (downMs) await new Promise((r) => setTimeout(r, downMs))
      p = await spawn()
    },
    stop: () => p.stop(),
  }
}
