// Per-recipient settings through amavis's lookup maps (README.lookups, amavisd.conf-default
// `@*_maps`). The pipeline never reads a check setting from the global config: it asks
// settingsFor(recipient). A `*_maps` key that is absent has amavis's default, the list holding
// just the matching scalar setting (`@spam_kill_level_maps = (\$sa_kill_level_deflt)`); one that
// is given replaces it, and a recipient no table answers gets amavis's undef (see fallbacks).
import { DESTINY } from '@vigil/protocol'
import type { FilterConfig, PolicyBank } from '../config.ts'
import type { AddressKeyOptions } from '../lookup/address-keys.ts'
import { createAclTable } from '../lookup/acl.ts'
import { createIpAclTable, parseIpNetwork, type IpNetwork } from '../lookup/ip.ts'
import {
  type MapKind,
  type MapsSpec,
  type TableSpec,
  buildIpMaps,
  buildMaps,
  buildPerRecipientTables,
} from '../lookup/spec.ts'
import { type LookupTable, type LookupValue, isTrue } from '../lookup/table.ts'
import type { DynamicAnswers } from '../lookup/dynamic.ts'

type BannedRule = { readonly pattern: string; readonly allow?: boolean }

export interface Settings {
  bypassVirusChecks: boolean
  bypassSpamChecks: boolean
  bypassBannedChecks: boolean
  bypassHeaderChecks: boolean
  /** @{virus,spam,banned_files,bad_header}_lovers_maps: the recipient gets the mail whatever its category. */
  virusLover: boolean
  spamLover: boolean
  bannedFilesLover: boolean
  badHeaderLover: boolean
  /** Spam levels; amavis's undef is -Infinity for the tag level (always tag), Infinity for the others (never). */
  tagLevel: number
  tag2Level: number
  tag3Level: number
  killLevel: number
  dsnCutoffLevel: number
  quarantineCutoffLevel: number
  /** @spam_subject_tag2_maps ($sa_spam_subject_tag); '' = none. */
  spamSubjectTag: string
  /** @spam_subject_tag_maps (tag level) and @spam_subject_tag3_maps; '' = none. */
  spamSubjectTag1: string
  spamSubjectTag3: string
  virusDestiny: number
  bannedDestiny: number
  spamDestiny: number
  badHeaderDestiny: number
  uncheckedDestiny: number
  virusQuarantineTo: string
  bannedQuarantineTo: string
  spamQuarantineTo: string
  badHeaderQuarantineTo: string
  virusAdmin: string
  spamAdmin: string
  /** @message_size_limit_maps in bytes; 0 = no limit. */
  messageSizeLimit: number
  /** @banned_filename_maps resolved through %banned_rules (`DEFAULT` is banned_filename_re). */
  bannedRules: readonly BannedRule[]
  /** @addr_extension_*_maps: extension added to the recipient for that category; '' = none. */
  addrExtensionVirus: string
  addrExtensionSpam: string
  addrExtensionBanned: string
  addrExtensionBadHeader: string
}

/** Settings that apply to the message as a whole (amavis reads these from the current policy bank). */
export interface MessageSettings {
  virusCheckTimeoutSecs: number
  spamCheckTimeoutSecs: number
  virusOnFailure: 'tempfail' | 'pass'
  spamOnFailure: 'tempfail' | 'pass'
  bannedRules: readonly BannedRule[]
}

/** amavis white_black_list for one recipient: a sender can be both (each flag as amavis logs it). */
export interface SenderListing {
  whitelisted: boolean
  blacklisted: boolean
}

export interface SettingsLookup {
  /** The recipient's settings; answers are cached in this lookup (one per message: see withBanks). */
  settingsFor(recipient: string): Settings
  /** Message-level settings (policy bank of the listener/client). */
  forMessage(): MessageSettings
  isLocal(recipient: string): boolean
  /** @mynetworks_maps (default: @mynetworks). A client without an address is in no network. */
  isMyNetwork(ip: string | undefined): boolean
  /** The originating flag: a loaded bank's `originating`, else whether the client is in @mynetworks. */
  isOriginating(clientIp: string | undefined): boolean
  /**
   * Whether any of `senders` is black-/whitelisted for `recipient`: the recipient's table of
   * $per_recip_*list_sender_lookup_tables first, then @{white,black}list_sender_maps (amavis wbl).
   */
  senderListing(recipient: string, senders: readonly string[]): SenderListing
  /** Names of the loaded policy banks, in load order. */
  readonly banks: readonly string[]
  /** Banks a message loads: the listener's, then MYNETS for @mynetworks clients (when defined). */
  banksFor(listenerBank: string | undefined, clientIp: string | undefined): string[]
  /** This lookup with the named banks loaded on top (unknown names are ignored) and fresh caches. */
  withBanks(names: readonly string[]): SettingsLookup
  /** This lookup with a message's SQL/LDAP answers asked before every static table (lookups stage). */
  withDynamic(answers: DynamicAnswers): SettingsLookup
}

