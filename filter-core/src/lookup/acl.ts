// An access list of addresses and domains (amavis lookup_acl, README.lookups "LIST LOOKUPS"):
// entries are tried in order and the first match decides, true unless the entry starts with an
// odd number of '!'. No match is undefined. ACLs know nothing of address extensions.
import { type AddressKeyOptions, DEFAULT_KEY_OPTIONS, normalizeDomain, splitAddress } from './address-keys.ts'
import { type LookupTable, tableOf } from './table.ts'

interface AclEntry {
  readonly raw: string
  readonly result: boolean
  /** 'address': localpart@domain; 'subdomain': the domain and its subdomains; 'domain': exactly. */
  readonly type: 'address' | 'subdomain' | 'domain'
  readonly local: string
  readonly domain: string
}

/** Builds an ACL. An entry with '@' compares the whole address, `.dom` the domain and subdomains, `dom` the domain only. */
export function createAclTable(
  entries: readonly string[],
  opts: AddressKeyOptions = DEFAULT_KEY_OPTIONS,
): LookupTable<boolean> {
  const lpcs = opts.localpartIsCaseSensitive
  const acl: AclEntry[] = entries.map((raw) => {
    const bang = /^!+/.exec(raw)?.[0] ?? ''
    const key = raw.slice(bang.length)
    const result = bang.length % 2 === 0
    const at = key.lastIndexOf('@')
    if (at >= 0) {
      const local = key.slice(0, at)
      return {
        raw,
        result,
        type: 'address',
        local: lpcs ? local : local.toLowerCase(),
        domain: key.slice(at + 1).toLowerCase(),
      }
    }
    if (key.startsWith('.')) return { raw, result, type: 'subdomain', local: '', domain: key.slice(1).toLowerCase() }
    return { raw, result, type: 'domain', local: '', domain: key.toLowerCase() }
  })
  return tableOf('acl', (addr) => {
    const [local0, domain0] = splitAddress(addr)
    const local = lpcs ? local0 : local0.toLowerCase()
    const domain = normalizeDomain(domain0)
    for (const e of acl) {
      const hit =
        e.type === 'address'
          ? local === e.local && domain === e.domain
          : e.type === 'subdomain'
            ? e.domain === '' || domain === e.domain || domain.endsWith(`.${e.domain}`)
            : domain === e.domain
      if (hit) return { key: e.raw, value: e.result }
    }
    return undefined
  })
}
