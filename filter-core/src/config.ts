// The `filter:` section of vigil.yaml. Keys are amavisd.conf names in snake_case where amavis
// has the setting; Vigil-only keys carry their unit. Every key has a default so an empty
// section gives a working post-queue filter on 127.0.0.1:10024 → smtp:[127.0.0.1]:10025.
import { isIP } from 'node:net'
import { z } from 'zod'
import { DEFAULT_BANNED_RULES } from './checks/banned.ts'
import { ipMapsSchema, mapsSchema, perRecipientTablesSchema } from './lookup/spec.ts'
import { parseIpNetwork } from './lookup/ip.ts'
import {
  DEFAULT_LDAP_FILTER,
  DEFAULT_SQL_SELECT_POLICY,
  DEFAULT_SQL_SELECT_WBLIST,
  SQL_DSN_RE,
} from './lookup/dynamic-defaults.ts'
import { DEFAULT_FORWARD_METHOD, DEFAULT_NOTIFY_METHOD, DEFAULT_SMTP_LISTEN } from '@vigil/protocol'

/** One @mynetworks entry (`10.0.0.0/8`, `!192.168.1.1`, `[::1]/128`), parsed as the lookups parse it. */
const ipNetwork = z.string().superRefine((entry, ctx) => {
  try {
    parseIpNetwork(entry)
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message })
  }
})
const destiny = z.enum(['D_PASS', 'D_DISCARD', 'D_BOUNCE', 'D_REJECT', 'D_TEMPFAIL'])
const onFailure = z.enum(['tempfail', 'pass'])
/** `smtp:[host]:port`, `smtp:host:port`, `lmtp:[host]:port`, `lmtp:unix:/path` or `smtp:unix:/path`. */
export const deliveryMethod = z
  .string()
  .regex(
    /^(smtp|lmtp):(\[[^\]]+\]:\d{1,5}|[A-Za-z0-9.-]+:\d{1,5}|unix:\/.+)$/,
    'expected smtp:[HOST]:PORT, lmtp:[HOST]:PORT or lmtp:unix:/PATH',
  )

/** One listener: `127.0.0.1:10024`, `[::1]:10024` or `unix:/path/amavisd.sock`. */
const listenAddress = z
  .string()
  .regex(
    /^(unix:\/.+|\[[0-9a-fA-F:.]+\]:\d{1,5}|[0-9A-Za-z.-]+:\d{1,5})$/,
    'expected HOST:PORT, [V6]:PORT or unix:/PATH',
  )
const listener = z.union([
  listenAddress,
  z.strictObject({
    address: listenAddress,
    /** `ampdp` (amavis spells it `AM.PDP`): quarantine release/requeue requests (docs/adr/0010-am-pdp.md). */
    protocol: z
      .enum(['smtp', 'lmtp', 'ampdp', 'AM.PDP'])
      .default('smtp')
      .transform((p) => (p === 'AM.PDP' ? 'ampdp' : p)),
    /** Policy bank applied to sessions on this listener (amavis $interface_policy). */
    policy_bank: z.string().optional(),
  }),
])

const bannedRule = z.strictObject({ pattern: z.string(), allow: z.boolean().optional() })

/** Vigil's older flat list of domains (one ACL, as @local_domains_acl) or a list of tables. */
const localDomainsMaps = z.union([z.array(z.string()), mapsSchema('boolean')])
/**
 * Per-recipient lookup maps (amavis `@*_maps`, README.lookups): each a list of tables in the forms
 * of lookup/spec.ts, first defined answer winning. Absent: amavis's default, the matching scalar
 * setting (`@spam_kill_level_maps = (\$sa_kill_level_deflt)`). Policy banks may set every one.
 */