/** Builds the lookup; tables are built once per bank combination, caches live per lookup. */
export function createSettingsLookup(cfg: FilterConfig): SettingsLookup {
  const compiled = new Map<string, Compiled>()
  const compiledFor = (banks: readonly string[]) => {
    const key = banks.join('\0')
    let c = compiled.get(key)
    if (!c) compiled.set(key, (c = compile(cfg, banks)))
    return c
  }
  const build = (banks: readonly string[], dyn?: DynamicAnswers): SettingsLookup =>
    instance(cfg, compiledFor(banks), banks, build, dyn)
  return build([])
}

type Effective = FilterConfig & PolicyBank
type Maps = Record<string, LookupTable<LookupValue>>

interface Compiled {
  readonly cfg: Effective
  readonly overlay: PolicyBank
  readonly maps: Maps
  readonly local: LookupTable<LookupValue>
  readonly mynets: LookupTable<LookupValue>
  readonly perRecipWhite?: LookupTable<LookupTable<LookupValue>>
  readonly perRecipBlack?: LookupTable<LookupTable<LookupValue>>
  readonly msg: MessageSettings
}

/** Each map with its kind and amavis's default list (amavisd.conf-default). */
const MAPS: Record<string, [MapKind, (c: Effective) => TableSpec[]]> = {
  bypass_virus_checks_maps: ['boolean', (c) => [c.bypass_virus_checks]],
  bypass_spam_checks_maps: ['boolean', (c) => [c.bypass_spam_checks]],
  bypass_banned_checks_maps: ['boolean', (c) => [c.bypass_banned_checks]],
  bypass_header_checks_maps: ['boolean', (c) => [c.bypass_header_checks]],
  virus_lovers_maps: ['boolean', () => []],
  spam_lovers_maps: ['boolean', () => []],
  banned_files_lovers_maps: ['boolean', () => []],
  bad_header_lovers_maps: ['boolean', () => []],
  spam_tag_level_maps: ['number', (c) => [c.sa_tag_level_deflt]],
  spam_tag2_level_maps: ['number', (c) => [c.sa_tag2_level_deflt]],
  spam_tag3_level_maps: ['number', () => []],
  spam_kill_level_maps: ['number', (c) => [c.sa_kill_level_deflt]],
  spam_dsn_cutoff_level_maps: ['number', (c) => [c.sa_dsn_cutoff_level]],
  spam_quarantine_cutoff_level_maps: ['number', () => []],
  spam_subject_tag_maps: ['string', () => []],
  spam_subject_tag2_maps: ['string', (c) => [c.sa_spam_subject_tag]],
  spam_subject_tag3_maps: ['string', () => []],
  message_size_limit_maps: ['number', () => []],
  virus_admin_maps: ['string', (c) => [c.virus_admin]],
  spam_admin_maps: ['string', () => []],
  banned_filename_maps: ['string', () => ['DEFAULT']],
  virus_quarantine_to_maps: ['string', (c) => [c.virus_quarantine_to]],
  spam_quarantine_to_maps: ['string', (c) => [c.spam_quarantine_to]],
  banned_quarantine_to_maps: ['string', (c) => [c.banned_quarantine_to]],
  bad_header_quarantine_to_maps: ['string', (c) => [c.bad_header_quarantine_to]],
  addr_extension_virus_maps: ['string', () => []],
  addr_extension_spam_maps: ['string', () => []],
  addr_extension_banned_maps: ['string', () => []],
  addr_extension_bad_header_maps: ['string', () => []],
  whitelist_sender_maps: ['boolean', () => []],
  blacklist_sender_maps: ['boolean', () => []],
}

/** The settings of the named policy banks laid over each other in load order (a later bank wins). */
export function bankOverlay(cfg0: FilterConfig, banks: readonly string[]): PolicyBank {
  return Object.assign({}, ...banks.map((n) => cfg0.policy_banks[n] ?? {}))
}

