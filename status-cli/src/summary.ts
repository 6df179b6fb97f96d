// The live summary of the full screen, beside (or below) the process table: rates per content
// category, per-stage latency, pipeline health and the last messages. What a source cannot know
// is `n/a` with the reason, never a made-up number: the amavis ZMQ bus and its snmp-responder
// carry counters (so category rates and mean stage times), only the collector's HTTP API has the
// latency histograms, the pipeline accounting and the events. Pure: no I/O, no clock.
import type { CounterSnapshot } from './counters.ts'

import {
  pushCounterSample as pushWindowSample,
  RATE_WINDOW_SECS,
  windowRates,
  type CounterSampleShape,
} from '@vigil/protocol/status-bars.ts'
export { LIVE_CATEGORIES as CATEGORIES, RATE_WINDOW_SECS } from '@vigil/protocol/status-bars.ts'

export type NA = { readonly na: string }
export const isNA = (v: unknown): v is NA => typeof v === 'object' && v !== null && 'na' in v

export interface CategoryRates {
  readonly windowSecs: number
  /** Per category: messages per minute (undefined until two samples), running total. */
  readonly rows: ReadonlyArray<{ readonly cat: string; readonly perMin: number | undefined; readonly total: number }>
}

export interface StageRow {
  readonly stage: string
  readonly count?: number
  readonly p50Secs?: number
  readonly p95Secs?: number
  readonly meanSecs?: number
}

export interface PipelineHealth {
  readonly backend: string
  readonly up: boolean
  readonly queued: number
  readonly inFlight: number
  readonly oldestQueuedSecs: number | undefined
  readonly indexed: number
  readonly produced: number
  readonly deadLettered: number
  readonly balanced: boolean
}

export interface MessageRow {
  readonly timeUnix: number | undefined
  readonly logId: string
  readonly contentType: string
  readonly action: string
  readonly from: string
  readonly to: string
}

export interface SummaryView {
  readonly rates: CategoryRates | NA
  /** Stage latency: histograms from the API, or the responder's mean per message. */
  readonly stages: { readonly source: 'histograms' | 'counters'; readonly rows: readonly StageRow[] } | NA
  readonly pipeline: PipelineHealth | NA
  readonly messages: readonly MessageRow[] | NA
}

export const NO_API = 'n/a (bus only; --api <collector URL> adds it)'

/** The status-cli sample shape (a Map of running totals) for the shared rate window. */
const SNAPSHOT_SHAPE: CounterSampleShape<CounterSnapshot> = {
  atSecs: (s) => s.atSecs,
  value: (s, name) => s.values.get(name),
  names: (s) => s.values.keys(),
}

/** Adds a counter snapshot to the window; a counter that went down (restart) starts a new window. */
export function pushCounterSample(
  samples: readonly CounterSnapshot[],
  s: CounterSnapshot,
  windowSecs = RATE_WINDOW_SECS,
): CounterSnapshot[] {
  return pushWindowSample(samples, s, SNAPSHOT_SHAPE, windowSecs)
}

/** Messages per minute by category over the samples (oldest to newest); never negative. */
export function categoryRates(samples: readonly CounterSnapshot[]): CategoryRates {
  const r = windowRates(samples, SNAPSHOT_SHAPE)
  return { windowSecs: r.windowSecs, rows: r.byCategory.map((c) => ({ ...c, total: c.total ?? 0 })) }
}

// --- layout ------------------------------------------------------------------------------------

/** Terminal text from event data: control characters (escape sequences) become `?`. */
export function inert(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '?')
}

export function fmtSecs(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '-'
  if (v < 1) return `${(v * 1000).toFixed(v < 0.01 ? 1 : 0)}ms`
  return `${v.toFixed(2)}s`
}

function hhmmss(unix: number | undefined): string {
  if (unix === undefined || !Number.isFinite(unix)) return '--:--:--'
  const d = new Date(unix * 1000)
  const p = (n: number) => String(n).padStart(2, '0')
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`
}

function rule(title: string, width: number): string {
  const t = `-- ${title} `
  return t + '-'.repeat(Math.max(0, width - t.length))
}

/**
 * The summary as lines of at most `width` characters: four titled sections. `maxMessages` bounds
 * the last-messages list (the caller gives what fits).
 */
export function formatSummary(s: SummaryView, width: number, maxMessages = 8): string[] {
  const out: string[] = []
  // rates per content category
  if (isNA(s.rates)) out.push(rule('msgs/min by content', width), `  ${s.rates.na}`)
  else {
    const secs = Math.round(s.rates.windowSecs)
    out.push(rule(`msgs/min by content${secs > 0 ? `, last ${secs}s` : ''}`, width))
    const shown = s.rates.rows.filter((r) => r.total > 0 || r.cat === 'Clean' || r.cat === 'Spam' || r.cat === 'Virus')
    const cells = shown.map((r) => `${r.cat} ${r.perMin === undefined ? '-' : r.perMin.toFixed(1)}`)
    let line = ' '
    for (const c of cells) {
      if (line.length + 2 + c.length > width && line.trim() !== '') {
        out.push(line)
        line = ' '
      }
      line += ` ${c}`
    }
    if (line.trim() !== '') out.push(line)
  }
  // per-stage latency
  if (isNA(s.stages)) out.push(rule('stage latency', width), `  ${s.stages.na}`)
  else if (s.stages.source === 'histograms') {
    out.push(rule('stage latency  p50 / p95 / mean', width))
    if (s.stages.rows.length === 0) out.push('  no messages timed yet')
    for (const r of s.stages.rows)
      out.push(
        `  ${r.stage.padEnd(13)} ${fmtSecs(r.p50Secs).padStart(7)} ${fmtSecs(r.p95Secs).padStart(7)} ${fmtSecs(r.meanSecs).padStart(7)}  n=${r.count ?? 0}`,
      )
  } else {
    out.push(rule('stage latency  mean per msg (counters)', width))
    if (s.stages.rows.length === 0) out.push('  no messages since the last poll')
    for (const r of s.stages.rows) out.push(`  ${r.stage.padEnd(13)} ${fmtSecs(r.meanSecs).padStart(7)}`)
  }
  // pipeline health
  out.push(rule('pipeline', width))
  if (isNA(s.pipeline)) out.push(`  ${s.pipeline.na}`)
  else {
    const p = s.pipeline
    out.push(
      `  ${p.backend || 'backend'} ${p.up ? 'UP' : 'DOWN'}  queued ${p.queued}  in flight ${p.inFlight}  oldest ${p.oldestQueuedSecs === undefined ? '-' : `${p.oldestQueuedSecs.toFixed(1)}s`}`,
      `  indexed ${p.indexed} / produced ${p.produced}  dead letters ${p.deadLettered}  ${p.balanced ? 'balanced' : 'NOT balanced'}`,
    )
  }
  // the last messages
  out.push(rule('last messages', width))
  if (isNA(s.messages)) out.push(`  ${s.messages.na}`)
  else if (s.messages.length === 0) out.push('  none yet')
  else
    for (const m of s.messages.slice(0, maxMessages))
      out.push(inert(`  ${hhmmss(m.timeUnix)} ${m.logId} ${m.contentType} ${m.action} ${m.from || '<>'} -> ${m.to}`))
  return out.map((l) => (l.length > width ? l.slice(0, width) : l))
}
