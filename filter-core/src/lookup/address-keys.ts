// How amavis takes an e-mail address apart for lookups (rfc2821_2822_Tools: split_address,
// split_localpart, make_query_keys). Pure string work, shared by the hash and ACL tables.
import { domainToASCII } from 'node:url'

export interface AddressKeyOptions {
  /** $recipient_delimiter: characters that start an address extension ('' = none). */
  readonly recipientDelimiter: string
  /** $localpart_is_case_sensitive (amavis default false: local parts are lowercased). */
  readonly localpartIsCaseSensitive: boolean
}

export const DEFAULT_KEY_OPTIONS: AddressKeyOptions = { recipientDelimiter: '+', localpartIsCaseSensitive: false }

/** Splits at the last '@' (the domain keeps its '@'; no '@' gives an empty domain), as split_address. */
export function splitAddress(addr: string): [localpart: string, domain: string] {
  const at = addr.lastIndexOf('@')
  return at < 0 ? [addr, ''] : [addr.slice(0, at), addr.slice(at)]
}

/**
 * The domain as amavis compares it: leading '@' and trailing dots removed, lowercased, an
 * international name in ASCII (ACE) form. Address literals (`[192.0.2.1]`) are only lowercased.
 */
export function normalizeDomain(domain: string): string {
  const d = domain.replace(/^@/, '').replace(/\.+$/, '')
  if (d === '' || d.startsWith('[')) return d.toLowerCase()
  return domainToASCII(d) || d.toLowerCase()
}

/**
 * Splits `user+ext` at the first delimiter character (the extension keeps its delimiter), except
 * postmaster, mailer-daemon, double-bounce, and owner-foo / foo-request when '-' is a delimiter.
 */
export function splitLocalpart(localpart: string, delimiter: string): [string, string] {
  if (delimiter === '' || /^(postmaster|mailer-daemon|double-bounce)$/i.test(localpart)) return [localpart, '']
  if (delimiter.includes('-') && /^owner-.|.-request$/is.test(localpart)) return [localpart, '']
  for (let i = 1; i < localpart.length; i++) {
    if (delimiter.includes(localpart[i])) return [localpart.slice(0, i), localpart.slice(i)]
  }
  return [localpart, '']
}

export interface QueryKeys {
  /** Keys in search order, most specific first, without duplicates. */
  readonly keys: readonly string[]
  /** $1..$5 for right-hand sides: address, full localpart, localpart, extension, domain. */
  readonly captures: readonly string[]
}

/**
 * The hash-lookup keys of make_query_keys($addr, 1, 1), e.g. for User+foo@Sub.Example.com:
 * as is, user+foo@sub.example.com, user@sub.example.com, user+foo@, user@, sub.example.com,
 * .sub.example.com, .example.com, .com, '.'.
 */
export function hashQueryKeys(addr: string, opts: AddressKeyOptions): QueryKeys {
  const [fullLocal, rawDomain] = splitAddress(addr)
  const lower = opts.localpartIsCaseSensitive ? fullLocal : fullLocal.toLowerCase()
  const domain = normalizeDomain(rawDomain)
  const [local, ext] = splitLocalpart(lower, opts.recipientDelimiter)
  const keys = [addr]
  if (ext) keys.push(`${local}${ext}@${domain}`)
  keys.push(`${local}@${domain}`)
  if (ext) keys.push(`${local}${ext}@`)
  keys.push(`${local}@`, domain)
  if (domain.includes('[')) keys.push('.')
  else {
    const dkeys: string[] = []
    for (let d = domain; ;) {
      dkeys.push(`.${d}`)
      if (d === '') break
      const dot = d.indexOf('.')
      d = dot < 0 ? '' : d.slice(dot + 1)
    }
    keys.push(...dkeys.slice(-20))
  }
  return { keys: [...new Set(keys)], captures: [addr, fullLocal, local, ext, domain] }
}