/** The configuration in force with these banks loaded: the global settings, the banks' on top. */
export function effectiveConfig(cfg0: FilterConfig, banks: readonly string[]): FilterConfig & PolicyBank {
  return { ...cfg0, ...bankOverlay(cfg0, banks) } as FilterConfig & PolicyBank
}

function compile(cfg0: FilterConfig, banks: readonly string[]): Compiled {
  const overlay = bankOverlay(cfg0, banks)
  const cfg = { ...cfg0, ...overlay } as Effective
  const opts: AddressKeyOptions = {
    recipientDelimiter: cfg.recipient_delimiter,
    localpartIsCaseSensitive: cfg.localpart_is_case_sensitive,
  }
  const given = cfg as unknown as Record<string, MapsSpec | undefined>
  const maps: Maps = {}
  for (const [name, [kind, deflt]] of Object.entries(MAPS))
    maps[name] = buildMaps(given[name] ?? deflt(cfg), kind, opts)
  const pw = cfg.per_recip_whitelist_sender_lookup_tables
  const pb = cfg.per_recip_blacklist_sender_lookup_tables
  return {
    cfg,
    overlay,
    maps,
    local: localDomains(cfg.local_domains_maps, opts),
    mynets: buildIpMaps(cfg.mynetworks_maps ?? [cfg.mynetworks]),
    perRecipWhite: pw ? buildPerRecipientTables(pw, opts) : undefined,
    perRecipBlack: pb ? buildPerRecipientTables(pb, opts) : undefined,
    msg: Object.freeze({
      virusCheckTimeoutSecs: cfg.virus_check_timeout_secs,
      spamCheckTimeoutSecs: cfg.spam_check_timeout_secs,
      virusOnFailure: cfg.virus_check_on_failure,
      spamOnFailure: cfg.spam_check_on_failure,
      bannedRules: cfg.banned_filename_re,
    }),
  }
}

/**
 * Vigil's older `local_domains_maps: ['.example.com']` (a flat list of strings) is one ACL, as
 * amavis's `@local_domains_acl`; anything else is a list of tables (docs/adr/0009-lookup-tables.md).
 */
function localDomains(spec: MapsSpec, opts: AddressKeyOptions): LookupTable<LookupValue> {
  const flat = spec.length > 0 && spec.every((t) => typeof t === 'string')
  return flat ? createAclTable(spec as string[], opts) : buildMaps(spec, 'boolean', opts)
}

/** Upper bound of cached recipients per lookup: a long-lived base lookup must not grow without end. */
const CACHE_LIMIT = 10_000

function instance(
  cfg0: FilterConfig,
  c: Compiled,
  banks: readonly string[],
  build: (banks: readonly string[], dyn?: DynamicAnswers) => SettingsLookup,
  dyn?: DynamicAnswers,
): SettingsLookup {
  const cache = new Map<string, Settings>()
  const isMyNetwork = (ip: string | undefined) => (ip ? isTrue(c.mynets.lookup(ip)) : false)
  return {
    settingsFor(rcpt) {
      let s = cache.get(rcpt)
      if (!s) {
        if (cache.size >= CACHE_LIMIT) cache.clear()
        cache.set(rcpt, (s = resolve(c, rcpt, dyn)))
      }
      return s
    },
    forMessage: () => c.msg,
    isLocal: (rcpt) => isTrue(dyn?.value('local_domains_maps', rcpt) ?? c.local.lookup(rcpt)),
    isMyNetwork,
    isOriginating: (ip) => c.overlay.originating ?? isMyNetwork(ip),
    senderListing: (rcpt, senders) => dyn?.listing(rcpt) ?? senderListing(c, rcpt, senders),
    banks,
    banksFor(listenerBank, clientIp) {
      const out: string[] = []
      if (listenerBank && cfg0.policy_banks[listenerBank]) out.push(listenerBank)
      if (cfg0.policy_banks.MYNETS && isMyNetwork(clientIp) && !out.includes('MYNETS')) out.push('MYNETS')
      return out
    },
    withBanks: (names) => build([...banks, ...names.filter((n) => cfg0.policy_banks[n])], dyn),
    withDynamic: (answers) => build(banks, answers),
  }
}

