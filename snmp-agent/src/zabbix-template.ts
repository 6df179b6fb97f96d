// Generates the Zabbix 6.0 template (YAML export format) for AMAVIS-MIB from the counter catalogue:
// one SNMP item per object, counters as per-second rates (CHANGE_PER_SECOND), a calculated
// busy-process percentage and seconds per message, restart and no-data triggers, and the graphs
// of amavis's SNMP slides. snmp-agent/scripts/gen-zabbix.ts writes
// snmp-agent/templates/zabbix_amavis_snmp.yaml; a test fails when the committed file drifts.
import { createHash } from 'node:crypto'
import { stringify } from 'yaml'
import { COUNTERS, CONTENT_CATS, type CounterDef } from '@vigil/protocol'

export const TEMPLATE_NAME = 'Template Amavis SNMP (Vigil)'
const GROUP = 'Templates/Applications'

/** Deterministic UUIDv4-shaped id (Zabbix requires UUIDv4 format, 32 hex digits). */
export function stableUuid(seed: string): string {
  const h = createHash('md5').update(`vigil-zabbix:${seed}`).digest('hex').split('')
  h[12] = '4'
  h[16] = '89ab'[parseInt(h[16], 16) % 4]
  return h.join('')
}

export const itemKey = (c: CounterDef) => `amavis.${c.mibName}`
const isRate = (c: CounterDef) => c.syntax === 'Counter32' || c.syntax === 'Counter64' || c.syntax === 'TimeInterval'

function item(c: CounterDef): Record<string, unknown> {
  const base: Record<string, unknown> = {
    uuid: stableUuid(`item:${c.oid}`),
    name: `amavis: ${c.name}${isRate(c) ? ' per second' : ''}`,
    type: 'SNMP_AGENT',
    snmp_oid: c.oid,
    key: itemKey(c),
  }
  const tags = [
    { tag: 'component', value: c.group },
    { tag: 'amavis', value: c.name },
  ]
  if (c.syntax === 'DisplayString' || c.syntax === 'OBJECT IDENTIFIER')
    return { ...base, delay: '1h', history: '7d', trends: '0', value_type: 'CHAR', tags }
  if (c.syntax === 'TimeTicks')
    return {
      ...base,
      history: '7d',
      value_type: 'FLOAT',
      units: 'uptime',
      preprocessing: [{ type: 'MULTIPLIER', parameters: ['0.01'] }],
      tags,
    }
  if (c.syntax === 'TimeInterval')
    return {
      ...base,
      history: '7d',
      value_type: 'FLOAT',
      units: 's',
      description: `Seconds spent in this section per second of wall time (AMAVIS-MIB ${c.mibName}, centiseconds, cumulative).`,
      preprocessing: [
        { type: 'MULTIPLIER', parameters: ['0.01'] },
        { type: 'CHANGE_PER_SECOND', parameters: [''] },
      ],
      tags,
    }
  if (isRate(c))
    return {
      ...base,
      history: '7d',
      value_type: 'FLOAT',
      units: /Size/.test(c.name) ? 'B/s' : '/s',
      description: `Rate of the ${c.syntax} AMAVIS-MIB ${c.mibName} (amavis name ${c.name}).`,
      preprocessing: [{ type: 'CHANGE_PER_SECOND', parameters: [''] }],
      tags,
    }
  return { ...base, history: '7d', value_type: 'UNSIGNED', description: `AMAVIS-MIB ${c.mibName} (${c.syntax}).`, tags }
}

const byName = (name: string) => COUNTERS.find((c) => c.name === name)!
const PALETTE = [
  '1A7C11',
  'F63100',
  '2774A4',
  'A54F10',
  'FC6EA3',
  '6C59DC',
  'AC8C14',
  '611F27',
  'F230E0',
  '5CCD18',
  '00BFFF',
]

function graph(name: string, keys: string[], opts: { stacked?: boolean } = {}) {
  return {
    uuid: stableUuid(`graph:${name}`),
    name,
    ...(opts.stacked ? { type: 'STACKED' } : {}),
    graph_items: keys.map((key, i) => ({
      sortorder: String(i),
      color: PALETTE[i % PALETTE.length],
      item: { host: TEMPLATE_NAME, key },
    })),
  }
}