const recipientMaps = {
  local_domains_maps: localDomainsMaps.optional(),
  /** @mynetworks_maps: lists of networks (`!` negates), IP hashes or constants; default [mynetworks]. */
  mynetworks_maps: ipMapsSchema.optional(),
  bypass_virus_checks_maps: mapsSchema('boolean').optional(),
  bypass_spam_checks_maps: mapsSchema('boolean').optional(),
  bypass_banned_checks_maps: mapsSchema('boolean').optional(),
  bypass_header_checks_maps: mapsSchema('boolean').optional(),
  virus_lovers_maps: mapsSchema('boolean').optional(),
  spam_lovers_maps: mapsSchema('boolean').optional(),
  banned_files_lovers_maps: mapsSchema('boolean').optional(),
  bad_header_lovers_maps: mapsSchema('boolean').optional(),
  spam_tag_level_maps: mapsSchema('number').optional(),
  spam_tag2_level_maps: mapsSchema('number').optional(),
  spam_tag3_level_maps: mapsSchema('number').optional(),
  spam_kill_level_maps: mapsSchema('number').optional(),
  spam_dsn_cutoff_level_maps: mapsSchema('number').optional(),
  spam_quarantine_cutoff_level_maps: mapsSchema('number').optional(),
  spam_subject_tag_maps: mapsSchema('string').optional(),
  spam_subject_tag2_maps: mapsSchema('string').optional(),
  spam_subject_tag3_maps: mapsSchema('string').optional(),
  /** @message_size_limit_maps: bytes per recipient (0 or none: no limit). */
  message_size_limit_maps: mapsSchema('number').optional(),
  virus_admin_maps: mapsSchema('string').optional(),
  spam_admin_maps: mapsSchema('string').optional(),
  /** @banned_filename_maps: comma-separated %banned_rules names; default ['DEFAULT'] = banned_filename_re. */
  banned_filename_maps: mapsSchema('string').optional(),
  virus_quarantine_to_maps: mapsSchema('string').optional(),
  spam_quarantine_to_maps: mapsSchema('string').optional(),
  banned_quarantine_to_maps: mapsSchema('string').optional(),
  bad_header_quarantine_to_maps: mapsSchema('string').optional(),
  addr_extension_virus_maps: mapsSchema('string').optional(),
  addr_extension_spam_maps: mapsSchema('string').optional(),
  addr_extension_banned_maps: mapsSchema('string').optional(),
  addr_extension_bad_header_maps: mapsSchema('string').optional(),
  /** Looked up by sender address: @whitelist_sender_maps / @blacklist_sender_maps. */
  whitelist_sender_maps: mapsSchema('boolean').optional(),
  blacklist_sender_maps: mapsSchema('boolean').optional(),
  /** Recipient key (hash semantics) → one table of senders, asked before the *_sender_maps. */
  per_recip_whitelist_sender_lookup_tables: perRecipientTablesSchema.optional(),
  per_recip_blacklist_sender_lookup_tables: perRecipientTablesSchema.optional(),
}

/** A DNS server: `ipv4`, `ipv4:port`, `ipv6` or `[ipv6]:port`. */
const dnsServer = z.string().refine((v) => {
  // node:dns setServers takes addresses only: IPv4, IPv4:port, IPv6, [IPv6]:port.
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(v) ?? /^(\d+\.\d+\.\d+\.\d+):(\d{1,5})$/.exec(v)
  const host = m ? m[1] : v
  return isIP(host) !== 0 && (!m || Number(m[2]) <= 65535)
}, 'expected an address: IPV4, IPV4:PORT, IPV6 or [IPV6]:PORT')
const dnsSettings = z
  .strictObject({
    /** Servers asked in order; empty: the system's (/etc/resolv.conf). */
    servers: z.array(dnsServer).default([]),
    timeout_ms: z.number().int().min(1).default(3000),
    tries: z.number().int().min(1).max(10).default(2),
    /** Answers kept per worker (least recently used dropped first); 0: no cache. */
    cache_size: z.number().int().min(0).default(1000),
    cache_ttl_secs: z.number().min(0).default(300),
    negative_ttl_secs: z.number().min(0).default(60),
  })
  .prefault({})
/**
 * SQL and LDAP lookups (README.sql, README.ldap; docs/adr/0012-sql-ldap-lookups.md): answered once
 * per message by the lookups stage, before the static tables of every map they feed.
 */
