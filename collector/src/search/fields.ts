// The field catalogue of the search store: one list, from which every backend takes its mapping
// (the engines' index template, the embedded store's side tables), the query compilers their
// per-field semantics, and the API its "unknown field" errors. Names follow amavis's JSON
// (spec §5.3/§5.4) plus the fields Vigil adds at ship time (event_id, client_geo.*).
// Fields not listed here stay in the stored document (_source) but are not searchable, on every
// backend alike (the engines' template says `dynamic: false`).

/**
 * keyword: exact values (ids, addresses, actions, categories); a term query matches the whole
 *   value, case-insensitively; ranges compare bytes.
 * text: analysed (lower-cased UAX#29 words, as Lucene's standard analyzer); a term matches one
 *   word, a phrase consecutive words. `hasKeyword` adds `<name>.keyword` (exact, for terms
 *   aggregations and sorting), values longer than KEYWORD_IGNORE_ABOVE characters not indexed there.
 * ip: IPv4/IPv6 (a v4 address equals its ::ffff: mapped form), terms may be CIDRs.
 * date: epoch ms (ISO 8601 in the document). long/float: numbers. boolean. geo_point: {lat, lon}.
 */
export type FieldType = 'keyword' | 'text' | 'ip' | 'date' | 'long' | 'float' | 'boolean' | 'geo_point'

export interface FieldSpec {
  /** Dotted path in the document (`recipients.action`, `elapsed.Total`). */
  readonly name: string
  readonly type: FieldType
  /** text fields only: a `<name>.keyword` sub-field exists. */
  readonly hasKeyword?: boolean
}

/** Characters beyond which a keyword (or text's .keyword) value is not indexed (stays in the document). */
export const KEYWORD_IGNORE_ABOVE = 1024

const kw = (...names: string[]): FieldSpec[] => names.map((name) => ({ name, type: 'keyword' as const }))
const txt = (...names: string[]): FieldSpec[] =>
  names.map((name) => ({ name, type: 'text' as const, hasKeyword: true }))
const of = (type: FieldType, ...names: string[]): FieldSpec[] => names.map((name) => ({ name, type }))

/** Sections amavis reports in `elapsed` (spec §5.3). */
export const ELAPSED_SECTIONS = [
  'Receiving',
  'Decoding',
  'VirusCheck',
  'SpamCheck',
  'PenPals',
  'Sending',
  'Amavis',
  'Total',
] as const

export const FIELDS: readonly FieldSpec[] = [
  ...of('date', '@timestamp'),
  ...kw(
    'event_id',
    'type',
    'host',
    'log_id',
    'mail_id',
    'mail_id_parent',
    'mail_id_related',
    'partition',
    'queue_id',
    'sid',
    'protocol',
    'attached_file_names',
    'mail_from',
    'rcpt_to',
    'message_id',
    'references',
    'policy_banks',
    'ip_proto_trace',
    'digest_body',
    'content_type',
    'quarantine',
    'quar_type',
    'os_fp',
    'actions_performed',
    'checks_performed',
    'virusnames',
    'tests',
    'tests_spam',
    'tests_ham',
    'dkim_valid_sig',
    'dkim_new_sig',
    'dkim_author_sig',
    'smtp_code',
    'queued_as',
    'action',
    'time_iso_week_date',
    'notification_type',
  ),
  ...txt('subject', 'subject_rot13', 'author', 'to_addr', 'cc_addr', 'sender', 'user_agent'),
  { name: 'message', type: 'text' },
  ...of('ip', 'src_ip', 'dst_ip', 'client_ip', 'ip_trace'),
  ...of('long', 'dst_port', 'client_port', 'rcpt_num', 'size'),
  ...of('float', 'spam_score', 'time_unix'),
  ...ELAPSED_SECTIONS.map((s) => ({ name: `elapsed.${s}`, type: 'float' as const })),
  ...of('boolean', 'dsn_sent', 'originating', 'is_auto_resp', 'is_mlist', 'is_bulk'),
  // recipients[]: flattened object arrays (docs/adr/0005-log-pipeline.md): `recipients.action:REJECT`
  // matches an event with any REJECTed recipient, as Kibana's query bar would.
  ...kw(
    'recipients.rcpt_to',
    'recipients.rcpt_to_orig',
    'recipients.rid',
    'recipients.action',
    'recipients.smtp_code',
    'recipients.queued_as',
    'recipients.ccat_blocking',
    'recipients.ccat_main',
    'recipients.banning_reason',
    'recipients.mail_id_related',
    'recipients.sql_user_policy_id',
  ),
  ...txt('recipients.smtp_response'),
  ...of('long', 'recipients.rid_orig', 'recipients.penpals_age'),
  ...of('float', 'recipients.spam_score'),
  ...of(
    'boolean',
    'recipients.rcpt_is_local',
    'recipients.blacklisted',
    'recipients.whitelisted',
    'recipients.bypass_virus_checks',
    'recipients.bypass_banned_checks',
    'recipients.bypass_spam_checks',
  ),
  // Added at ship time from client_ip (collector/src/enrich/): country, ASN, organisation, point.
  ...kw('client_geo.ip', 'client_geo.country_code', 'client_geo.country_name', 'client_geo.label'),
  ...of('long', 'client_geo.asn'),
  ...txt('client_geo.as_org'),
  ...of('geo_point', 'client_geo.location'),
]

const byName = new Map<string, FieldSpec>()
for (const f of FIELDS) {
  byName.set(f.name, f)
  if (f.hasKeyword) byName.set(`${f.name}.keyword`, { name: `${f.name}.keyword`, type: 'keyword' })
}

/** The spec of a searchable field (`subject.keyword` resolves to a keyword field), or undefined. */
export function fieldSpec(name: string): FieldSpec | undefined {
  return byName.get(name)
}

/** Every searchable name, `.keyword` sub-fields included (autocomplete, error hints). */
export function fieldNames(): string[] {
  return [...byName.keys()]
}

/**
 * Fields an unqualified term (`newsletter`, `"Hello Kitty"`) searches, each with its own type's
 * semantics (a term that is not an IP is simply not looked up in the ip fields).
 */
export const DEFAULT_FIELDS: readonly string[] = [
  'message',
  'subject',
  'author',
  'to_addr',
  'sender',
  'mail_from',
  'rcpt_to',
  'log_id',
  'mail_id',
  'message_id',
  'queue_id',
  'client_ip',
  'virusnames',
  'tests',
  'action',
  'content_type',
]

/**
 * `float` fields held as 64-bit doubles on every backend (the engines map them `double`): epoch
 * seconds with a fraction need more than a 32-bit float's ~2 minutes of precision. The other
 * floats (scores, elapsed seconds) are 32-bit, as the engines' `float` keeps them.
 */
export function isDoubleField(name: string): boolean {
  return name === 'time_unix'
}

/** Fields a terms aggregation or a sort may use: keyword, numeric, date, boolean, ip (not text). */
export function isAggregatable(name: string): boolean {
  const f = byName.get(name)
  return !!f && f.type !== 'text' && f.type !== 'geo_point'
}
