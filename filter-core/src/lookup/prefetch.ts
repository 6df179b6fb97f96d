// One message's SQL and LDAP lookups, all recipients at once, under one deadline (the lookups
// stage). Clients are made once per configuration and kept (a pg pool, an open SQLite file; LDAP
// connects per message). A lookup that fails or does not answer in time rejects: the caller
// decides (lookup_failure) — nothing here falls back to defaults.
import type { FilterConfig } from '../config.ts'
import type { AddressKeyOptions } from './address-keys.ts'
import { type DynamicAnswers, type RecipientAnswers, dynamicAnswers, ldapListing, wbValue } from './dynamic.ts'
import { type LdapLookup, createLdapLookup } from './ldap.ts'
import { makeQueryKeys } from './query-keys.ts'
import { type SqlLookup, createSqlLookup } from './sql.ts'

export interface LookupClients {
  readonly sql?: SqlLookup
  readonly ldap?: LdapLookup
}

/** Counted per message (am.snmp): amavis's OpsSqlSelect and OpsLDAPSearch, one per query. */
export interface LookupCounts {
  sql: number
  ldap: number
}

export class LookupTimeout extends Error {}

const clients = new WeakMap<FilterConfig, LookupClients>()

export function dynamicLookupsEnabled(cfg: FilterConfig): boolean {
  return cfg.lookup_sql_dsn.length > 0 || cfg.enable_ldap
}

export function lookupClients(cfg: FilterConfig): LookupClients {
  let c = clients.get(cfg)
  if (!c) {
    const keys: AddressKeyOptions = {
      recipientDelimiter: cfg.recipient_delimiter,
      localpartIsCaseSensitive: cfg.localpart_is_case_sensitive,
    }
    c = {
      sql: cfg.lookup_sql_dsn.length
        ? createSqlLookup({
            dsns: cfg.lookup_sql_dsn,
            selectPolicy: cfg.sql_select_policy,
            selectWbList: cfg.sql_select_white_black_list,
            noAtMeansDomain: cfg.sql_lookups_no_at_means_domain,
            keys,
            timeoutMs: cfg.lookup_timeout_ms,
          })
        : undefined,
      ldap: cfg.enable_ldap
        ? createLdapLookup(cfg.default_ldap, keys, cfg.ldap_lookups_no_at_means_domain, cfg.lookup_timeout_ms)
        : undefined,
    }
    clients.set(cfg, c)
  }
  return c
}

/** Closes the clients of a configuration (tests, shutdown). */
export async function closeLookupClients(cfg: FilterConfig): Promise<void> {
  const c = clients.get(cfg)
  clients.delete(cfg)
  await c?.sql?.close()
}

export interface FetchInput {
  readonly cfg: FilterConfig
  readonly recipients: readonly string[]
  readonly sender: string
  /** Static local_domains_maps (amavis: never SQL/LDAP, to avoid recursion). */
  readonly isLocal: (addr: string) => boolean
  readonly counts: LookupCounts
}

async function fetchAll(c: LookupClients, i: FetchInput): Promise<Map<string, RecipientAnswers>> {
  const keys: AddressKeyOptions = {
    recipientDelimiter: i.cfg.recipient_delimiter,
    localpartIsCaseSensitive: i.cfg.localpart_is_case_sensitive,
  }
  const rcpts = [...new Set(i.recipients)]
  const senderLocal = i.isLocal(i.sender)
  const ldapP = c.ldap
    ? c.ldap.lookupAll(rcpts.map((addr) => ({ addr, isLocal: i.isLocal(addr) }))).then((r) => {
        i.counts.ldap += rcpts.length
        return r
      })
    : Promise.resolve(rcpts.map(() => []))
  const sqlP = Promise.all(
    rcpts.map(async (addr) => {
      if (!c.sql) return { rows: [], listing: undefined }
      i.counts.sql++
      const rows = await c.sql.policy(addr, i.isLocal(addr))
      // wblist against every users.id matching the recipient, best first; the first answer stops.
      for (const row of rows) {
        if (row.id === null || row.id === undefined) continue
        i.counts.sql++
        const wb = (await c.sql.wblist(row.id, i.sender, senderLocal)).find((r) => r.wb !== null && r.wb !== undefined)
        const listing = wb ? wbValue(String(wb.wb)) : undefined
        if (listing) return { rows, listing }
      }
      return { rows, listing: undefined }
    }),
  )
  const [ldap, sql] = await Promise.all([ldapP, sqlP])
  const senderKeys = [...(i.sender === '' ? ['<>'] : []), ...makeQueryKeys(i.sender, false, false, keys).keys]
  const out = new Map<string, RecipientAnswers>()
  rcpts.forEach((addr, k) => {
    const listing = sql[k].listing ?? ldapListing(ldap[k], senderKeys)
    out.set(addr, { sql: sql[k].rows, ldap: ldap[k], listing })
  })
  return out
}

/** Every recipient's answers within cfg.lookup_timeout_ms; rejects (LookupTimeout or the server's error) otherwise. */
export async function fetchDynamicAnswers(i: FetchInput): Promise<DynamicAnswers> {
  const c = lookupClients(i.cfg)
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_r, reject) => {
    timer = setTimeout(
      () => reject(new LookupTimeout(`SQL/LDAP lookups did not answer within ${i.cfg.lookup_timeout_ms} ms`)),
      i.cfg.lookup_timeout_ms,
    )
  })
  const work = fetchAll(c, i)
  work.catch(() => {}) // a late failure after the deadline must not become an unhandled rejection
  try {
    return dynamicAnswers(await Promise.race([work, deadline]))
  } finally {
    clearTimeout(timer)
  }
}