function resolve(c: Compiled, rcpt: string, dyn?: DynamicAnswers): Settings {
  const m = c.maps
  // SQL, then LDAP, then the static tables (amavis unshifts SQLfield/LDAPattr onto each map).
  const look = (name: string) => dyn?.value(name, rcpt) ?? m[name].lookup(rcpt)
  const bool = (name: string) => isTrue(look(name))
  const str = (name: string) => {
    const v = look(name)
    return v === undefined || v === false ? '' : String(v)
  }
  const num = (name: string, undef: number) => {
    const v = look(name)
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN
    return Number.isFinite(n) ? n : undef
  }
  const cfg = c.cfg
  return Object.freeze({
    bypassVirusChecks: bool('bypass_virus_checks_maps'),
    bypassSpamChecks: bool('bypass_spam_checks_maps'),
    bypassBannedChecks: bool('bypass_banned_checks_maps'),
    bypassHeaderChecks: bool('bypass_header_checks_maps'),
    virusLover: bool('virus_lovers_maps'),
    spamLover: bool('spam_lovers_maps'),
    bannedFilesLover: bool('banned_files_lovers_maps'),
    badHeaderLover: bool('bad_header_lovers_maps'),
    tagLevel: num('spam_tag_level_maps', -Infinity),
    tag2Level: num('spam_tag2_level_maps', Infinity),
    tag3Level: num('spam_tag3_level_maps', Infinity),
    killLevel: num('spam_kill_level_maps', Infinity),
    dsnCutoffLevel: num('spam_dsn_cutoff_level_maps', Infinity),
    quarantineCutoffLevel: num('spam_quarantine_cutoff_level_maps', Infinity),
    spamSubjectTag: str('spam_subject_tag2_maps'),
    spamSubjectTag1: str('spam_subject_tag_maps'),
    spamSubjectTag3: str('spam_subject_tag3_maps'),
    virusDestiny: DESTINY[cfg.final_virus_destiny],
    bannedDestiny: DESTINY[cfg.final_banned_destiny],
    spamDestiny: DESTINY[cfg.final_spam_destiny],
    badHeaderDestiny: DESTINY[cfg.final_bad_header_destiny],
    uncheckedDestiny: DESTINY[cfg.final_unchecked_destiny],
    virusQuarantineTo: str('virus_quarantine_to_maps'),
    bannedQuarantineTo: str('banned_quarantine_to_maps'),
    spamQuarantineTo: str('spam_quarantine_to_maps'),
    badHeaderQuarantineTo: str('bad_header_quarantine_to_maps'),
    virusAdmin: str('virus_admin_maps'),
    spamAdmin: str('spam_admin_maps'),
    messageSizeLimit: num('message_size_limit_maps', 0),
    bannedRules: bannedRulesFor(cfg, str('banned_filename_maps')),
    addrExtensionVirus: str('addr_extension_virus_maps'),
    addrExtensionSpam: str('addr_extension_spam_maps'),
    addrExtensionBanned: str('addr_extension_banned_maps'),
    addrExtensionBadHeader: str('addr_extension_bad_header_maps'),
  })
}

/** A @banned_filename_maps answer is a comma-separated list of %banned_rules names; DEFAULT is banned_filename_re. */
function bannedRulesFor(cfg: Effective, names: string): readonly BannedRule[] {
  return names
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean)
    .flatMap((n) => cfg.banned_rules[n] ?? (n === 'DEFAULT' ? cfg.banned_filename_re : []))
}

function senderListing(c: Compiled, rcpt: string, senders: readonly string[]): SenderListing {
  const listed = (perRecip: LookupTable<LookupTable<LookupValue>> | undefined, maps: LookupTable<LookupValue>) => {
    const own = perRecip?.lookup(rcpt)
    return senders.some((s) => {
      const v = own?.lookup(s)
      return isTrue(v !== undefined ? v : maps.lookup(s))
    })
  }
  return {
    blacklisted: listed(c.perRecipBlack, c.maps.blacklist_sender_maps),
    whitelisted: listed(c.perRecipWhite, c.maps.whitelist_sender_maps),
  }
}

/** amavis ACL semantics on a domain: `example.com` exact, `.example.com` and subdomains, `.` everything, `!` negates. */
export function isLocalDomain(domain: string, entries: readonly string[]): boolean {
  return domain !== '' && isTrue(createAclTable(entries).lookup(`@${domain}`))
}

/** One @mynetworks entry (amavis ip_to_vec syntax); throws on a bad one. */
export function parseCidr(s: string): IpNetwork {
  return parseIpNetwork(s)
}

/** Whether `ip` is in the network (IPv4-mapped IPv6 clients match IPv4 networks). */
export function cidrContains(n: IpNetwork, ip: string): boolean {
  return createIpAclTable([`${n.address}/${n.prefix}`]).lookup(ip) === true
}