const dynamicLookupFields = {
  /** @lookup_sql_dsn: postgres://user:pass@host:port/db or sqlite:/path/file; the first that answers is used. */
  lookup_sql_dsn: z
    .array(z.string().regex(SQL_DSN_RE, 'a DSN is postgres://user:pass@host:port/db or sqlite:/path/to/file'))
    .default([]),
  sql_select_policy: z.string().default(DEFAULT_SQL_SELECT_POLICY),
  sql_select_white_black_list: z.string().default(DEFAULT_SQL_SELECT_WBLIST),
  sql_lookups_no_at_means_domain: z.boolean().default(false),
  /** $enable_ldap with $default_ldap (hostname, port, base with %d, scope, query_filter with %m, bind_dn/bind_password). */
  enable_ldap: z.boolean().default(false),
  default_ldap: z
    .strictObject({
      hostname: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).default('localhost'),
      port: z.number().int().min(1).max(65535).optional(),
      base: z.string().default(''),
      scope: z.enum(['base', 'one', 'sub']).default('sub'),
      query_filter: z.string().includes('%m').default(DEFAULT_LDAP_FILTER),
      bind_dn: z.string().optional(),
      bind_password: z.string().optional(),
    })
    .prefault({}),
  ldap_lookups_no_at_means_domain: z.boolean().default(false),
  /** All of one message's SQL/LDAP lookups must answer within this (ms). */
  lookup_timeout_ms: z.number().int().min(1).default(5000),
  /** A lookup server that fails or times out: tempfail the message (default), or use the static tables (logged, counted). */
  lookup_failure: z.enum(['tempfail', 'defaults']).default('tempfail'),
}

/** One signature's options (amavis @dkim_signature_options_bysender_maps values; docs/adr/0013-dkim.md). */
export const dkimSignatureOptions = z.strictObject({
  /** d=: signing domain (default: the author's domain). */
  d: z.string().optional(),
  /** s=: selector (default: the first dkim_keys entry of d). */
  s: z.string().optional(),
  /** c=: header/body canonicalisation. */
  c: z.enum(['relaxed/simple', 'relaxed/relaxed', 'simple/simple', 'simple/relaxed']).optional(),
  /** a=: rsa-sha256 or ed25519-sha256 (default: what the key is). */
  a: z.enum(['rsa-sha256', 'ed25519-sha256']).optional(),
  /** x= is t= plus this many seconds (amavis `ttl`). */
  ttl: z.number().int().min(1).optional(),
  /** i=: agent or user identifier. */
  i: z.string().optional(),
})
export type DkimSignatureOptions = z.infer<typeof dkimSignatureOptions>
const dkimKey = z.strictObject({
  domain: z.string().min(1),
  selector: z.string().min(1),
  key_file: z.string().min(1),
  /** amavis dkim_key's optional tags, e.g. { c: 'relaxed/relaxed' } for signatures made with this key. */
  options: dkimSignatureOptions.optional(),
})
/** DKIM settings a policy bank may set too (amavis: the MLIST-NOCHECKS bank signs and checks nothing). */
const dkimBankFields = {
  /** $enable_dkim_verification (Vigil default on: every incoming message is verified). */
  enable_dkim_verification: z.boolean().default(true),
  /** $enable_dkim_signing: sign originating mail with dkim_keys. */
  enable_dkim_signing: z.boolean().default(false),
  /** @signer_reputation_maps: '@signing-domain' → reputation score the spam score is pulled towards. */
  signer_reputation_maps: mapsSchema('number').default([]),
  /** $reputation_factor (0..1): adjusted = f·reputation + (1−f)·score. */
  reputation_factor: z.number().min(0).max(1).default(0.2),
}

/**
 * One policy bank (amavis %policy_bank): settings that replace the defaults for a message when the
 * bank is loaded. Banks load for a listener (`listen[].policy_bank`) and, by amavis convention,
 * `MYNETS` for clients in @mynetworks. Later banks override earlier ones.
 */
