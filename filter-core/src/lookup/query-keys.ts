// make_query_keys($addr, $at_with_user, $include_bare_user) of amavis's rfc2821_2822_Tools in full:
// the keys SQL (%k) and LDAP (%m) lookups ask for. The hash lookup uses the (1, 1) form
// (address-keys.ts hashQueryKeys); SQL and LDAP default to $*_lookups_no_at_means_domain = 0:
// bare users without '@' (`user+foo`, `user`, local recipients only) and domains with one
// (`@sub.example.com`, `@.sub.example.com` … `@.`).
import { type AddressKeyOptions, normalizeDomain, splitAddress, splitLocalpart } from './address-keys.ts'

export interface DynamicQueryKeys {
  /** Keys in search order, most specific first, without duplicates. */
  readonly keys: readonly string[]
  /** %a %l %u %e %d of $sql_select_policy: address, full localpart, user, extension, domain. */
  readonly rhs: readonly [string, string, string, string, string]
}

export function makeQueryKeys(
  addr: string,
  atWithUser: boolean,
  includeBareUser: boolean,
  opts: AddressKeyOptions,
): DynamicQueryKeys {
  const [fullLocal, rawDomain] = splitAddress(addr)
  const lower = opts.localpartIsCaseSensitive ? fullLocal : fullLocal.toLowerCase()
  const domain = normalizeDomain(rawDomain)
  const [local, ext] = splitLocalpart(lower, opts.recipientDelimiter)
  const [toUser, toDomain] = atWithUser ? ['@', ''] : ['', '@']
  const keys = [addr]
  if (ext) keys.push(`${local}${ext}@${domain}`)
  keys.push(`${local}@${domain}`)
  if (includeBareUser) {
    if (ext) keys.push(`${local}${ext}${toUser}`)
    keys.push(`${local}${toUser}`)
  }
  keys.push(`${toDomain}${domain}`)
  if (domain.includes('[')) keys.push(`${toDomain}.`)
  else {
    const dkeys: string[] = []
    for (let d = domain; ;) {
      dkeys.push(`${toDomain}.${d}`)
      if (d === '') break
      const dot = d.indexOf('.')
      d = dot < 0 ? '' : d.slice(dot + 1)
    }
    keys.push(...dkeys.slice(-20))
  }
  return { keys: [...new Set(keys)], rhs: [addr, fullLocal, local, ext, domain] }
}
