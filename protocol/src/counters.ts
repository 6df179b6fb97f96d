// The one counter catalogue. Every amavis SNMP variable Vigil knows is listed here once,
// generated from the rules of AMAVIS-MIB (spec §4.5, appendix A): wire name, MIB object name,
// OID, wire type, MIB syntax and OpenMetrics name. The SNMP agent's OID table, the collector's
// /metrics and the docs are derived from this list; nothing else types an OID by hand.

/** amavis wire type codes (spec §2.3). */
export type WireType = 'C32' | 'C64' | 'G32' | 'INT' | 'I64' | 'U32' | 'U64' | 'STR' | 'OID' | 'TIM'
export const WIRE_TYPES: readonly WireType[] = ['C32', 'C64', 'G32', 'INT', 'I64', 'U32', 'U64', 'STR', 'OID', 'TIM']
/** Types whose values travel as increments and are summed by the responder (spec §2.3, §2.7). */
export const DELTA_TYPES: ReadonlySet<WireType> = new Set(['C32', 'C64', 'TIM'])

export type MibSyntax =
  | 'Counter32'
  | 'Counter64'
  | 'Gauge32'
  | 'Integer32'
  | 'TimeTicks'
  | 'TimeInterval'
  | 'DisplayString'
  | 'OBJECT IDENTIFIER'

export type MibGroup = 'amavisStats' | 'amavisProc' | 'amavisMta'
/** Where the agent gets the value: the `am.snmp?` reply, the `am.nanny?` reply, or a local Postfix count. */
export type CounterSource = 'snmp' | 'nanny' | 'mta'

export interface CounterDef {
  /** amavis wire name, as in `am.snmp <name> <type> <value>`. */
  readonly name: string
  /** AMAVIS-MIB object descriptor. */
  readonly mibName: string
  /** Full numeric OID of the scalar instance, with the trailing `.0`, without a leading dot. */
  readonly oid: string
  /** OID relative to 1.3.6.1.4.1.15312.2.1, with `.0`. */
  readonly relOid: string
  readonly wireType: WireType
  readonly syntax: MibSyntax
  readonly group: MibGroup
  readonly source: CounterSource
  /** OpenMetrics family name (without `_total`) and labels. */
  readonly metric: {
    readonly name: string
    readonly labels: Readonly<Record<string, string>>
    readonly type: 'counter' | 'gauge' | 'info'
  }
  /** Multiply the stored value by this to get the metric's unit (ms → s for TimeElapsed*). */
  readonly metricScale: number
}

export const AMAVIS_ENTERPRISE_OID = '1.3.6.1.4.1.15312.2'
export const AMAVIS_MIB_OID = '1.3.6.1.4.1.15312.2.1'

export const DIRECTIONS = ['', 'Inbound', 'Outbound', 'Internal', 'Originating', 'OpenRelay'] as const
export type Direction = (typeof DIRECTIONS)[number]
/** Major content category display names in SNMP order (group 1.10), spec §7.1. */
export const CONTENT_CATS = [
  'Clean',
  'MtaFailed',
  'Oversized',
  'BadHdr',
  'Spammy',
  'Spam',
  'Unchecked',
  'Banned',
  'Virus',
] as const
export const STATUS_GROUPS = [
  'Accepted',
  'RelayedUntagged',
  'RelayedTagged',
  'Discarded',
  'NoBounce',
  'Bounced',
  'Rejected',
  'TempFailed',
] as const
/** ProcBusy<j> minimum ages in seconds for j = 1..21 (spec §3.2). */
export const AGE_SLOTS_SECS = [
  0.1, 0.2, 0.5, 1, 2, 4, 8, 15, 30, 60, 120, 240, 480, 900, 1800, 3600, 7200, 14400, 28800, 54000, 108000,
] as const
const AGE_MIB_SUFFIX = [
  '0',
  '01s',
  '02s',
  '05s',
  '1s',
  '2s',
  '4s',
  '8s',
  '15s',
  '30s',
  '1m',
  '2m',
  '4m',
  '8m',
  '15m',
  '30m',
  '1h',
  '2h',
  '4h',
  '8h',
  '15h',
  '30h',
] as const

function lcFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1)
}
function snake(s: string): string {
  return s
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase()
}
const SYNTAX_OF: Record<string, MibSyntax> = {
  C32: 'Counter32',
  C64: 'Counter64',
  G32: 'Gauge32',
  INT: 'Integer32',
  STR: 'DisplayString',
  OID: 'OBJECT IDENTIFIER',
  TIM: 'TimeTicks',
}

function build(): CounterDef[] {
  const out: CounterDef[] = []
  const add = (
    rel: string,
    name: string,
    wireType: WireType,
    opts: { mibName?: string; syntax?: MibSyntax; metric?: CounterDef['metric']; scale?: number } = {},
  ) => {
    const group: MibGroup = rel.startsWith('1.') ? 'amavisStats' : rel.startsWith('2.') ? 'amavisProc' : 'amavisMta'
    const source: CounterSource = group === 'amavisStats' ? 'snmp' : group === 'amavisProc' ? 'nanny' : 'mta'
    const syntax = opts.syntax ?? SYNTAX_OF[wireType]
    const isCounter = syntax === 'Counter32' || syntax === 'Counter64' || syntax === 'TimeInterval'
    const metric =
      opts.metric ??
      ({
        name: `amavis_${snake(name)}${/Size/.test(name) && isCounter ? '_bytes' : ''}`,
        labels: {},
        type: syntax === 'DisplayString' || syntax === 'OBJECT IDENTIFIER' ? 'info' : isCounter ? 'counter' : 'gauge',
      } as const)
    out.push({
      name,
      mibName: opts.mibName ?? lcFirst(name),
      oid: `${AMAVIS_MIB_OID}.${rel}.0`,
      relOid: `${rel}.0`,
      wireType,
      syntax,
      group,
      source,
      metric,
      metricScale: opts.scale ?? 1,
    })
  }

  // 1.1 system group
  add('1.1.1', 'sysDescr', 'STR')
  add('1.1.2', 'sysObjectID', 'OID')
  add('1.1.3', 'sysUpTime', 'TIM', { metric: { name: 'amavis_sys_up_time_seconds', labels: {}, type: 'gauge' } })
  add('1.1.4', 'sysContact', 'STR')
  add('1.1.5', 'sysName', 'STR')
  add('1.1.6', 'sysLocation', 'STR')
  add('1.1.7', 'sysServices', 'INT')
  // 1.2 InMsgs
  const inMsgs = ['InMsgs', 'InMsgsInbound', 'InMsgsOutbound', 'InMsgsInternal', 'InMsgsOriginating', 'InMsgsOpenRelay']
  inMsgs.forEach((n, i) => add(`1.2.${i + 1}`, n, 'C32'))
  ;['Accepted', 'Relayed', 'Discarded', 'NoBounce', 'Bounced', 'Rejected', 'TempFailed'].forEach((s, i) =>
    add(`1.2.${i + 7}`, `InMsgsStatus${s}`, 'C32', {
      metric: {
        name: 'amavis_in_msgs_status',
        labels: { status: snake(s), direction: 'all', oid_group: '1.2' },
        type: 'counter',
      },
    }),
  )
  // 1.3 sizes, 1.4 recips
  ;['', 'Inbound', 'Outbound', 'Internal', 'Originating', 'OpenRelay'].forEach((d, i) =>
    add(`1.3.${i + 1}`, `InMsgsSize${d}`, 'C64'),
  )
  ;['', 'Inbound', 'Outbound', 'Internal', 'Originating', 'OpenRelay', 'Local'].forEach((d, i) =>
    add(`1.4.${i + 1}`, `InMsgsRecips${d}`, 'C32'),
  )
  // 1.5 bounces
  ;[
    'InMsgsBounce',
    'InMsgsBounceNullRPath',
    'InMsgsBounceKilled',
    'InMsgsBounceUnverifiable',
    'InMsgsBounceRescuedByDomain',
    'InMsgsBounceRescuedByOriginating',
    'InMsgsBounceRescuedByPenPals',
  ].forEach((n, i) => add(`1.5.${i + 1}`, n, 'C32'))
  // 1.6 OutMsgs, 1.7 OutMsgsSize
  const out6 = ['', 'Relay', 'Submit', 'SubmitQuar', 'SubmitDsn', 'SubmitNotif', 'SubmitAV', 'SubmitArf']
  for (const p of ['Local', 'SMTP', 'LMTP', 'BSMTP', 'Pipe', 'SQL'])
    out6.push(`Proto${p}`, `Proto${p}Relay`, `Proto${p}Submit`)
  out6.forEach((s, i) => add(`1.6.${i + 1}`, `OutMsgs${s}`, 'C32'))
  ;['Delivers', 'AttemptFails', 'Rejects'].forEach((s, i) => add(`1.6.${i + 27}`, `OutMsgs${s}`, 'C32'))
  out6.forEach((s, i) => add(`1.7.${i + 1}`, `OutMsgsSize${s}`, 'C64'))
  // 1.8 / 1.9 quarantine
  const quarCats = ['Arch', ...CONTENT_CATS]
  add('1.8.1', 'QuarMsgs', 'C32')
  quarCats.forEach((c, i) =>
    add(`1.8.${i + 2}`, `QuarMsgs${c}`, 'C32', {
      mibName: `quar${c}Msgs`,
      metric: { name: 'amavis_quar_msgs_category', labels: { category: snake(c) }, type: 'counter' },
    }),
  )
  add('1.8.12', 'QuarAttemptTempFails', 'C32')
  add('1.8.13', 'QuarAttemptFails', 'C32')
  add('1.9.1', 'QuarMsgsSize', 'C64')
  quarCats.forEach((c, i) =>
    add(`1.9.${i + 2}`, `QuarMsgsSize${c}`, 'C64', {
      mibName: `quar${c}MsgsSize`,
      metric: { name: 'amavis_quar_msgs_size_category_bytes', labels: { category: snake(c) }, type: 'counter' },
    }),
  )
  // 1.10 content categories × directions
  CONTENT_CATS.forEach((c, ci) =>
    DIRECTIONS.forEach((d, di) =>
      add(`1.10.${ci + 1}.${di + 1}`, `Content${c}Msgs${d}`, 'C32', {
        mibName: `content${c}Msgs${d}`,
        metric: {
          name: 'amavis_content_msgs',
          labels: { category: snake(c), direction: d ? snake(d) : 'all' },
          type: 'counter',
        },
      }),
    ),
  )
  // 1.11 cache + outgoing connections
  ;[
    'CacheAttempts',
    'CacheMisses',
    'CacheHits',
    'CacheHitsVirusCheck',
    'CacheHitsVirusMsgs',
    'OutConnNew',
    'OutConnQuit',
    'OutConnTransact',
    'OutConnReuseFail',
    'OutConnReuseRecent',
    'OutConnReuseRefreshed',
  ].forEach((n, i) => add(`1.11.${i + 1}`, n, 'C32'))
  ;['OpsDec', 'OpsSpamCheck', 'OpsVirusCheck'].forEach((n, i) => add(`1.12.${i + 1}`, n, 'C32'))
  ;[
    'PenPalsAttempts',
    'PenPalsAttemptsRid',
    'PenPalsAttemptsMid',
    'PenPalsMisses',
    'PenPalsHits',
    'PenPalsHitsRid',
    'PenPalsHitsMid',
    'PenPalsHitsMidRid',
    'PenPalsSavedFromTag2',
    'PenPalsSavedFromTag3',
    'PenPalsSavedFromKill',
  ].forEach((n, i) => add(`1.13.${i + 1}`, n, 'C32'))
  ;[
    'SqlAddrSenderAttempts',
    'SqlAddrSenderMisses',
    'SqlAddrSenderHits',
    'SqlAddrRecipAttempts',
    'SqlAddrRecipMisses',
    'SqlAddrRecipHits',
  ].forEach((n, i) => add(`1.14.${i + 1}`, n, 'C32'))
  ;[
    'LogEntries',
    'LogEntriesEmerg',
    'LogEntriesAlert',
    'LogEntriesCrit',
    'LogEntriesErr',
    'LogEntriesWarning',
    'LogEntriesNotice',
    'LogEntriesInfo',
    'LogEntriesDebug',
    'LogEntriesLevel0',
    'LogEntriesLevel1',
    'LogEntriesLevel2',
    'LogEntriesLevel3',
    'LogEntriesLevel4',
    'LogEntriesLevel5',
    'LogLines',
    'LogRetries',
  ].forEach((n, i) => add(`1.15.${i + 1}`, n, 'C64'))
  ;['Total', 'Receiving', 'Sending', 'Decoding', 'PenPals', 'VirusCheck', 'SpamCheck'].forEach((s, i) =>
    add(`1.16.${i + 1}`, `TimeElapsed${s}`, 'C32', {
      syntax: 'TimeInterval',
      scale: 0.001,
      metric: { name: 'amavis_time_elapsed_seconds', labels: { section: snake(s) }, type: 'counter' },
    }),
  )
  for (let n = 1; n <= 10; n++) add(`1.17.${n}`, `UserCounter${n}`, 'C64')
  for (let n = 1; n <= 10; n++) add(`1.18.${n}`, `UserGauge${n}`, 'G32')
  STATUS_GROUPS.forEach((s, si) =>
    DIRECTIONS.forEach((d, di) =>
      add(`1.${19 + si}.${di + 1}`, `InMsgsStatus${s}${d}`, 'C32', {
        mibName: `inMsgsStatus${s}${d || 'All'}`,
        metric: {
          name: 'amavis_in_msgs_status',
          labels: { status: snake(s), direction: d ? snake(d) : 'all', oid_group: `1.${19 + si}` },
          type: 'counter',
        },
      }),
    ),
  )
  // 2.1 process scalars, 2.2 age buckets
  add('2.1.1', 'ProcGone', 'C32')
  ;[
    'ProcAll',
    'ProcIdle',
    'ProcBusy',
    'ProcBusyTransfer',
    'ProcBusyDecode',
    'ProcBusyVirus',
    'ProcBusySpam',
    'ProcBusyOther',
  ].forEach((n, i) => add(`2.1.${i + 2}`, n, 'G32'))
  for (let j = 0; j <= 21; j++)
    add(`2.2.${j + 1}`, `ProcBusy${j}`, 'G32', {
      mibName: `procBusy${AGE_MIB_SUFFIX[j]}`,
      metric: {
        name: 'amavis_proc_busy_age',
        labels: { min_age_seconds: j === 0 ? '0' : String(AGE_SLOTS_SECS[j - 1]) },
        type: 'gauge',
      },
    })
  ;['Maildrop', 'Incoming', 'Active', 'Deferred'].forEach((q, i) =>
    add(`3.1.${i + 1}`, `MtaQueueEntries${q}`, 'G32', {
      metric: { name: 'amavis_mta_queue_entries', labels: { queue: q.toLowerCase() }, type: 'gauge' },
    }),
  )
  return out
}