export const policyBankSchema = z.strictObject({
  originating: z.boolean().optional(),
  bypass_virus_checks: z.boolean().optional(),
  bypass_spam_checks: z.boolean().optional(),
  bypass_banned_checks: z.boolean().optional(),
  bypass_header_checks: z.boolean().optional(),
  sa_tag_level_deflt: z.number().optional(),
  sa_tag2_level_deflt: z.number().optional(),
  sa_kill_level_deflt: z.number().optional(),
  sa_dsn_cutoff_level: z.number().optional(),
  sa_spam_subject_tag: z.string().optional(),
  final_virus_destiny: destiny.optional(),
  final_banned_destiny: destiny.optional(),
  final_spam_destiny: destiny.optional(),
  final_bad_header_destiny: destiny.optional(),
  final_unchecked_destiny: destiny.optional(),
  virus_quarantine_to: z.string().optional(),
  banned_quarantine_to: z.string().optional(),
  spam_quarantine_to: z.string().optional(),
  bad_header_quarantine_to: z.string().optional(),
  virus_admin: z.string().optional(),
  virus_check_timeout_secs: z.number().positive().optional(),
  spam_check_timeout_secs: z.number().positive().optional(),
  virus_check_on_failure: onFailure.optional(),
  spam_check_on_failure: onFailure.optional(),
  banned_filename_re: z.array(bannedRule).optional(),
  ...recipientMaps,
  enable_dkim_verification: z.boolean().optional(),
  enable_dkim_signing: z.boolean().optional(),
  signer_reputation_maps: mapsSchema('number').optional(),
  reputation_factor: z.number().min(0).max(1).optional(),
  dkim_signature_options_bysender_maps: z.array(z.record(z.string(), dkimSignatureOptions.nullable())).optional(),
})
export type PolicyBank = z.infer<typeof policyBankSchema>

