// What SQL and LDAP answer for a message's recipients, fetched once per message (the lookups
// stage) and then read synchronously by the settings lookup, as amavis's per-message caches of
// lookup_sql / lookup_ldap. Which column or attribute feeds which `@*_maps`, and its type, is
// amavis's (Amavis.pm: SQLfield / LDAPattr objects unshifted onto the maps, SQL first, then
// LDAP, then the static tables): B boolean, N numeric, S string; '-' no answer when the field is
// absent, B1 true when absent (local_domains_maps: a recipient found is local).
import type { LdapEntry } from './ldap.ts'
import type { SqlRow } from './sql.ts'
import type { LookupValue } from './table.ts'

type FieldType = 'B-' | 'B1' | 'N-' | 'S-'

/** settings map → [SQL column, LDAP attribute, type]. */
export const DYNAMIC_FIELDS: Readonly<Record<string, readonly [string, string, FieldType]>> = {
  local_domains_maps: ['local', 'amavisLocal', 'B1'],
  virus_lovers_maps: ['virus_lover', 'amavisVirusLover', 'B-'],
  spam_lovers_maps: ['spam_lover', 'amavisSpamLover', 'B-'],
  banned_files_lovers_maps: ['banned_files_lover', 'amavisBannedFilesLover', 'B-'],
  bad_header_lovers_maps: ['bad_header_lover', 'amavisBadHeaderLover', 'B-'],
  bypass_virus_checks_maps: ['bypass_virus_checks', 'amavisBypassVirusChecks', 'B-'],
  bypass_spam_checks_maps: ['bypass_spam_checks', 'amavisBypassSpamChecks', 'B-'],
  bypass_banned_checks_maps: ['bypass_banned_checks', 'amavisBypassBannedChecks', 'B-'],
  bypass_header_checks_maps: ['bypass_header_checks', 'amavisBypassHeaderChecks', 'B-'],
  spam_tag_level_maps: ['spam_tag_level', 'amavisSpamTagLevel', 'N-'],
  spam_tag2_level_maps: ['spam_tag2_level', 'amavisSpamTag2Level', 'N-'],
  spam_tag3_level_maps: ['spam_tag3_level', 'amavisSpamTag3Level', 'N-'],
  spam_kill_level_maps: ['spam_kill_level', 'amavisSpamKillLevel', 'N-'],
  spam_dsn_cutoff_level_maps: ['spam_dsn_cutoff_level', 'amavisSpamDsnCutoffLevel', 'N-'],
  spam_quarantine_cutoff_level_maps: ['spam_quarantine_cutoff_level', 'amavisSpamQuarantineCutoffLevel', 'N-'],
  spam_subject_tag_maps: ['spam_subject_tag', 'amavisSpamSubjectTag', 'S-'],
  spam_subject_tag2_maps: ['spam_subject_tag2', 'amavisSpamSubjectTag2', 'S-'],
  spam_subject_tag3_maps: ['spam_subject_tag3', 'amavisSpamSubjectTag3', 'S-'],
  virus_quarantine_to_maps: ['virus_quarantine_to', 'amavisVirusQuarantineTo', 'S-'],
  spam_quarantine_to_maps: ['spam_quarantine_to', 'amavisSpamQuarantineTo', 'S-'],
  banned_quarantine_to_maps: ['banned_quarantine_to', 'amavisBannedQuarantineTo', 'S-'],
  bad_header_quarantine_to_maps: ['bad_header_quarantine_to', 'amavisBadHeaderQuarantineTo', 'S-'],
  message_size_limit_maps: ['message_size_limit', 'amavisMessageSizeLimit', 'N-'],
  addr_extension_virus_maps: ['addr_extension_virus', 'amavisAddrExtensionVirus', 'S-'],
  addr_extension_spam_maps: ['addr_extension_spam', 'amavisAddrExtensionSpam', 'S-'],
  addr_extension_banned_maps: ['addr_extension_banned', 'amavisAddrExtensionBanned', 'S-'],
  addr_extension_bad_header_maps: ['addr_extension_bad_header', 'amavisAddrExtensionBadHeader', 'S-'],
  virus_admin_maps: ['virus_admin', 'amavisVirusAdmin', 'S-'],
  spam_admin_maps: ['spam_admin', 'amavisSpamAdmin', 'S-'],
  banned_filename_maps: ['banned_rulenames', 'amavisBannedRuleNames', 'S-'],
}

