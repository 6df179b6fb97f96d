// GET /metrics in OpenMetrics 1.0 text: the amavis counters of the catalogue (names, labels and
// types from COUNTERS; `_total` on counter samples; metricScale ms → s), process gauges, bus
// health and per-stage latency histograms. Pure: builds the text from snapshots.
import { COUNTERS, SMTP_PROTOCOL_ERROR_KINDS, type CounterDef, type UnexpectedErrorCounts } from '@vigil/protocol'
import type { BusStats } from '../bus/stats.ts'
import { perlNumber, type Variable } from '../counters/totals.ts'
import { STAGE_BUCKETS_SECS, type StageHistograms } from './stage-histograms.ts'

export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8'

export interface MetricsInput {
  nowSecs: number
  processStartSecs: number
  rssBytes: number
  totals: ReadonlyMap<string, Variable>
  /** Live process table counts per host and activity (idle, transfer, decode, virus, spam, other). */
  processes: readonly { host: string; activity: string; count: number }[]
  stats: BusStats
  histograms: StageHistograms
  sseClients: number
  /** The log pipeline's last accounting (refreshed every 5 s), when it runs. */
  pipeline?: PipelineAccount
  /** This process's own bugs caught by its crash guard (protocol's unexpectedErrorCounts()). */
  unexpected?: Readonly<UnexpectedErrorCounts>
}

import type { PipelineAccount } from '../pipeline/accounting.ts'

export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

function labels(l: Readonly<Record<string, string>>): string {
  const keys = Object.keys(l)
  if (keys.length === 0) return ''
  return `{${keys.map((k) => `${k}="${escapeLabelValue(l[k])}"`).join(',')}}`
}

/** OpenMetrics number: integers plainly, floats in shortest round-trip form. */
export function formatMetricNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN'
  if (n === Infinity) return '+Inf'
  if (n === -Infinity) return '-Inf'
  return String(n)
}

function scaled(v: number, scale: number): number {
  if (scale === 1) return v
  // 1954 ms × 0.001 must print 1.954, not 1.9540000000000002.
  return Number((v * scale).toPrecision(15))
}

/** OpenMetrics canonical bucket bound: always with a fraction (`1.0`, `0.005`). */
function canonicalLe(n: number): string {
  const s = String(n)
  return /[.e]/.test(s) ? s : `${s}.0`
}

const HELP: Record<string, string> = {}
function helpFor(def: CounterDef): string {
  return HELP[def.metric.name] ?? `AMAVIS-MIB ${def.group} ${def.mibName} and related objects.`
}

function unitOf(name: string): string | undefined {
  if (name.endsWith('_seconds')) return 'seconds'
  if (name.endsWith('_bytes')) return 'bytes'
  return undefined
}

