// The one interface every lookup table kind implements (amavis Amavis::Lookup::lookup2: hash,
// ACL, list of regular expressions, constant, IP ACL; SQL and LDAP plug in later). A table is
// asked with one key, usually a raw (unquoted, unbracketed) e-mail address, and answers a value
// or undefined. Values are what amavis returns: numbers, strings, and true/false for ACLs.
import { ErrorCode, VigilError } from '@vigil/protocol'

export type LookupValue = string | number | boolean

/**
 * What a table found for a key. `value` undefined is amavis's undef: the table knew the key but
 * has no answer, so the search in this table stops and the next table of a `*_maps` list is asked.
 */
export interface LookupMatch<T> {
  readonly value: T | undefined
  /** The entry that matched, as amavis logs it (`matching_key`). */
  readonly key: string
}

export interface LookupTable<T = LookupValue> {
  /** 'hash', 'acl', 're', 'constant', 'maps', 'ip-acl', 'ip-hash' (for logs). */
  readonly kind: string
  /** The first matching entry, or undefined when nothing matched. Never throws. */
  match(key: string): LookupMatch<T> | undefined
  /** `match(key)?.value`: the answer, or undefined when there is none. */
  lookup(key: string): T | undefined
}

/** Builds a table from its `match` function. */
export function tableOf<T>(kind: string, match: (key: string) => LookupMatch<T> | undefined): LookupTable<T> {
  return { kind, match, lookup: (key) => match(key)?.value }
}

/** Reports a bad table entry at its path; the config loader collects these, builders at run time throw. */
export type ProblemSink = (path: readonly (string | number)[], message: string) => void

/** The sink of tables built outside the config loader: the first bad entry throws CONFIG_INVALID. */
export const throwOnProblem: ProblemSink = (path, message) => {
  throw new VigilError(ErrorCode.CONFIG_INVALID, `${path.length ? `${path.join('.')}: ` : ''}${message}.`)
}

/** Perl truth, as amavis reads a lookup result: undefined, '', '0', 0 and false are false. */
export function isTrue(v: unknown): boolean {
  return !(v === undefined || v === null || v === false || v === '' || v === '0' || v === 0)
}

/**
 * Substitutes `$1`, `${1}` and `$(1)` in a string result with the captures (amavis lookup_re and
 * lookup_hash right-hand sides). `$0` and references past the last capture become ''.
 */
export function substituteCaptures<T>(value: T, captures: readonly (string | undefined)[]): T {
  if (typeof value !== 'string' || !value.includes('$')) return value
  return value.replace(/\$(?:(\d+)|\{(\d+)\}|\((\d+)\))/g, (_m, a, b, c) => {
    const j = Number(a ?? b ?? c)
    return j < 1 ? '' : (captures[j - 1] ?? '')
  }) as T
}