const filterConfigFields = z.strictObject({
  /** Listeners (amavis $inet_socket_port / $unix_socketname / $inet_socket_bind). */
  listen: z.array(listener).min(1).default([DEFAULT_SMTP_LISTEN]),
  /** post_queue: Postfix content_filter. pre_queue: smtpd_proxy_filter, replies mirror the next hop. */
  mode: z.enum(['post_queue', 'pre_queue']).default('post_queue'),
  forward_method: deliveryMethod.default(DEFAULT_FORWARD_METHOD),
  notify_method: deliveryMethod.default(DEFAULT_NOTIFY_METHOD),
  /** Number of pre-forked worker processes ($max_servers). */
  max_servers: z.number().int().min(1).max(256).default(2),
  /**
   * Connections a worker serves before it exits and is replaced ($max_requests). Not amavis's 20:
   * a Perl child grows with every message, a Node.js worker does not, and each replacement costs a
   * Node.js start (docs/adr/0006-warm-spare-workers.md).
   */
  max_requests: z.number().int().min(1).default(1000),
  /**
   * Warm workers kept started beyond max_servers ($min_spare_servers), so a retiring worker's
   * replacement is already running when it leaves: no connection waits for a Node.js start.
   * At most max_servers sessions are served at once whatever the spares.
   */
  min_spare_servers: z.number().int().min(0).max(16).default(1),
  /** Idle/command timeout of an SMTP session ($smtpd_timeout). */
  smtpd_timeout_secs: z.number().positive().default(300),
  /** Largest message accepted ($smtpd_message_size_limit, bytes; 0 = no limit). */
  smtpd_message_size_limit: z
    .number()
    .int()
    .min(0)
    .default(50 * 1024 * 1024),
  /** Messages larger than this are spooled to <home>/tmp instead of being held in memory. */
  spool_threshold_bytes: z
    .number()
    .int()
    .min(0)
    .default(100 * 1024),
  /** Longest accepted command line; longer ones get 500 5.5.2 and are discarded as they arrive. */
  smtp_max_command_line_bytes: z.number().int().min(512).default(4096),
  /** Protocol errors in one session after which the filter says 421 and closes. */
  smtp_max_errors: z.number().int().min(1).default(10),
  /** Pause after a ZMQ PUB socket is connected, before the first record (amavis sleeps 1 s). */
  zmq_slow_joiner_ms: z.number().int().min(0).default(1000),
  /**
   * Vigil: a worker holds its am.st/am.snmp records up to this long and sends them in one burst
   * (each record keeps its own time stamp); 0 sends each at once, as amavis does.
   */
  zmq_batch_ms: z.number().int().min(0).max(1000).default(5),
  /**
   * Vigil: how workers write to the inner socket (PUB) and the collector's events socket (PUSH).
   * 'zmtp': ZMTP 3.0 written from JS, one socket write per burst (ipc:// and tcp:// endpoints);
   * 'libzmq': libzmq sockets through zeromq.js.
   */
  zmq_transport: z.enum(['zmtp', 'libzmq']).default('zmtp'),
  /** Longest delay between respawns of a worker that keeps crashing. */
  respawn_backoff_max_secs: z.number().positive().default(30),
  /** Directory below which spooled messages live; '' means <home>/tmp. */
  tempbase: z.string().default(''),
  /** $QUARANTINEDIR; '' means <home>/quarantine. */
  quarantine_dir: z.string().default(''),
  /** AM.PDP release: a request must carry the secret_id of its mail_id ($auth_required_release). */
  auth_required_release: z.boolean().default(true),
  /** Where AM.PDP `release` re-sends a message ($release_method; '' = notify_method). */
  release_method: z.union([z.literal(''), deliveryMethod]).default(''),
  /** Where AM.PDP `requeue` re-sends a message ($requeue_method). */
  requeue_method: deliveryMethod.default('smtp:[127.0.0.1]:25'),

  // Checkers. An empty address means "not configured": the check is not performed.
  /** clamd: `HOST:PORT`, `[V6]:PORT` or a unix socket path. */
  clamd_address: z.string().default(''),
  /** spamd: `HOST:PORT`, `[V6]:PORT` or a unix socket path. */
  spamd_address: z.string().default(''),
  virus_check_timeout_secs: z.number().positive().default(60),
  spam_check_timeout_secs: z.number().positive().default(60),
  /** What a failing/slow checker does to the message (amavis virus_scanner_failure_is_fatal). */
  virus_check_on_failure: onFailure.default('tempfail'),
  spam_check_on_failure: onFailure.default('tempfail'),
  bypass_virus_checks: z.boolean().default(false),
  bypass_spam_checks: z.boolean().default(false),
  bypass_banned_checks: z.boolean().default(false),
  bypass_header_checks: z.boolean().default(false),
  /** spamd messages larger than this are not spam-checked ($sa_mail_body_size_limit style). */
  sa_mail_body_size_limit: z
    .number()
    .int()
    .min(0)
    .default(512 * 1024),
  /** $banned_filename_re rules, tried in order (default: the content checks' amavis-like set). */
  banned_filename_re: z.array(bannedRule).default(() => DEFAULT_BANNED_RULES.rules.map((r) => ({ ...r }))),

  // Spam levels and tagging.
  sa_tag_level_deflt: z.number().default(2.0),
  sa_tag2_level_deflt: z.number().default(6.2),
  sa_kill_level_deflt: z.number().default(6.9),
  sa_dsn_cutoff_level: z.number().default(10),
  sa_spam_subject_tag: z.string().default('***Spam*** '),

  // Destinies (Debian defaults).
  final_virus_destiny: destiny.default('D_DISCARD'),
  final_banned_destiny: destiny.default('D_BOUNCE'),
  final_spam_destiny: destiny.default('D_BOUNCE'),
  final_bad_header_destiny: destiny.default('D_PASS'),
  final_unchecked_destiny: destiny.default('D_PASS'),

  // Quarantine and notifications ('' disables).
  virus_quarantine_to: z.string().default('virus-quarantine'),
  banned_quarantine_to: z.string().default('banned-quarantine'),
  spam_quarantine_to: z.string().default('spam-quarantine'),
  bad_header_quarantine_to: z.string().default(''),
  virus_admin: z.string().default(''),
  /** Envelope sender of notifications to admins ('' = postmaster@<myhostname>). */
  mailfrom_notify_admin: z.string().default(''),
  /** $hdrfrom_notify_sender: From: of DSNs. */
  hdrfrom_notify_sender: z.string().default(''),
  /** Header name/value that marks checked mail ($X_HEADER_TAG / $X_HEADER_LINE; '' = 'amavis at <myhostname>'). */
  x_header_tag: z.string().default('X-Virus-Scanned'),
  x_header_line: z.string().default(''),

  // Addresses and networks.
  /** @mynetworks: clients (by XFORWARD ADDR) in these networks make mail "originating". */
  mynetworks: z
    .array(ipNetwork)
    .default([
      '127.0.0.0/8',
      '::1/128',
      '169.254.0.0/16',
      'fe80::/10',
      '10.0.0.0/8',
      '172.16.0.0/12',
      '192.168.0.0/16',
    ]),
  ...recipientMaps,
  /** @local_domains_maps: `example.com` (exact), `.example.com` (and subdomains), `.` (everything). */
  local_domains_maps: localDomainsMaps.default([]),
  /** $recipient_delimiter: characters that start an address extension in hash lookups ('' = none). */
  recipient_delimiter: z.string().default('+'),
  /** $localpart_is_case_sensitive: lookups keep the local part's case. */
  localpart_is_case_sensitive: z.boolean().default(false),
  /** %banned_rules: named rule sets that @banned_filename_maps answers refer to. */
  banned_rules: z.record(z.string(), z.array(bannedRule)).default({}),

  /** %policy_bank: named setting overlays (see policyBankSchema); `MYNETS` loads for @mynetworks clients. */
  policy_banks: z.record(z.string().regex(/^[A-Za-z0-9_-]+$/), policyBankSchema).default({}),

  /** Events waiting for the collector (PUSH) beyond this go to <home>/events-deadletter.ndjson. */
  events_queue_limit: z.number().int().min(1).default(10000),
  /** Publish am.st/am.snmp ($enable_zmq; turn off only to measure the monitoring overhead). */
  enable_zmq: z.boolean().default(true),
  /** Deliver the per-message JSON events (Redis or the collector's PUSH channel). */
  enable_events: z.boolean().default(true),

  /** The filter's DNS resolver (DKIM key look-ups; filter-core/src/dns/resolver.ts). */
  dns: dnsSettings,
  ...dynamicLookupFields,
  ...dkimBankFields,
  /** @dkim_signature_options_bysender_maps: tables from sender (hash semantics) to signature options. */
  dkim_signature_options_bysender_maps: z.array(z.record(z.string(), dkimSignatureOptions.nullable())).default([]),
  /** amavis's dkim_key(DOMAIN, SELECTOR, KEYFILE) calls: the signing keys (PEM, RSA or Ed25519). */
  dkim_keys: z.array(dkimKey).default([]),
  /** %signed_header_fields overrides (lower-case name → 0 not signed, 1 signed, 2 signed plus one null instance). */
  signed_header_fields: z.record(z.string(), z.union([z.literal(0), z.literal(1), z.literal(2)])).default({}),
  /** $dkim_minimum_key_bits: valid signatures with shorter keys earn no reputation and load no bank. */
  dkim_minimum_key_bits: z.number().int().min(0).default(1024),
  /** $myauthservid: authserv-id of the Authentication-Results header field ('' = myhostname). */
  myauthservid: z.string().default(''),
})

