// Totals survive a collector restart: a JSON file under <home> (atomic: write a temp file,
// fsync, rename) and, with storage_redis_dsn, one Redis hash per host plus a meta hash.
// On start the newer of the two snapshots (by savedAt) wins.
import type { Redis } from 'ioredis'
import { open, readFile, rename, mkdir, unlink } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { Logger } from '@vigil/protocol'
import type { TotalsSnapshot } from './totals.ts'

export interface TotalsStore {
  readonly name: string
  load(): Promise<TotalsSnapshot | undefined>
  save(s: TotalsSnapshot): Promise<void>
  close(): Promise<void>
}

export function createFileTotalsStore(path: string): TotalsStore {
  return {
    name: `file:${path}`,
    async load() {
      let text: string
      try {
        text = await readFile(path, 'utf8')
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
        throw err
      }
      return JSON.parse(text) as TotalsSnapshot
    },
    async save(s) {
      await mkdir(dirname(path), { recursive: true })
      const tmp = `${path}.${process.pid}.tmp`
      const fh = await open(tmp, 'w', 0o640)
      try {
        await fh.writeFile(JSON.stringify(s) + '\n')
        await fh.sync()
      } finally {
        await fh.close()
      }
      try {
        await rename(tmp, path)
      } catch (err) {
        await unlink(tmp).catch(() => {})
        throw err
      }
    },
    async close() {},
  }
}

/** `host:port`, `[v6]:port` or a unix socket path, as amavis's @storage_redis_dsn server. */
export function parseRedisServer(server: string): { host: string; port: number } | { path: string } {
  if (server.startsWith('/')) return { path: server }
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(server) ?? /^([^:]+):(\d+)$/.exec(server)
  if (m) return { host: m[1], port: Number(m[2]) }
  return { host: server, port: 6379 }
}

export function createRedisTotalsStore(o: {
  server: string
  db: number
  password?: string
  key: string
  log: Logger
}): TotalsStore {
  const addr = parseRedisServer(o.server)
  // ioredis is loaded only when Redis is configured (it adds ~7 MB to the collector's RSS).
  let client: Promise<Redis> | undefined
  const connect = (): Promise<Redis> =>
    (client ??= import('ioredis').then(({ Redis: R }) => {
      const r = new R({
        ...addr,
        db: o.db,
        password: o.password,
        lazyConnect: true,
        connectTimeout: 2000,
        commandTimeout: 2000,
        maxRetriesPerRequest: 1,
        enableOfflineQueue: true,
        retryStrategy: (n: number) => Math.min(n * 200, 2000),
      })
      r.on('error', () => {}) // reported by the failing command instead
      return r
    }))
  const meta = `${o.key}:meta`
  return {
    name: `redis:${o.server}/${o.db} ${o.key}`,
    async load() {
      const redis = await connect()
      const m = await redis.hgetall(meta)
      if (!m.savedAt) return undefined
      const hosts: TotalsSnapshot['hosts'] = {}
      for (const h of JSON.parse(m.hosts ?? '[]') as string[]) {
        const fields = await redis.hgetall(`${o.key}:${h}`)
        const vars: Record<string, [string, string | number | null]> = {}
        for (const [n, v] of Object.entries(fields)) vars[n] = JSON.parse(v)
        hosts[h] = vars
      }
      return { version: 1, savedAt: Number(m.savedAt), hosts }
    },
    async save(s) {
      const redis = await connect()
      const tx = redis.multi()
      const old = await redis.hget(meta, 'hosts')
      for (const h of JSON.parse(old ?? '[]') as string[]) if (!(h in s.hosts)) tx.del(`${o.key}:${h}`)
      for (const [h, vars] of Object.entries(s.hosts)) {
        tx.del(`${o.key}:${h}`)
        const flat: string[] = []
        for (const [n, v] of Object.entries(vars)) flat.push(n, JSON.stringify(v))
        if (flat.length) tx.hset(`${o.key}:${h}`, ...flat)
      }
      tx.hset(meta, 'savedAt', String(s.savedAt), 'hosts', JSON.stringify(Object.keys(s.hosts)), 'version', '1')
      const res = await tx.exec()
      const failed = res?.find(([err]) => err)
      if (failed) throw failed[0]
    },
    async close() {
      if (client) (await client).disconnect()
    },
  }
}