/** One recipient's answers: SQL rows and LDAP entries (best first), and the sender's listing. */
export interface RecipientAnswers {
  readonly sql: readonly SqlRow[]
  readonly ldap: readonly LdapEntry[]
  /** From SQL wblist or LDAP amavis{White,Black}listSender; undefined: neither knows the sender. */
  readonly listing?: { readonly whitelisted: boolean; readonly blacklisted: boolean }
}

export interface DynamicAnswers {
  /** The first defined SQL answer, else LDAP's, for a settings map; undefined: ask the static tables. */
  value(map: string, rcpt: string): LookupValue | undefined
  listing(rcpt: string): RecipientAnswers['listing']
}

/** SQLfield's conversion: B is false for N, F, space, 0… (one character), N a number, S as is. */
function sqlValue(row: SqlRow, col: string, type: FieldType): LookupValue | undefined {
  if (!(col in row)) return type === 'B1' ? true : undefined
  const v = row[col]
  if (v === null || v === undefined) return undefined
  if (type[0] === 'B') return !/^([NnFf ]|0+|\0+) *$/.test(String(v))
  if (type[0] === 'N') return Number(v)
  return String(v)
}

/** LDAPattr's conversion: B is `TRUE` or not, N a number, S as is. */
function ldapValue(e: LdapEntry, attr: string, type: FieldType): LookupValue | undefined {
  const a = attr.toLowerCase()
  if (!(a in e)) return type === 'B1' ? true : undefined
  const v = e[a]
  if (v === null || Array.isArray(v)) return undefined
  if (type[0] === 'B') return v === 'TRUE'
  if (type[0] === 'N') return Number(v)
  return v as string
}

export function dynamicAnswers(byRcpt: ReadonlyMap<string, RecipientAnswers>): DynamicAnswers {
  return {
    value(map, rcpt) {
      const f = DYNAMIC_FIELDS[map]
      const a = byRcpt.get(rcpt)
      if (!f || !a) return undefined
      for (const row of a.sql) {
        const v = sqlValue(row, f[0], f[2])
        if (v !== undefined) return v
      }
      for (const e of a.ldap) {
        const v = ldapValue(e, f[1], f[2])
        if (v !== undefined) return v
      }
      return undefined
    },
    listing: (rcpt) => byRcpt.get(rcpt)?.listing,
  }
}

/**
 * amavis white_black_list on one wblist answer: B/N/F blacklisted, space neutral (known, not
 * listed), a number a soft score (not a listing: Vigil does not apply it), anything else whitelisted.
 */
export function wbValue(wb: string): { whitelisted: boolean; blacklisted: boolean } | undefined {
  if (/^ *[+-]?\d+(\.\d*)? *$/.test(wb)) return undefined
  if (/^[ \0]*$/.test(wb)) return { whitelisted: false, blacklisted: false }
  if (/^[BbNnFf] *$/.test(wb)) return { whitelisted: false, blacklisted: true }
  return { whitelisted: true, blacklisted: false }
}

/** LDAP listing: a sender key (make_query_keys(sender, 0, 0)) among the values of the first entry carrying each attribute. */
export function ldapListing(
  entries: readonly LdapEntry[],
  senderKeys: readonly string[],
): { whitelisted: boolean; blacklisted: boolean } | undefined {
  const has = (attr: string) => {
    const v = entries.find((e) => Array.isArray(e[attr]))?.[attr]
    const list = Array.isArray(v) ? (v as readonly string[]) : []
    return senderKeys.some((k) => list.some((x) => x.toLowerCase() === k.toLowerCase()))
  }
  const blacklisted = has('amavisblacklistsender')
  const whitelisted = has('amaviswhitelistsender')
  return blacklisted || whitelisted ? { whitelisted, blacklisted } : undefined
}
