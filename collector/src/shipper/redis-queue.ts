// The Redis side of the shipper: atomic batch moves from the amavis list to this shipper's
// in-flight list, the acknowledgement, heartbeats and the takeover of dead peers' in-flight lists.
// Every state change is one Lua script (atomic on the server), so a crash between any two calls
// leaves each item in exactly one list: the amavis list, one in-flight list, or acknowledged
// (indexed or in the dead-letter list).
//
// Keys (all derived from the amavis key, so several Vigil installations can share a Redis):
//   <key>                    the amavis list (producers: RPUSH + LTRIM -limit -1)
//   <key>:inflight:<id>      this shipper's current batch, exactly (one batch in flight at a time)
//   <key>:shipper:<id>       heartbeat, PX orphan_after_secs; its absence marks the shipper dead
//   <key>:shippers           set of registered shipper ids (where peers look for orphans)
//   <key>:stats              hash of all-time totals over every shipper: taken, indexed,
//                            dead_lettered, redelivered, taken_over (updated in the same scripts
//                            as the moves, so taken = indexed + dead_lettered + Σ in-flight holds)
//   <key>:dead               dead letters (dead_letter_key)
// The takeover script builds peer key names at run time, which Redis Cluster forbids; amavis
// speaks to a single Redis server (or a failover list of them), so this is fine.
import { Redis } from 'ioredis'

export interface RedisTarget {
  /** `host:port`, `[v6]:port` or an absolute unix socket path (amavis @storage_redis_dsn `server`). */
  readonly server: string
  readonly db?: number
  readonly password?: string
}

export interface QueueKeys {
  readonly list: string
  readonly inflight: string
  readonly heartbeat: string
  readonly shippers: string
  readonly stats: string
  readonly dead: string
}

export function queueKeys(key: string, id: string, deadLetterKey?: string): QueueKeys {
  return {
    list: key,
    inflight: `${key}:inflight:${id}`,
    heartbeat: `${key}:shipper:${id}`,
    shippers: `${key}:shippers`,
    stats: `${key}:stats`,
    dead: deadLetterKey || `${key}:dead`,
  }
}

/** Same parsing as filter-core's event sink (copied: the collector does not depend on filter-core). */
export function parseRedisServer(server: string): { host?: string; port?: number; path?: string } {
  if (server.startsWith('/')) return { path: server }
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(server) ?? /^([^:]+):(\d+)$/.exec(server)
  if (m) return { host: m[1], port: Number(m[2]) }
  return { host: server, port: 6379 }
}

// RPUSH with at most 1000 arguments per call: Lua's unpack() fails beyond ~8000 values.
const PUSH_CHUNKS = `
local function push_all(dst, items, from, to)
  for i = from, to, 1000 do
    redis.call('RPUSH', dst, unpack(items, i, math.min(i + 999, to)))
  end
end
`

// KEYS: list, inflight, stats. ARGV: max events, max bytes, mode ('take' | 'fill').
// take: a non-empty in-flight list (after a crash, a takeover, or a batch given up at stop) is
//   sent again first: its head is returned with flag 1 and nothing new is moved.
//   Otherwise the head of the list is moved: at least one item, then as many as fit max bytes.
// fill: moves more items onto the in-flight list of the batch being collected (flag 0), only
//   as many as fit the bytes left (possibly none).
// Returns {flag, items, in-flight length after, list length after}.
const TAKE_LUA =
  PUSH_CHUNKS +
  `
local maxn, maxb, mode = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local function fitting(items, at_least_one)
  local n, b = 0, 0
  for i = 1, #items do
    local l = string.len(items[i])
    if b + l > maxb and (n > 0 or not at_least_one) then break end
    n, b = n + 1, b + l
  end
  for i = #items, n + 1, -1 do items[i] = nil end
  return n
end
if mode == 'take' then
  local held = redis.call('LLEN', KEYS[2])
  if held > 0 then
    local items = redis.call('LRANGE', KEYS[2], 0, maxn - 1)
    local n = fitting(items, true)
    redis.call('HINCRBY', KEYS[3], 'redelivered', n)
    return {1, items, held, redis.call('LLEN', KEYS[1])}
  end
end
local items = redis.call('LRANGE', KEYS[1], 0, maxn - 1)
local n = fitting(items, mode == 'take')
if n > 0 then
  redis.call('LTRIM', KEYS[1], n, -1)
  push_all(KEYS[2], items, 1, n)
  redis.call('HINCRBY', KEYS[3], 'taken', n)
end
return {0, items, redis.call('LLEN', KEYS[2]), redis.call('LLEN', KEYS[1])}
`

