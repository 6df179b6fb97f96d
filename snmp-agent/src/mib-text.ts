// Generates Vigil's AMAVIS-MIB text from the counter catalogue (`COUNTERS`), so the MIB, the agent's
// OID table and the collector's metrics can never disagree. snmp-agent/scripts/gen-mib.ts writes
// it to snmp-agent/mib/AMAVIS-MIB.txt; a test regenerates it and fails on drift.
import { COUNTERS, type CounterDef } from '@vigil/protocol'

/** Names of the non-leaf nodes, by OID relative to amavis (…15312.2.1). */
export const MIB_NODES: Readonly<Record<string, [name: string, description: string]>> = {
  '1': ['amavisStats', 'Counters of amavisd, from the snmp-responder (am.snmp).'],
  '2': ['amavisProc', 'amavisd child process gauges, from the snmp-responder (am.nanny).'],
  '3': ['amavisMta', 'Postfix queue sizes, counted by the subagent itself.'],
  '1.1': ['amavisSystem', 'Identity of the amavisd instance.'],
  '1.2': ['amavisInMsgsGroup', 'Received messages.'],
  '1.3': ['amavisInMsgsSizeGroup', 'Bytes received.'],
  '1.4': ['amavisInMsgsRecipsGroup', 'Recipients of received messages.'],
  '1.5': ['amavisInMsgsBounceGroup', 'Bounce (null reverse path) handling.'],
  '1.6': ['amavisOutMsgsGroup', 'Messages sent (forwarded or submitted).'],
  '1.7': ['amavisOutMsgsSizeGroup', 'Bytes sent.'],
  '1.8': ['amavisQuarMsgsGroup', 'Quarantine operations.'],
  '1.9': ['amavisQuarMsgsSizeGroup', 'Bytes quarantined.'],
  '1.10': ['amavisContentGroup', 'Messages by major content category and direction.'],
  '1.11': ['amavisCacheConnGroup', 'Cache (unused since amavis 2.7) and outgoing SMTP/LMTP connections.'],
  '1.12': ['amavisOpsGroup', 'Decoding and scanning operations.'],
  '1.13': ['amavisPenPalsGroup', 'Pen pals lookups.'],
  '1.14': ['amavisSqlAddrGroup', 'SQL address lookups.'],
  '1.15': ['amavisLogGroup', 'Log entries and lines written.'],
  '1.16': ['amavisTimeElapsedGroup', 'Cumulative processing time per section, in hundredths of a second.'],
  '1.17': ['amavisUserCounterGroup', 'Counters for local custom hooks.'],
  '1.18': ['amavisUserGaugeGroup', 'Gauges for local custom hooks.'],
  '1.19': ['amavisInMsgsStatusAcceptedGroup', 'Messages with a recipient accepted, by direction.'],
  '1.20': ['amavisInMsgsStatusRelayedUntaggedGroup', 'Messages relayed untagged, by direction.'],
  '1.21': ['amavisInMsgsStatusRelayedTaggedGroup', 'Messages relayed tagged, by direction.'],
  '1.22': ['amavisInMsgsStatusDiscardedGroup', 'Messages with a recipient discarded, by direction.'],
  '1.23': ['amavisInMsgsStatusNoBounceGroup', 'Messages whose DSN was suppressed, by direction.'],
  '1.24': ['amavisInMsgsStatusBouncedGroup', 'Messages bounced (DSN sent), by direction.'],
  '1.25': ['amavisInMsgsStatusRejectedGroup', 'Messages rejected (5xx), by direction.'],
  '1.26': ['amavisInMsgsStatusTempFailedGroup', 'Messages temporarily failed (4xx), by direction.'],
  '2.1': ['amavisProcCounts', 'Child process counts by activity.'],
  '2.2': ['amavisProcBusyAge', 'Busy child processes by how long they have been busy.'],
  '3.1': ['amavisMtaQueueEntries', 'Entries in the Postfix queue directories.'],
}
const CATS = ['Clean', 'MtaFailed', 'Oversized', 'BadHdr', 'Spammy', 'Spam', 'Unchecked', 'Banned', 'Virus']
CATS.forEach((c, i) => {
  ;(MIB_NODES as Record<string, [string, string]>)[`1.10.${i + 1}`] = [
    `amavisContent${c}Group`,
    `Messages of major content category ${c}, by direction.`,
  ]
})