export function formatMetrics(m: MetricsInput): string {
  const out: string[] = []
  const family = (name: string, type: string, help: string) => {
    out.push(`# TYPE ${name} ${type}`)
    const unit = unitOf(name)
    if (unit) out.push(`# UNIT ${name} ${unit}`)
    out.push(`# HELP ${name} ${help}`)
  }

  // amavis counters, grouped by family in catalogue order of first appearance.
  const families = new Map<string, CounterDef[]>()
  for (const c of COUNTERS) {
    if (c.source === 'mta') continue
    const list = families.get(c.metric.name) ?? []
    list.push(c)
    families.set(c.metric.name, list)
  }
  for (const [name, defs] of families) {
    const type = defs[0].metric.type
    if (type === 'info') {
      const present = defs.filter((d) => m.totals.get(d.name)?.value !== undefined)
      if (present.length === 0) continue
      family(name, 'info', helpFor(defs[0]))
      for (const d of present)
        out.push(`${name}_info${labels({ ...d.metric.labels, value: String(m.totals.get(d.name)!.value) })} 1`)
      continue
    }
    family(name, type, helpFor(defs[0]))
    for (const d of defs) {
      const v = m.totals.get(d.name)
      let value: number
      if (d.name === 'sysUpTime') {
        const start = perlNumber(v?.value)
        value = start > 0 ? Math.max(0, Math.round((m.nowSecs - start) * 1000) / 1000) : 0
      } else value = scaled(perlNumber(v?.value), d.metricScale)
      out.push(`${name}${type === 'counter' ? '_total' : ''}${labels(d.metric.labels)} ${formatMetricNumber(value)}`)
    }
  }

  family('vigil_processes', 'gauge', 'amavis children in the collector process table by host and activity.')
  for (const p of m.processes) out.push(`vigil_processes${labels({ host: p.host, activity: p.activity })} ${p.count}`)

  family('process_start_time_seconds', 'gauge', 'Start time of the collector process since the Unix epoch.')
  out.push(`process_start_time_seconds ${formatMetricNumber(Math.round(m.processStartSecs * 1000) / 1000)}`)
  family('process_resident_memory_bytes', 'gauge', 'Resident set size of the collector process.')
  out.push(`process_resident_memory_bytes ${m.rssBytes}`)

  const s = m.stats
  const counter = (name: string, help: string, samples: [Record<string, string>, number][]) => {
    family(name, 'counter', help)
    for (const [l, v] of samples) out.push(`${name}_total${labels(l)} ${formatMetricNumber(v)}`)
  }
  if (m.unexpected)
    counter(
      'vigil_unexpected_errors',
      'Bugs of the collector process: exceptions nothing caught, rejections nothing handled.',
      [
        [{ kind: 'uncaught_exception' }, m.unexpected.uncaughtExceptions],
        [{ kind: 'unhandled_rejection' }, m.unexpected.unhandledRejections],
      ],
    )
  counter('vigil_bus_messages_received', 'ZMQ messages received on the inner sockets.', [[{}, s.messagesIn]])
  counter('vigil_bus_frames_received', 'ZMQ frames received on the inner sockets.', [[{}, s.framesIn]])
  counter('vigil_bus_messages_forwarded', 'ZMQ messages handed to the outer PUB socket.', [[{}, s.messagesOut]])
  counter('vigil_bus_frames_forwarded', 'ZMQ frames handed to the outer PUB socket.', [[{}, s.framesOut]])
  counter('vigil_bus_malformed_frames', 'Inner frames that did not parse (syntax, UTF-8, size, topic).', [
    [{}, s.malformed],
  ])
  counter('vigil_bus_dropped_messages', 'Messages not forwarded, by reason (hwm counts only with outer_nodrop).', [
    [{ reason: 'malformed' }, s.droppedMalformed],
    [{ reason: 'hwm' }, s.droppedHwm],
    [{ reason: 'send_error' }, s.sendErrors],
  ])
  counter('vigil_events_received', 'Per-message JSON events accepted on the events socket.', [[{}, s.eventsReceived]])
  counter('vigil_events_malformed', 'Malformed events, written to the dead-letter file.', [[{}, s.eventsMalformed]])
  counter('vigil_events_store_errors', 'Event batches a sink failed to store.', [[{}, s.eventsStoreErrors]])
  counter('vigil_events_acked', 'Event ids acknowledged to the filters once stored or dead-lettered (ADR 0015).', [
    [{}, s.eventsAcked],
  ])
  counter('vigil_events_duplicates', 'Events received again with an id already received (resends), not stored twice.', [
    [{}, s.eventsDuplicates],
  ])
  counter('vigil_responder_requests', 'Requests on the snmp-responder REP socket.', [[{}, s.responderRequests]])
  counter(
    'vigil_responder_malformed_requests',
    'Responder requests other than am.snmp? / am.nanny?, answered with am.error.',
    [[{}, s.responderMalformed]],
  )
  counter(
    'vigil_smtp_protocol_errors',
    'SMTP protocol errors seen by the filters, by kind (from vigil.stats).',
    SMTP_PROTOCOL_ERROR_KINDS.map((kind) => [{ kind }, s.smtpProtocolErrors[kind] ?? 0]),
  )
  counter(
    'vigil_filter_events_dead_lettered',
    'Events the filters wrote to their dead-letter file (from vigil.stats).',
    [[{}, s.filterEventsDeadLettered]],
  )
  counter('vigil_filter_events_trimmed', 'Events the Redis LTRIM pushed out of the list (from vigil.stats).', [
    [{}, s.filterEventsTrimmed],
  ])
  counter(
    'vigil_filter_events_produced',
    'Events the filters wrote, one per message, DSN and notification (from vigil.stats).',
    [[{}, s.filterEventsProduced]],
  )
  counter(
    'vigil_filter_events_resent',
    'Events the filters sent to the collector again: unacknowledged in time or connection lost (from vigil.stats).',
    [[{}, s.filterEventsResent]],
  )
  counter(
    'vigil_filter_events_spooled',
    'Events the filters wrote to their spool: window full or worker stopping (from vigil.stats).',
    [[{}, s.filterEventsSpooled]],
  )
  counter('vigil_minder_rounds', 'am.nanny rounds published.', [[{}, s.nannyRounds]])
  counter('vigil_minder_purged', 'Processes purged from the table (gone, stale or given up).', [[{}, s.purged]])
  counter('vigil_minder_signals', 'TERM/KILL signals sent to overdue children (kill_overdue).', [[{}, s.signalsSent]])
  const p = m.pipeline
  if (p) {
    const gauge = (name: string, help: string, v: number) => {
      family(name, 'gauge', help)
      out.push(`${name} ${formatMetricNumber(v)}`)
    }
    counter('vigil_pipeline_indexed', 'Events the search store confirmed.', [[{}, p.indexed]])
    counter('vigil_pipeline_retried', 'Item attempts the store answered with retry (429, 5xx, full).', [
      [{}, p.retried],
    ])
    counter(
      'vigil_pipeline_dead_lettered',
      'Events dead-lettered by the pipeline, by reason class.',
      Object.entries(p.dead_lettered_by_reason).map(([reason, n]) => [{ reason }, n]),
    )
    gauge('vigil_pipeline_queued', 'Events waiting: Redis list length, or the direct intake queue.', p.queued)
    gauge('vigil_pipeline_in_flight', 'Events taken by the shipper, not yet confirmed.', p.in_flight)
    gauge(
      'vigil_pipeline_oldest_queued_age_seconds',
      'Age of the oldest queued event (0 when none).',
      p.oldest_queued_age_secs ?? 0,
    )
    gauge('vigil_pipeline_backend_up', 'Whether the search store answers (1) or not (0).', p.backend.up ? 1 : 0)
    gauge(
      'vigil_pipeline_balanced',
      'Whether indexed + dead-lettered + queued + in flight + trimmed = produced.',
      p.balanced ? 1 : 0,
    )
  }
  family('vigil_stream_clients', 'gauge', 'Connected /api/stream clients.')
  out.push(`vigil_stream_clients ${m.sseClients}`)

  family('vigil_stage_duration_seconds', 'histogram', 'Per-message time spent in each amavis section, from events.')
  for (const [stage, h] of m.histograms.entries()) {
    let cum = 0
    STAGE_BUCKETS_SECS.forEach((le, i) => {
      cum += h.counts[i]
      out.push(`vigil_stage_duration_seconds_bucket${labels({ stage, le: canonicalLe(le) })} ${cum}`)
    })
    cum += h.counts[STAGE_BUCKETS_SECS.length]
    out.push(`vigil_stage_duration_seconds_bucket${labels({ stage, le: '+Inf' })} ${cum}`)
    out.push(`vigil_stage_duration_seconds_count${labels({ stage })} ${h.count}`)
    out.push(
      `vigil_stage_duration_seconds_sum${labels({ stage })} ${formatMetricNumber(Number(h.sum.toPrecision(15)))}`,
    )
  }
  out.push('# EOF')
  return out.join('\n') + '\n'
}