/** Every MIB scalar, sorted by OID. 331 entries: 296 amavisStats, 31 amavisProc, 4 amavisMta. */
export const COUNTERS: readonly CounterDef[] = Object.freeze(build().sort((a, b) => compareOids(a.oid, b.oid)))

/** Catalogue entries by wire name; a name may serve two OIDs (InMsgsStatus{Accepted,…}). */
export const COUNTERS_BY_NAME: ReadonlyMap<string, readonly CounterDef[]> = (() => {
  const m = new Map<string, CounterDef[]>()
  for (const c of COUNTERS) {
    const list = m.get(c.name) ?? []
    list.push(c)
    m.set(c.name, list)
  }
  return m
})()

/** Compares two dotted numeric OIDs in SNMP lexicographic order. */
export function compareOids(a: string, b: string): number {
  const pa = a.split('.')
  const pb = b.split('.')
  const n = Math.min(pa.length, pb.length)
  for (let i = 0; i < n; i++) {
    const d = Number(pa[i]) - Number(pb[i])
    if (d !== 0) return d
  }
  return pa.length - pb.length
}

/** True for names the responder answers on `am.nanny?` rather than `am.snmp?` (spec §2.7). */
export function isNannyName(name: string): boolean {
  return name.startsWith('Proc')
}

/**
 * `am.snmp` names with no AMAVIS-MIB object (no OID; amavisd-agent shows them, the SNMP agent
 * does not serve them). OpsSqlSelect / OpsLDAPSearch are amavis's own (one per SQL query or LDAP
 * search); the Lookup* ones are Vigil's: a message whose SQL/LDAP lookups failed, or did not
 * answer within lookup_timeout_ms (docs/adr/0012-sql-ldap-lookups.md).
 */
export const WIRE_ONLY_COUNTERS: readonly string[] = Object.freeze([
  'OpsSqlSelect',
  'OpsLDAPSearch',
  'LookupFailures',
  'LookupTimeouts',
])