/** The section, with the checks that span keys (every problem still reported in one run). */
export const filterConfigSchema = filterConfigFields.superRefine(
  (cfg, ctx) => {
    // A bank named where it loads but not defined: amavis loads nothing and says so at run time;
    // here it is a configuration error, found by check-config before the first message.
    // Runs on a section with other problems too (so they come in one run): nothing is assumed.
    const raw = cfg as { listen?: unknown; policy_banks?: unknown }
    if (!Array.isArray(raw.listen)) return
    const banks = new Set(raw.policy_banks && typeof raw.policy_banks === 'object' ? Object.keys(raw.policy_banks) : [])
    raw.listen.forEach((l: unknown, i) => {
      const bank = l && typeof l === 'object' ? (l as { policy_bank?: unknown }).policy_bank : undefined
      if (typeof bank === 'string' && !banks.has(bank))
        ctx.addIssue({
          code: 'custom',
          path: ['listen', i, 'policy_bank'],
          message: `policy bank ${JSON.stringify(bank)} is not defined in filter.policy_banks`,
        })
    })
  },
  { when: (payload) => typeof payload.value === 'object' && payload.value !== null },
)
export type FilterConfig = z.infer<typeof filterConfigSchema>

export type Listener = { address: string; protocol: 'smtp' | 'lmtp' | 'ampdp'; policy_bank?: string }
export function normalizeListeners(cfg: FilterConfig): Listener[] {
  return cfg.listen.map((l) => (typeof l === 'string' ? { address: l, protocol: 'smtp' as const } : l))
}
