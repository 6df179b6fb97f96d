// A hash lookup table (amavis lookup_hash, README.lookups "HASH LOOKUPS"): the address is tried
// as a series of keys from specific to general, and the first key present decides. A present
// key whose value is null is amavis's undef: this table has no answer, ask the next one.
import {
  type AddressKeyOptions,
  DEFAULT_KEY_OPTIONS,
  hashQueryKeys,
  normalizeDomain,
  splitAddress,
} from './address-keys.ts'
import { type LookupValue, type LookupTable, substituteCaptures, tableOf } from './table.ts'

/**
 * Builds a hash table from `key → value` entries. Keys are stored as amavis's read_hash stores
 * them: domain part lowercased (ACE), local part lowercased unless it is case-sensitive. String
 * values may reference $1..$5 (address, full localpart, localpart, extension, domain).
 */
export function createHashTable<T = LookupValue>(
  entries: Readonly<Record<string, T | null>> | ReadonlyMap<string, T | null>,
  opts: AddressKeyOptions = DEFAULT_KEY_OPTIONS,
): LookupTable<T> {
  const map = new Map<string, T | null>()
  const pairs = entries instanceof Map ? [...entries] : Object.entries(entries)
  for (const [k, v] of pairs) {
    const key = normalizeKey(k, opts)
    if (!map.has(key)) map.set(key, v)
  }
  return tableOf('hash', (addr) => {
    if (map.size === 0) return undefined
    const { keys, captures } = hashQueryKeys(addr, opts)
    for (const key of keys) {
      if (!map.has(key)) continue
      const v = map.get(key)
      return { key, value: v === null || v === undefined ? undefined : substituteCaptures(v, captures) }
    }
    return undefined
  })
}

function normalizeKey(k: string, opts: AddressKeyOptions): string {
  if (k === '.' || k === '' || k === '@') return k
  const [local, domain] = splitAddress(k)
  const lp = opts.localpartIsCaseSensitive ? local : local.toLowerCase()
  if (!domain) {
    // `example.com` or `.example.com`: a domain key (keep the leading dot).
    return lp.startsWith('.') ? `.${normalizeDomain(lp.slice(1))}` : normalizeDomain(lp)
  }
  return domain === '@' ? `${lp}@` : `${lp}@${normalizeDomain(domain)}`
}
