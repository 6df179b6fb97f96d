// LDAP lookups as amavis's Amavis::Lookup::LDAP (README.ldap): $default_ldap's base (`%d` the
// recipient's domain) and query_filter, where each `(attr=%m)` becomes an OR over the query keys;
// every matching entry is returned, ordered by the position of its `mail` value among the keys
// (most specific first). Client: ldapts (TypeScript, promise API, maintained; Net::LDAP's role).
// One connection (and bind) per message serves all its recipients, then it is unbound.
import { Client } from 'ldapts'
import type { AddressKeyOptions } from './address-keys.ts'
import { normalizeDomain, splitAddress } from './address-keys.ts'
import { makeQueryKeys } from './query-keys.ts'

export { DEFAULT_LDAP_FILTER } from './dynamic-defaults.ts'

/** Multi-valued attributes (amavis @mv_ldap_attrs): kept as lists. */
const MULTI_VALUED = new Set(['amaviswhitelistsender', 'amavisblacklistsender'])

export interface LdapSettings {
  /** Host, host:port or ldap:// URI; a list is tried in order. */
  hostname: string | readonly string[]
  port?: number
  base: string
  scope: 'base' | 'one' | 'sub'
  query_filter: string
  bind_dn?: string
  bind_password?: string
}

/** Attribute names lower-cased; one value as a string, multi-valued ones as lists; null: present, no answer (catch-all amavisLocal). */
export type LdapEntry = Readonly<Record<string, string | readonly string[] | null>>

export interface LdapLookup {
  /** Entries for each recipient, in one connection. */
  lookupAll(recipients: readonly { addr: string; isLocal: boolean }[]): Promise<LdapEntry[][]>
}

export function ldapUrls(s: LdapSettings): string[] {
  const hosts = typeof s.hostname === 'string' ? [s.hostname] : [...s.hostname]
  return hosts.map((h) => (/^ldaps?:\/\//.test(h) ? h : `ldap://${h}${s.port && !/:\d+$/.test(h) ? `:${s.port}` : ''}`))
}

/** RFC 4515 escaping of a filter value (Net::LDAP::Util::escape_filter_value). */
export function escapeFilterValue(v: string): string {
  return v.replace(/[\\*()\0]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
}

/** query_filter with each `(attr=%m)` expanded to `(|(attr=k1)(attr=k2)…)`; the attributes that carried %m. */
export function expandFilter(filter: string, keys: readonly string[]): { filter: string; attrs: string[] } {
  const attrs: string[] = []
  const escaped = keys.map(escapeFilterValue)
  const out = filter.replace(/\(([^(=]+)=%m\)/g, (_m, attr: string) => {
    attrs.push(attr)
    return `(|${escaped.map((k) => `(${attr}=${k})`).join('')})`
  })
  return { filter: out, attrs }
}

/** base with `%d` replaced by the address's domain (DN-escaped). */
export function baseFor(base: string, addr: string): string {
  if (!base.includes('%d')) return base
  const domain = normalizeDomain(splitAddress(addr)[1])
  if (!domain) return base
  return base.replace(/%d/g, domain.replace(/([,+"\\<>;=#])/g, '\\$1'))
}

function toEntry(raw: Record<string, unknown>): Record<string, string | string[]> {
  const e: Record<string, string | string[]> = {}
  for (const [k, v] of Object.entries(raw)) {
    const name = k.toLowerCase()
    const list = (Array.isArray(v) ? v : [v]).map((x) => (Buffer.isBuffer(x) ? x.toString('utf8') : String(x)))
    e[name] = MULTI_VALUED.has(name) ? list : (list[0] ?? '')
  }
  return e
}

export function createLdapLookup(
  s: LdapSettings,
  keyOpts: AddressKeyOptions,
  noAtMeansDomain: boolean,
  timeoutMs: number,
): LdapLookup {
  const urls = ldapUrls(s)
  const connect = async (): Promise<Client> => {
    let lastErr: unknown
    for (const url of urls) {
      const c = new Client({ url, timeout: timeoutMs, connectTimeout: timeoutMs })
      try {
        if (s.bind_dn) await c.bind(s.bind_dn, s.bind_password ?? '')
        else await c.search('', { scope: 'base', filter: '(objectClass=*)', attributes: ['1.1'] })
        return c
      } catch (err) {
        lastErr = err
        await c.unbind().catch(() => {})
      }
    }
    throw lastErr ?? new Error('no LDAP hostname')
  }
  return {
    async lookupAll(recipients) {
      if (recipients.length === 0) return []
      const client = await connect()
      try {
        const out: LdapEntry[][] = []
        for (const { addr, isLocal } of recipients) {
          const keys = [...(addr === '' ? ['<>'] : []), ...makeQueryKeys(addr, noAtMeansDomain, isLocal, keyOpts).keys]
          const { filter, attrs } = expandFilter(s.query_filter, keys)
          const { searchEntries } = await client.search(baseFor(s.base, addr), { scope: s.scope, filter })
          const pos = (e: Record<string, unknown>) => {
            for (const a of attrs) {
              const v = e[a] ?? e[Object.keys(e).find((k) => k.toLowerCase() === a.toLowerCase()) ?? '']
              const first = Array.isArray(v) ? v[0] : v
              if (first !== undefined) return keys.indexOf(String(first)) >>> 0
            }
            return keys.length
          }
          const ranked = searchEntries.map((e) => ({ p: pos(e), e: toEntry(e) }))
          ranked.sort((a, b) => a.p - b.p)
          out.push(
            ranked.map(({ e }) =>
              !('amavislocal' in e) && attrs.some((a) => e[a.toLowerCase()] === '@.') ? { ...e, amavislocal: null } : e,
            ),
          )
        }
        return out
      } finally {
        await client.unbind().catch(() => {})
      }
    },
  }
}