const SYNTAX_TEXT: Record<CounterDef['syntax'], string> = {
  Counter32: 'Counter32',
  Counter64: 'Counter64',
  Gauge32: 'Gauge32',
  Integer32: 'Integer32',
  TimeTicks: 'TimeTicks',
  TimeInterval: 'TimeInterval',
  DisplayString: 'DisplayString',
  'OBJECT IDENTIFIER': 'OBJECT IDENTIFIER',
}

const DIR_TEXT: Record<string, string> = {
  Inbound: 'not originating, with a local recipient',
  Outbound: 'originating, with a non-local recipient',
  Internal: 'originating, with a local recipient',
  Originating: 'from an originating (internal/authenticated) client',
  OpenRelay: 'not originating, with a non-local recipient',
  Local: 'local recipients',
}

/** A one-paragraph DESCRIPTION for an object, derived from its wire name and the amavis semantics (spec §4.3). */
export function describeObject(c: CounterDef): string {
  const n = c.name
  const fixed: Record<string, string> = {
    sysDescr: 'Product name and version of the content filter, e.g. amavis-2.13.0 (20230106).',
    sysObjectID: 'The amavis enterprise OID, 1.3.6.1.4.1.15312.2.',
    sysUpTime: 'Time since the content filter started (sent as Unix start time, served as TimeTicks).',
    sysContact: 'The snmp_contact setting ($snmp_contact).',
    sysName: 'The host name of the content filter ($myhostname), UTF-8.',
    sysLocation: 'The snmp_location setting ($snmp_location).',
    sysServices: 'Always 64 (application layer).',
    ProcGone: 'Child processes that disappeared without saying goodbye.',
    ProcAll: 'All child processes known to the process minder.',
    ProcIdle: 'Idle child processes.',
    ProcBusy: 'Busy child processes.',
    ProcBusyTransfer: 'Child processes receiving or sending mail.',
    ProcBusyDecode: 'Child processes decoding a message.',
    ProcBusyVirus: 'Child processes scanning for viruses.',
    ProcBusySpam: 'Child processes checking for spam.',
    ProcBusyOther: 'Child processes busy with anything else.',
  }
  if (fixed[n]) return fixed[n]
  let m: RegExpExecArray | null
  if ((m = /^ProcBusy(\d+)$/.exec(n)))
    return `Child processes busy for at least the age of slot ${m[1]} (0 = under 0.1 s).`
  if ((m = /^MtaQueueEntries(\w+)$/.exec(n))) return `Entries in the Postfix ${m[1].toLowerCase()} queue directory.`
  if ((m = /^TimeElapsed(\w+)$/.exec(n))) return `Cumulative time spent in section ${m[1]}, in units of 0.01 s.`
  if ((m = /^User(Counter|Gauge)(\d+)$/.exec(n)))
    return `User ${m[1].toLowerCase()} ${m[2]}, for custom hooks; never set by amavisd itself.`
  const dir = Object.keys(DIR_TEXT).find((d) => n.endsWith(d))
  const dirText = dir ? ` Restricted to ${dir === 'Local' ? '' : 'mail '}${DIR_TEXT[dir]}.` : ''
  if (n.startsWith('InMsgsStatus'))
    return `Messages counted once per distinct recipient status ${n.slice(12, dir ? n.length - dir.length : undefined)}.${dirText}`
  if (n.startsWith('InMsgsSize')) return `Bytes of received messages.${dirText}`
  if (n.startsWith('InMsgsRecips')) return `Recipients of received messages.${dirText}`
  if (n.startsWith('InMsgsBounce')) return `Received bounces: ${n.slice(12) || 'all'}.`
  if (n.startsWith('InMsgs')) return `Received messages.${dirText}`
  if (n.startsWith('OutMsgsSize')) return `Bytes of successfully sent messages: ${n.slice(11) || 'all'}.`
  if (n.startsWith('OutMsgs')) return `Sent messages: ${n.slice(7) || 'all'}.`
  if (n.startsWith('QuarMsgsSize')) return `Bytes quarantined: ${n.slice(12) || 'all attempts'}.`
  if (n.startsWith('QuarMsgs')) return `Quarantined messages: ${n.slice(8) || 'all attempts'}.`
  if (n.startsWith('QuarAttempt')) return `Quarantine attempts that failed (${n.slice(11)}).`
  if (n.startsWith('Content'))
    return `Messages of major content category ${n.replace(/^Content(\w+?)Msgs.*$/, '$1')}.${dirText}`
  if (n.startsWith('Cache')) return `Cache statistic ${n.slice(5)}; the cache is unused since amavis 2.7.`
  if (n.startsWith('OutConn')) return `Outgoing SMTP/LMTP connection events: ${n.slice(7)}.`
  if (n.startsWith('Ops')) return `Operations run: ${n.slice(3)}.`
  if (n.startsWith('PenPals')) return `Pen pals lookups: ${n.slice(7)}.`
  if (n.startsWith('SqlAddr')) return `SQL address lookups: ${n.slice(7)}.`
  if (n.startsWith('LogEntries')) return `Log entries written: ${n.slice(10) || 'all'}.`
  if (n === 'LogLines') return 'Log lines written, counting wrapped continuation lines.'
  if (n === 'LogRetries') return 'Syslog write retries.'
  return `amavis variable ${n}.`
}

