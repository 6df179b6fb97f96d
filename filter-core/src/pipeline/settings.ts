// Per-recipient settings lookup (amavis's policy banks and *_maps plug in here). The pipeline
// never reads a check setting from the global config: it asks settingsFor(recipient).
import { isIP } from 'node:net'
import { DESTINY } from '@vigil/protocol'
import type { FilterConfig, PolicyBank } from '../config.ts'
import { domainOf } from '../smtp/address.ts'

export interface Settings {
  bypassVirusChecks: boolean
  bypassSpamChecks: boolean
  bypassBannedChecks: boolean
  bypassHeaderChecks: boolean
  tagLevel: number
  tag2Level: number
  killLevel: number
  dsnCutoffLevel: number
  spamSubjectTag: string
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
}

/** Settings that apply to the message as a whole (amavis reads these from the current policy bank). */
export interface MessageSettings {
  virusCheckTimeoutSecs: number
  spamCheckTimeoutSecs: number
  virusOnFailure: 'tempfail' | 'pass'
  spamOnFailure: 'tempfail' | 'pass'
  bannedRules: readonly { readonly pattern: string; readonly allow?: boolean }[]
}

export interface SettingsLookup {
  settingsFor(recipient: string): Settings
  /** Message-level settings (policy bank of the listener/client). */
  forMessage(): MessageSettings
  isLocal(recipient: string): boolean
  isMyNetwork(ip: string | undefined): boolean
  /** The originating flag: a loaded bank's `originating`, else whether the client is in @mynetworks. */
  isOriginating(clientIp: string | undefined): boolean
  /** Names of the loaded policy banks, in load order. */
  readonly banks: readonly string[]
  /** Banks a message loads: the listener's, then MYNETS for @mynetworks clients (when defined). */
  banksFor(listenerBank: string | undefined, clientIp: string | undefined): string[]
  /** This lookup with the named banks loaded on top (unknown names are ignored). */
  withBanks(names: readonly string[]): SettingsLookup
}

export function createSettingsLookup(cfg: FilterConfig): SettingsLookup {
  return buildLookup(cfg, [])
}

function buildLookup(cfg0: FilterConfig, banks: readonly string[]): SettingsLookup {
  const overlay: PolicyBank = Object.assign({}, ...banks.map((n) => cfg0.policy_banks[n] ?? {}))
  const cfg = { ...cfg0, ...overlay } as FilterConfig & PolicyBank
  const base: Settings = Object.freeze({
    bypassVirusChecks: cfg.bypass_virus_checks,
    bypassSpamChecks: cfg.bypass_spam_checks,
    bypassBannedChecks: cfg.bypass_banned_checks,
    bypassHeaderChecks: cfg.bypass_header_checks,
    tagLevel: cfg.sa_tag_level_deflt,
    tag2Level: cfg.sa_tag2_level_deflt,
    killLevel: cfg.sa_kill_level_deflt,
    dsnCutoffLevel: cfg.sa_dsn_cutoff_level,
    spamSubjectTag: cfg.sa_spam_subject_tag,
    virusDestiny: DESTINY[cfg.final_virus_destiny],
    bannedDestiny: DESTINY[cfg.final_banned_destiny],
    spamDestiny: DESTINY[cfg.final_spam_destiny],
    badHeaderDestiny: DESTINY[cfg.final_bad_header_destiny],
    uncheckedDestiny: DESTINY[cfg.final_unchecked_destiny],
    virusQuarantineTo: cfg.virus_quarantine_to,
    bannedQuarantineTo: cfg.banned_quarantine_to,
    spamQuarantineTo: cfg.spam_quarantine_to,
    badHeaderQuarantineTo: cfg.bad_header_quarantine_to,
    virusAdmin: cfg.virus_admin,
  })
  const msg: MessageSettings = Object.freeze({
    virusCheckTimeoutSecs: cfg.virus_check_timeout_secs,
    spamCheckTimeoutSecs: cfg.spam_check_timeout_secs,
    virusOnFailure: cfg.virus_check_on_failure,
    spamOnFailure: cfg.spam_check_on_failure,
    bannedRules: cfg.banned_filename_re,
  })
  const nets = cfg.mynetworks.map(parseCidr)
  const local = cfg.local_domains_maps.map((d) => d.toLowerCase())
  const isMyNetwork = (ip: string | undefined) => (ip ? nets.some((n) => cidrContains(n, ip)) : false)
  return {
    settingsFor: () => base,
    forMessage: () => msg,
    isLocal: (rcpt) => isLocalDomain(domainOf(rcpt), local),
    isMyNetwork,
    isOriginating: (ip) => overlay.originating ?? isMyNetwork(ip),
    banks,
    banksFor(listenerBank, clientIp) {
      const out: string[] = []
      if (listenerBank && cfg0.policy_banks[listenerBank]) out.push(listenerBank)
      if (cfg0.policy_banks.MYNETS && isMyNetwork(clientIp) && !out.includes('MYNETS')) out.push('MYNETS')
      return out
    },
    withBanks: (names) => buildLookup(cfg0, [...banks, ...names.filter((n) => cfg0.policy_banks[n])]),
  }
}

/** amavis lookup semantics: `example.com` exact, `.example.com` domain and subdomains, `.` everything. */
export function isLocalDomain(domain: string, entries: readonly string[]): boolean {
  if (!domain) return false
  const d = domain.replace(/^\[|\]$/g, '')
  for (const e0 of entries) {
    let neg = false
    let e = e0
    if (e.startsWith('!')) {
      neg = true
      e = e.slice(1)
    }
    let hit = false
    if (e === '.') hit = true
    else if (e.startsWith('.')) hit = d === e.slice(1) || d.endsWith(e)
    else hit = d === e
    if (hit) return !neg
  }
  return false
}

interface Cidr {
  v: 4 | 6
  bytes: Buffer
  bits: number
}

export function parseCidr(s: string): Cidr {
  const t = s.replace(/^\[|\](?=\/|$)/g, '')
  const [addr, len] = t.split('/')
  const v = isIP(addr)
  if (v === 4) return { v: 4, bytes: ipBytes(addr), bits: len === undefined ? 32 : Number(len) }
  if (v === 6) return { v: 6, bytes: ipBytes(addr), bits: len === undefined ? 128 : Number(len) }
  throw new Error(`bad network ${JSON.stringify(s)}`)
}

export function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number))
  let a = ip
  const v4tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(a)
  if (v4tail) {
    const b = Buffer.from(v4tail[1].split('.').map(Number))
    a = a.slice(0, -v4tail[1].length) + b.readUInt16BE(0).toString(16) + ':' + b.readUInt16BE(2).toString(16)
  }
  const [head, tail] = a.includes('::') ? a.split('::') : [a, undefined]
  const h = head ? head.split(':') : []
  const t = tail !== undefined ? (tail ? tail.split(':') : []) : []
  const groups = tail !== undefined ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h
  const out = Buffer.alloc(16)
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g || '0', 16), i * 2))
  return out
}

export function cidrContains(n: Cidr, ip0: string): boolean {
  let ip = ip0.replace(/^IPv6:/i, '')
  let v = isIP(ip)
  // IPv4-mapped IPv6 addresses match IPv4 networks.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)
  if (mapped && n.v === 4) {
    ip = mapped[1]
    v = 4
  }
  if (v !== n.v) return false
  const b = ipBytes(ip)
  let bits = n.bits
  for (let i = 0; i < b.length && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff
    if ((b[i] & mask) !== (n.bytes[i] & mask)) return false
  }
  return true
}