// KEYS: inflight, stats, dead. ARGV: count, indexed, dead letters… (JSON lines).
// Acknowledges the batch at the head of the in-flight list: LTRIM of `count` items, the dead
// letters pushed and the totals counted in the same step. LTRIM rather than LREM per item: the
// in-flight list is exactly the current batch (one batch in flight at a time, and only this
// shipper's own loop writes to it), so trimming the head is O(count) for the whole batch, where
// LREM is O(length) per item and would have to match values (identical items are legitimate).
// A list shorter than `count` means a peer took it over while this shipper was presumed dead
// (or this ack already ran and its reply was lost): then nothing is done (returns 0); the peer
// sends and acknowledges those items itself, and ids make the double send harmless.
const ACK_LUA =
  PUSH_CHUNKS +
  `
local n = tonumber(ARGV[1])
if redis.call('LLEN', KEYS[1]) < n then return 0 end
redis.call('LTRIM', KEYS[1], n, -1)
if #ARGV > 2 then push_all(KEYS[3], ARGV, 3, #ARGV) end
redis.call('HINCRBY', KEYS[2], 'indexed', tonumber(ARGV[2]))
redis.call('HINCRBY', KEYS[2], 'dead_lettered', #ARGV - 2)
return 1
`

// KEYS: shippers, my inflight, stats. ARGV: key prefix, my id.
// Every registered peer without a heartbeat key is dead: its in-flight list is appended to
// mine and it leaves the set. Returns {peer, items, peer, items, …}.
const TAKEOVER_LUA =
  PUSH_CHUNKS +
  `
local out = {}
for _, p in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if p ~= ARGV[2] and redis.call('EXISTS', ARGV[1] .. ':shipper:' .. p) == 0 then
    local src = ARGV[1] .. ':inflight:' .. p
    local items = redis.call('LRANGE', src, 0, -1)
    if #items > 0 then push_all(KEYS[2], items, 1, #items) end
    redis.call('DEL', src)
    redis.call('SREM', KEYS[1], p)
    redis.call('HINCRBY', KEYS[3], 'taken_over', #items)
    table.insert(out, p)
    table.insert(out, #items)
  end
end
return out
`

export interface TakeResult {
  readonly items: Buffer[]
  /** The items came from this shipper's in-flight list (sent before, by it or a dead peer). */
  readonly redelivered: boolean
  /** Length of the in-flight list after the call. */
  readonly inflightLength: number
  /** Length of the amavis list after the call (items left there did not fit the limits). */
  readonly queuedAfter: number
}

export interface QueueSnapshot {
  readonly queued: number
  /** First item of the list (oldest queued), raw. */
  readonly head: Buffer | null
  readonly deadLetters: number
  readonly shippers: readonly { id: string; inflight: number; heartbeatTtlMs: number }[]
  readonly totals: Readonly<Record<string, number>>
}

export interface RedisQueue {
  readonly keys: QueueKeys
  readonly client: Redis
  take(maxEvents: number, maxBytes: number): Promise<TakeResult>
  fill(maxEvents: number, maxBytes: number): Promise<TakeResult>
  /** The whole in-flight list (used to resynchronise after an error during a fill). */
  readInflight(): Promise<Buffer[]>
  /** True when acknowledged; false when the in-flight list was no longer this batch (taken over). */
  ack(count: number, indexed: number, deadLetters: readonly string[]): Promise<boolean>
  heartbeat(ttlMs: number, value: string): Promise<void>
  takeOver(): Promise<{ peer: string; items: number }[]>
  /** Leaves the set and drops the heartbeat: a graceful stop with nothing in flight. */
  unregister(): Promise<void>
  /** Drops the heartbeat only (stop with items still in flight: a peer may take them at once). */
  dropHeartbeat(): Promise<void>
  inflightLength(): Promise<number>
  snapshot(): Promise<QueueSnapshot>
  close(): Promise<void>
}