const quote = (s: string) => s.replace(/"/g, "'")

function wrap(text: string, indent: string, width = 72): string {
  const words = text.split(/\s+/)
  const lines: string[] = []
  let cur = ''
  for (const w of words) {
    if (cur && cur.length + 1 + w.length > width) {
      lines.push(cur)
      cur = w
    } else cur = cur ? `${cur} ${w}` : w
  }
  if (cur) lines.push(cur)
  return lines.map((l) => indent + l).join('\n')
}

/** The complete MIB module text. Deterministic: the same catalogue gives the same bytes. */
export function generateMibText(counters: readonly CounterDef[] = COUNTERS): string {
  const out: string[] = []
  out.push(`-- AMAVIS-MIB as served by Vigil's AgentX subagent (snmp-agent/).
-- GENERATED by snmp-agent/scripts/gen-mib.ts from the counter catalogue in
-- protocol/src/counters.ts. Do not edit; regenerate by running
-- snmp-agent/scripts/gen-mib.ts under tsx.
-- OIDs, object names and SYNTAX follow amavisd-new 2.13's AMAVIS-MIB.

AMAVIS-MIB DEFINITIONS ::= BEGIN

IMPORTS
    MODULE-IDENTITY, OBJECT-TYPE, enterprises,
    Counter32, Counter64, Gauge32, Integer32, TimeTicks
        FROM SNMPv2-SMI
    DisplayString, TimeInterval
        FROM SNMPv2-TC;

amavis MODULE-IDENTITY
    LAST-UPDATED "202611250000Z"
    ORGANIZATION "Vigil project"
    CONTACT-INFO
        "Vigil maintainers; see the project README."
    DESCRIPTION
        "Statistics of an amavis-compatible mail content filter:
        message counters (amavisStats), child process gauges
        (amavisProc) and Postfix queue sizes (amavisMta). Every object
        is a read-only scalar with instance 0."
    REVISION "202611250000Z"
    DESCRIPTION
        "Vigil's text of the amavisd-new 2.13 object tree."
    ::= { enterprises 15312 2 1 }
`)
  const nodeName = (rel: string): string => {
    if (rel === '') return 'amavis'
    const n = MIB_NODES[rel]
    if (!n) throw new Error(`MIB node ${rel} has no name in MIB_NODES`)
    return n[0]
  }
  const emitted = new Set<string>()
  const emitNode = (rel: string) => {
    if (rel === '' || emitted.has(rel)) return
    const parts = rel.split('.')
    const parent = parts.slice(0, -1).join('.')
    emitNode(parent)
    emitted.add(rel)
    out.push(`-- ${MIB_NODES[rel]?.[1] ?? ''}`)
    out.push(`${nodeName(rel)} OBJECT IDENTIFIER ::= { ${nodeName(parent)} ${parts[parts.length - 1]} }\n`)
  }
  const seen = new Set<string>()
  for (const c of counters) {
    const rel = c.relOid.replace(/\.0$/, '')
    if (seen.has(c.mibName)) throw new Error(`duplicate MIB object name ${c.mibName}`)
    seen.add(c.mibName)
    const parts = rel.split('.')
    const parent = parts.slice(0, -1).join('.')
    emitNode(parent)
    const units =
      c.syntax === 'TimeInterval'
        ? '\n    UNITS       "centiseconds"'
        : /Size/.test(c.name)
          ? '\n    UNITS       "bytes"'
          : ''
    out.push(`${c.mibName} OBJECT-TYPE
    SYNTAX      ${SYNTAX_TEXT[c.syntax]}${units}
    MAX-ACCESS  read-only
    STATUS      current
    DESCRIPTION
${wrap(`"${quote(describeObject(c))} amavis name ${c.name}, wire type ${c.wireType}."`, '        ')}
    ::= { ${nodeName(parent)} ${parts[parts.length - 1]} }
`)
  }
  out.push('END\n')
  return out.join('\n')
}