/** The template as a plain object (the YAML is its stringification). */
export function buildZabbixTemplate(): Record<string, unknown> {
  const k = (name: string) => itemKey(byName(name))
  const calculated = [
    {
      uuid: stableUuid('item:busy-percent'),
      name: 'amavis: busy child processes, percent',
      type: 'CALCULATED',
      key: 'amavis.procBusyPercent',
      history: '7d',
      value_type: 'FLOAT',
      units: '%',
      params: `100*last(//${k('ProcBusy')})/max(last(//${k('ProcAll')}),1)`,
      description: 'ProcBusy / ProcAll × 100: how close the filter is to running out of child processes.',
      tags: [{ tag: 'component', value: 'amavisProc' }],
      triggers: [
        {
          uuid: stableUuid('trigger:busy'),
          expression: `min(/${TEMPLATE_NAME}/amavis.procBusyPercent,10m)>{$AMAVIS.BUSY.MAX}`,
          name: 'amavis: more than {$AMAVIS.BUSY.MAX}% of child processes busy for 10 minutes',
          priority: 'WARNING',
        },
      ],
    },
    {
      uuid: stableUuid('item:secs-per-msg'),
      name: 'amavis: elapsed time per message',
      type: 'CALCULATED',
      key: 'amavis.elapsedPerMsg',
      history: '7d',
      value_type: 'FLOAT',
      units: 's',
      params: `last(//${k('TimeElapsedTotal')})/max(last(//${k('InMsgs')}),0.0001)`,
      description: 'TimeElapsedTotal rate divided by the InMsgs rate: average processing time of one message.',
      tags: [{ tag: 'component', value: 'amavisStats' }],
    },
  ]
  const items = [...COUNTERS.map(item), ...calculated]
  const up = `/${TEMPLATE_NAME}/${k('sysUpTime')}`
  const triggers = [
    {
      uuid: stableUuid('trigger:restart'),
      expression: `last(${up})<last(${up},#2)`,
      name: 'amavis: restarted (sysUpTime decreased)',
      priority: 'INFO',
      description:
        'sysUpTime of AMAVIS-MIB went down: amavisd (or its snmp-responder) restarted and counters were reset.',
      manual_close: 'YES',
    },
    {
      uuid: stableUuid('trigger:nodata'),
      expression: `nodata(/${TEMPLATE_NAME}/${k('InMsgs')},{$AMAVIS.NODATA.PERIOD})=1 and nodata(/${TEMPLATE_NAME}/${k('ProcAll')},{$AMAVIS.NODATA.PERIOD})=1`,
      name: 'amavis: no SNMP data for {$AMAVIS.NODATA.PERIOD}',
      priority: 'AVERAGE',
      description: 'Neither amavisStats nor amavisProc answered: the subagent, the responder or snmpd is down.',
    },
    {
      uuid: stableUuid('trigger:deferred'),
      expression: `min(/${TEMPLATE_NAME}/${k('MtaQueueEntriesDeferred')},15m)>{$AMAVIS.DEFERRED.MAX}`,
      name: 'amavis: Postfix deferred queue above {$AMAVIS.DEFERRED.MAX} for 15 minutes',
      priority: 'WARNING',
    },
  ]
  const graphs = [
    graph(
      'amavis: load (processes)',
      [
        'ProcBusy',
        'ProcIdle',
        'ProcAll',
        'ProcBusyTransfer',
        'ProcBusyDecode',
        'ProcBusyVirus',
        'ProcBusySpam',
        'ProcBusyOther',
      ].map(k),
    ),
    graph('amavis: busy processes, percent', ['amavis.procBusyPercent']),
    graph(
      'amavis: timing (seconds per second by section)',
      ['Receiving', 'Decoding', 'VirusCheck', 'SpamCheck', 'PenPals', 'Sending'].map((s) => k(`TimeElapsed${s}`)),
      { stacked: true },
    ),
    graph('amavis: elapsed time per message', ['amavis.elapsedPerMsg']),
    graph(
      'amavis: mail rate',
      ['InMsgs', 'InMsgsRecips', 'OutMsgs', 'OutMsgsRelay', 'OutMsgsSubmit', 'QuarMsgs'].map(k),
    ),
    graph('amavis: size', ['InMsgsSize', 'OutMsgsSize', 'QuarMsgsSize'].map(k)),
    graph(
      'amavis: content categories',
      CONTENT_CATS.map((c) => k(`Content${c}Msgs`)),
      { stacked: true },
    ),
    graph(
      'amavis: errors',
      [
        'OutMsgsAttemptFails',
        'OutMsgsRejects',
        'InMsgsStatusTempFailed',
        'InMsgsStatusRejected',
        'QuarAttemptTempFails',
        'QuarAttemptFails',
        'LogEntriesErr',
      ].map(k),
    ),
    graph(
      'amavis: Postfix queue',
      ['Maildrop', 'Incoming', 'Active', 'Deferred'].map((q) => k(`MtaQueueEntries${q}`)),
      { stacked: true },
    ),
  ]
  return {
    zabbix_export: {
      version: '6.0',
      groups: [{ uuid: stableUuid(`group:${GROUP}`), name: GROUP }],
      templates: [
        {
          uuid: stableUuid('template'),
          template: TEMPLATE_NAME,
          name: TEMPLATE_NAME,
          description:
            'AMAVIS-MIB (enterprise 15312) as served by amavisd-snmp-subagent-zmq or the Vigil snmp-agent through an snmpd AgentX master. Generated from the Vigil counter catalogue by snmp-agent/scripts/gen-zabbix.ts.',
          groups: [{ name: GROUP }],
          items,
          macros: [
            {
              macro: '{$AMAVIS.NODATA.PERIOD}',
              value: '10m',
              description: 'How long without any answer before the no-data trigger fires.',
            },
            { macro: '{$AMAVIS.BUSY.MAX}', value: '90', description: 'Busy child process percentage that warns.' },
            { macro: '{$AMAVIS.DEFERRED.MAX}', value: '500', description: 'Deferred queue size that warns.' },
          ],
        },
      ],
      triggers,
      graphs,
    },
  }
}

export function generateZabbixYaml(): string {
  return (
    '# GENERATED by snmp-agent/scripts/gen-zabbix.ts from protocol/src/counters.ts; do not edit.\n' +
    // Every scalar quoted: Zabbix reads YAML 1.1, where a plain YES or 6.0 would not stay a string.
    stringify(buildZabbixTemplate(), { lineWidth: 0, defaultStringType: 'QUOTE_SINGLE', defaultKeyType: 'PLAIN' })
  )
}