type Reply = [number, Buffer[], number, number]
interface ScriptedRedis extends Redis {
  vigilTakeBuffer(list: string, inflight: string, stats: string, n: number, b: number, mode: string): Promise<Reply>
  vigilAck(
    inflight: string,
    stats: string,
    dead: string,
    n: number,
    indexed: number,
    ...lines: string[]
  ): Promise<number>
  vigilTakeover(
    shippers: string,
    inflight: string,
    stats: string,
    prefix: string,
    id: string,
  ): Promise<(string | number)[]>
}

export function createRedisQueue(target: RedisTarget, key: string, id: string, deadLetterKey?: string): RedisQueue {
  const keys = queueKeys(key, id, deadLetterKey)
  const s = parseRedisServer(target.server)
  const client = new Redis({
    ...(s.path ? { path: s.path } : { host: s.host, port: s.port }),
    db: target.db ?? 0,
    password: target.password,
    connectionName: `vigil-shipper[${id}]`,
    connectTimeout: 5000,
    // Errors reach the shipper's loop, which retries with its own backoff (and can stop): a
    // command must not wait in ioredis for ever, nor be re-sent behind the loop's back.
    maxRetriesPerRequest: 1,
    autoResendUnfulfilledCommands: false,
    retryStrategy: (times) => Math.min(times * 200, 2000),
    lazyConnect: false,
  }) as ScriptedRedis
  client.on('error', () => {}) // surfaced through the rejected commands
  client.defineCommand('vigilTake', { numberOfKeys: 3, lua: TAKE_LUA })
  client.defineCommand('vigilAck', { numberOfKeys: 3, lua: ACK_LUA })
  client.defineCommand('vigilTakeover', { numberOfKeys: 3, lua: TAKEOVER_LUA })

  const move = async (n: number, b: number, mode: 'take' | 'fill'): Promise<TakeResult> => {
    const [flag, items, len, left] = await client.vigilTakeBuffer(keys.list, keys.inflight, keys.stats, n, b, mode)
    return { items, redelivered: Number(flag) === 1, inflightLength: Number(len), queuedAfter: Number(left) }
  }
  return {
    keys,
    client,
    take: (n, b) => move(n, b, 'take'),
    fill: (n, b) => move(n, b, 'fill'),
    readInflight: () => client.lrangeBuffer(keys.inflight, 0, -1),
    async ack(count, indexed, deadLetters) {
      const r = await client.vigilAck(keys.inflight, keys.stats, keys.dead, count, indexed, ...deadLetters)
      return Number(r) === 1
    },
    async heartbeat(ttlMs, value) {
      await client.multi().set(keys.heartbeat, value, 'PX', ttlMs).sadd(keys.shippers, id).exec()
    },
    async takeOver() {
      const flat = await client.vigilTakeover(keys.shippers, keys.inflight, keys.stats, key, id)
      const out: { peer: string; items: number }[] = []
      for (let i = 0; i + 1 < flat.length; i += 2) out.push({ peer: String(flat[i]), items: Number(flat[i + 1]) })
      return out
    },
    async unregister() {
      await client.multi().del(keys.heartbeat).srem(keys.shippers, id).exec()
    },
    async dropHeartbeat() {
      await client.del(keys.heartbeat)
    },
    inflightLength: () => client.llen(keys.inflight),
    async snapshot() {
      const [[, queued], [, head], [, dead], [, ids], [, totals]] = (await client
        .multi()
        .llen(keys.list)
        .lindexBuffer(keys.list, 0)
        .llen(keys.dead)
        .smembers(keys.shippers)
        .hgetall(keys.stats)
        .exec()) as [unknown, unknown][]
      const peers = (ids as string[]).sort()
      const p = client.pipeline()
      for (const peer of peers) p.llen(`${key}:inflight:${peer}`).pttl(`${key}:shipper:${peer}`)
      const res = peers.length ? ((await p.exec()) as [unknown, unknown][]) : []
      const num: Record<string, number> = {}
      for (const [k, v] of Object.entries(totals as Record<string, string>)) num[k] = Number(v)
      return {
        queued: Number(queued),
        head: (head as Buffer | null) ?? null,
        deadLetters: Number(dead),
        shippers: peers.map((peer, i) => ({
          id: peer,
          inflight: Number(res[2 * i][1]),
          heartbeatTtlMs: Number(res[2 * i + 1][1]),
        })),
        totals: num,
      }
    },
    async close() {
      try {
        await client.quit()
      } catch {
        client.disconnect()
      }
    },
  }
}
