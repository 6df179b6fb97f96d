// The filter's DNS resolver (config `filter.dns`): node:dns's c-ares Resolver on the configured
// servers, a per-query deadline that always settles, and a small cache shared by a worker's
// messages. Used for DKIM key look-ups (dkim/verify.ts). A failure never throws anything but an
// Error with a DNS `code`: ENOTFOUND/ENODATA mean "no such record" (cached briefly, as a negative
// answer), everything else (ETIMEOUT, ECONNREFUSED, ESERVFAIL, …) is temporary and not cached.
import { Resolver } from 'node:dns/promises'

export interface DnsSettings {
  /** `host:port` / `[v6]:port` / `host`; empty: the system's resolv.conf servers. */
  servers: readonly string[]
  /** Per try, ms (c-ares `timeout`). */
  timeout_ms: number
  /** Tries per server (c-ares `tries`). */
  tries: number
  /** Answers kept (least recently used dropped first); 0 disables the cache. */
  cache_size: number
  /** How long an answer is kept, seconds (the Resolver does not report record TTLs). */
  cache_ttl_secs: number
  /** How long "no such record" is kept, seconds. */
  negative_ttl_secs: number
}

export const DEFAULT_DNS: DnsSettings = {
  servers: [],
  timeout_ms: 3000,
  tries: 2,
  cache_size: 1000,
  cache_ttl_secs: 300,
  negative_ttl_secs: 60,
}

export type DnsError = Error & { code: string }

export interface DnsResolver {
  /** TXT records of `name`, each as its character strings. Rejects with a DnsError. */
  resolveTxt(name: string): Promise<string[][]>
  /** Queries answered from the cache / sent to a server, and failures by code (for counters and tests). */
  readonly stats: { hits: number; queries: number; failures: Record<string, number> }
}

const NEGATIVE = new Set(['ENOTFOUND', 'ENODATA'])

function dnsError(code: string, message: string): DnsError {
  return Object.assign(new Error(message), { code })
}

interface Entry {
  expires: number
  value?: string[][]
  code?: string
}

export function createDnsResolver(settings: Partial<DnsSettings> = {}, now = () => Date.now()): DnsResolver {
  const s = { ...DEFAULT_DNS, ...settings }
  const resolver = new Resolver({ timeout: s.timeout_ms, tries: s.tries })
  if (s.servers.length) resolver.setServers([...s.servers])
  // c-ares settles every query by itself; this deadline is the backstop that makes "never a hang"
  // independent of it: every configured server, every try, plus a margin.
  const deadlineMs = s.timeout_ms * s.tries * Math.max(1, s.servers.length) * 2 + 500
  const cache = new Map<string, Entry>()
  const inflight = new Map<string, Promise<string[][]>>()
  const stats = { hits: 0, queries: 0, failures: {} as Record<string, number> }

  const remember = (name: string, e: Entry) => {
    if (!s.cache_size) return
    cache.delete(name)
    cache.set(name, e)
    while (cache.size > s.cache_size) cache.delete(cache.keys().next().value!)
  }

  const query = async (name: string): Promise<string[][]> => {
    stats.queries++
    let timer: NodeJS.Timeout | undefined
    try {
      const answer = await Promise.race([
        resolver.resolveTxt(name),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(dnsError('ETIMEOUT', `queryTxt ETIMEOUT ${name}`)), deadlineMs)
          timer.unref()
        }),
      ])
      remember(name, { expires: now() + s.cache_ttl_secs * 1000, value: answer })
      return answer
    } catch (e) {
      const code = typeof (e as DnsError).code === 'string' ? (e as DnsError).code : 'EDNS'
      stats.failures[code] = (stats.failures[code] ?? 0) + 1
      if (NEGATIVE.has(code)) remember(name, { expires: now() + s.negative_ttl_secs * 1000, code })
      throw dnsError(code, (e as Error).message ?? `queryTxt ${code} ${name}`)
    } finally {
      clearTimeout(timer)
    }
  }

  return {
    stats,
    resolveTxt(name0) {
      const name = name0.toLowerCase().replace(/\.$/, '')
      const hit = cache.get(name)
      if (hit && hit.expires > now()) {
        stats.hits++
        cache.delete(name)
        cache.set(name, hit)
        return hit.value
          ? Promise.resolve(hit.value)
          : Promise.reject(dnsError(hit.code!, `queryTxt ${hit.code} ${name}`))
      }
      if (hit) cache.delete(name)
      let p = inflight.get(name)
      if (!p) {
        p = query(name).finally(() => inflight.delete(name))
        inflight.set(name, p)
      }
      return p
    },
  }
}

const shared = new WeakMap<object, DnsResolver>()

/** One resolver (and cache) per settings object: a worker's messages share it. */
export function resolverFor(settings: DnsSettings): DnsResolver {
  let r = shared.get(settings)
  if (!r) shared.set(settings, (r = createDnsResolver(settings)))
  return r
}
