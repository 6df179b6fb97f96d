// Pure text rendering: the amavisd-status plain output (spec §3.4), byte for byte, and the
// lines of the full-screen view. Nothing here does I/O or reads the clock.
import { STATUS_LEGEND_LINES } from '@vigil/protocol'
import type { ProcRow, RedrawView } from '../state.ts'
import { formatSummary, type SummaryView } from '../summary.ts'

export const HEADER =
  'process-id task-id     elapsed in    elapsed-bar (dots indicate idle)\n' + '           or state   idle or busy\n'

/** The 35-column bar template: `=` with `:` at columns 10, 20 and 30. */
export const BAR_WIDTH = 35
function template(ch: string): string {
  return (ch.repeat(9) + ':').repeat(3) + ch.repeat(5)
}

/** Perl's `int()`: truncation toward zero. */
function perlInt(x: number): number {
  return Math.trunc(x)
}
/** Perl's `%` with a positive right operand: the result takes the sign of the right operand. */
function perlMod(a: number, b: number): number {
  return ((a % b) + b) % b
}

/** `H:MM:SS` with hours modulo 24, prefixed by two spaces or `<days>d`. */
export function formatElapsed(ageSecs: number): string {
  let t = perlInt(ageSecs)
  const s = perlMod(t, 60)
  t = perlInt(t / 60)
  const m = perlMod(t, 60)
  t = perlInt(t / 60)
  const h = perlMod(t, 24)
  const d = perlInt(t / 24)
  return `${d === 0 ? '  ' : `${d}d`}${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`
}

/**
 * The elapsed bar. Idle: `age` dots (at most 35) with the `:` ticks. Busy: the template cut to the
 * history's length, each `=` replaced by the history character at that column unless it is a
 * space; a history longer than 35 shows its first 33 characters, its last one and `>`.
 */
export function formatBar(ageSecs: number, history: string, idling: boolean): string {
  if (idling) return template('.').slice(0, Math.max(0, Math.min(BAR_WIDTH, perlInt(ageSecs))))
  const t = template('=')
  const bar = t.slice(0, Math.min(BAR_WIDTH, history.length))
  const h = history.length > bar.length ? history.slice(0, bar.length - 2) + history[history.length - 1] + '>' : history
  let out = ''
  for (let j = 0; j < bar.length; j++) out += bar[j] === '=' && h[j] !== ' ' && h[j] !== undefined ? h[j] : bar[j]
  return out
}

/** amavisd-status `fmt_age`: the time field, one space, the bar. */
export function fmtAge(ageSecs: number, history: string, idling: boolean): string {
  return `${formatElapsed(ageSecs)} ${formatBar(ageSecs, history, idling)}`
}

/** `PID %5d: %-11s %s`: the task id, or the state letter when there is none. */
export function formatProcLine(row: ProcRow): string {
  // Perl's `$task_id || $state`: a task id of "0" is false there too.
  const label = row.taskId !== undefined && row.taskId !== '' && row.taskId !== '0' ? row.taskId : row.state
  return `PID ${String(row.pid).padStart(5)}: ${label.padEnd(11)} ${fmtAge(row.ageSecs, row.history, row.idle)}`
}

/** `*` per active process, `.` per idle one, and `:` up to the rounded decaying peak. */
export function formatPeakBar(active: number, idle: number, peak: number): string {
  let bar = '*'.repeat(active) + '.'.repeat(idle)
  const ipeak = perlInt(peak + 0.5)
  if (ipeak > active) {
    if (bar.length < ipeak) bar = bar.padEnd(ipeak, ' ')
    bar = bar.slice(0, active) + ':'.repeat(ipeak - active) + bar.slice(ipeak)
  }
  return bar
}

/** What one redraw writes to stderr: busy lines in PID order, the totals and the peak bar. */
export function formatCycle(view: RedrawView): string {
  let out = ''
  for (const row of view.rows) if (!row.idle) out += formatProcLine(row) + '\n'
  out += `${view.active} active, ${view.idle} idling processes\n`
  out += formatPeakBar(view.active, view.idle, view.peak) + '\n'
  return out
}

/** The usage text amavisd-status prints to stdout before exiting 1. */
export function formatUsage(prog: string): string {
  return STATUS_LEGEND_LINES.join('\n') + '\n' + `Usage: ${prog} [-c <count>] [-w <wait-interval>]\n`
}

// ---------------------------------------------------------------------------------------------
// Full-screen view lines. screen.ts draws these; it adds colour only through `dim`/`bold`.

export type SortKey = 'pid' | 'elapsed' | 'state'
export const SORT_KEYS: readonly SortKey[] = ['pid', 'elapsed', 'state']

export interface CounterView {
  /** Messages per second over the last poll interval (InMsgs delta / seconds). */
  readonly msgsPerSec: number | undefined
  /** Milliseconds per message by stage (TimeElapsed* delta / InMsgs delta). */
  readonly msPerMsg: ReadonlyArray<readonly [stage: string, ms: number]>
  readonly totalMsgs: number | undefined
  readonly error?: string
}

export interface TuiOptions {
  readonly width: number
  readonly height: number
  readonly source: string
  readonly paused: boolean
  readonly sort: SortKey
  /** Only rows of this host; undefined = all hosts. */
  readonly host: string | undefined
  readonly help: boolean
  readonly counters: CounterView | undefined
  readonly notice?: string
  /** The live summary; undefined = the process table alone (as before). */
  readonly summary?: SummaryView
}

export interface TuiLine {
  readonly text: string
  readonly dim?: boolean
  readonly bold?: boolean
  /** Where the summary column starts: `dim`/`bold` style only the text before it. */
  readonly split?: number
}

const STATE_ORDER = 'AbmdGDVSPrQF=.? '
function sortRows(rows: readonly ProcRow[], key: SortKey): ProcRow[] {
  const r = [...rows]
  if (key === 'elapsed') r.sort((a, b) => Number(a.idle) - Number(b.idle) || b.ageSecs - a.ageSecs || a.pid - b.pid)
  else if (key === 'state')
    r.sort(
      (a, b) =>
        Number(a.idle) - Number(b.idle) || STATE_ORDER.indexOf(a.state) - STATE_ORDER.indexOf(b.state) || a.pid - b.pid,
    )
  else r.sort((a, b) => a.pid - b.pid)
  return r
}

/** The distinct hosts of the rows, sorted; empty when the source carries no host names. */
export function hostsOf(view: RedrawView): string[] {
  return [...new Set(view.rows.map((r) => r.host).filter((h): h is string => h !== undefined))].sort()
}

function fit(s: string, width: number): string {
  return s.length > width ? s.slice(0, width) : s
}

export const HELP_LINES: readonly string[] = [
  'Keys:',
  '  q, Ctrl-C   quit',
  '  p, space    pause / resume the display (messages are still received)',
  '  s           cycle the sort order: pid, elapsed, state',
  '  f           cycle the host filter (when the source reports hosts)',
  '  ?           show / hide this help',
  '',
  ...STATUS_LEGEND_LINES,
]

/** Terminal width from which the live summary sits beside the process table (else below it). */
export const SIDE_BY_SIDE_MIN_WIDTH = 130
/** Narrowest summary column beside the table; it takes what the table leaves. */
export const SIDE_WIDTH = 54
const SIDE_GAP = ' | '

/**
 * The full-screen view as lines no wider than `width` and at most `height` of them: a title,
 * the counter line, the busy/idle totals with the peak bar, then one row per process (idle rows
 * dimmed) and a key hint at the bottom. With a `summary`, the live summary (summary.ts) goes
 * beside the rows on a wide terminal, below them on a narrow one.
 */
export function formatScreen(view: RedrawView, o: TuiOptions): TuiLine[] {
  const hosts = hostsOf(view)
  const showHost = hosts.length > 0
  const rows = sortRows(
    view.rows.filter((r) => o.host === undefined || r.host === o.host),
    o.sort,
  )
  const active = rows.filter((r) => !r.idle).length
  const lines: TuiLine[] = []
  const title = `amavis-status  ${o.source}${o.paused ? '  [PAUSED]' : ''}`
  lines.push({ text: title, bold: true })
  const c = o.counters
  let ctr = 'msgs/s: -'
  if (c?.error) ctr = `counters: ${c.error}`
  else if (c) {
    ctr = `msgs/s: ${c.msgsPerSec === undefined ? '-' : c.msgsPerSec.toFixed(1)}`
    if (c.totalMsgs !== undefined) ctr += `  total: ${c.totalMsgs}`
    if (c.msPerMsg.length) ctr += '  ms/msg: ' + c.msPerMsg.map(([s, ms]) => `${s} ${ms.toFixed(1)}`).join('  ')
  }
  lines.push({ text: ctr })
  lines.push({
    text: `${active} active, ${rows.length - active} idling processes  ${formatPeakBar(active, rows.length - active, o.host === undefined ? view.peak : active)}`,
  })
  const hostW = showHost ? Math.max(4, ...hosts.map((h) => h.length)) + 1 : 0
  const head = `${'PID'.padStart(7)} ${showHost ? 'HOST'.padEnd(hostW) : ''}S  ${'TASK-ID'.padEnd(12)}${'ELAPSED'.padStart(9)} ELAPSED-BAR`
  const footer = `q quit  p pause  s sort:${o.sort}  f host:${o.host ?? 'all'}  ? help`
  const rowLine = (r: ProcRow): TuiLine => {
    const st = r.state === ' ' ? '-' : r.state
    const text =
      `${String(r.pid).padStart(7)} ${showHost ? (r.host ?? '').padEnd(hostW) : ''}${st.padEnd(2)} ` +
      `${(r.taskId ?? '').padEnd(12)}${formatElapsed(r.ageSecs).padStart(9)} ${formatBar(r.ageSecs, r.history, r.idle)}`
    return r.idle ? { text, dim: true } : { text }
  }
  /** Up to `room` row lines, the last replaced by `… N more` when they do not all fit. */
  const rowLines = (room: number): TuiLine[] => {
    const out = rows.slice(0, Math.max(0, room)).map(rowLine)
    if (rows.length > room && room > 0) out[out.length - 1] = { text: `  … ${rows.length - room + 1} more` }
    return out
  }
  const summary = o.help ? undefined : o.summary
  // lines between the totals and the footer
  const body = Math.max(0, o.height - lines.length - 1)
  // the table's natural width: PID, host, state, task id, elapsed and the 35-column bar
  const tableW = 7 + 1 + hostW + 3 + 12 + 9 + 1 + BAR_WIDTH
  if (summary && o.width >= Math.max(SIDE_BY_SIDE_MIN_WIDTH, tableW + SIDE_GAP.length + SIDE_WIDTH)) {
    const leftW = tableW
    const sideW = o.width - leftW - SIDE_GAP.length
    const table = [{ text: head, bold: true }, ...rowLines(body - 1)]
    const fixed = formatSummary({ ...summary, messages: [] }, sideW).length - 1
    const side = formatSummary(summary, sideW, Math.max(1, body - fixed))
    for (let i = 0; i < body; i++) {
      const l = table[i] ?? { text: '' }
      const r = side[i]
      if (r === undefined) lines.push(l)
      else lines.push({ ...l, text: fit(l.text, leftW).padEnd(leftW) + SIDE_GAP + r, split: leftW })
    }
  } else {
    lines.push({ text: head, bold: true })
    const room = Math.max(0, body - 1)
    if (o.help) {
      for (const h of HELP_LINES.slice(0, room)) lines.push({ text: h })
    } else if (summary) {
      const below = formatSummary(summary, o.width, 5)
      const sumRoom = Math.min(below.length + 1, Math.max(room - rows.length, Math.floor(room / 2)))
      lines.push(...rowLines(room - sumRoom))
      if (sumRoom > 0) lines.push({ text: '' }, ...below.slice(0, sumRoom - 1).map((text) => ({ text })))
    } else lines.push(...rowLines(room))
  }
  while (lines.length < o.height - 1) lines.push({ text: '' })
  lines.push({ text: o.notice ? `${footer}  | ${o.notice}` : footer, dim: true })
  return lines.slice(0, Math.max(0, o.height)).map((l) => ({ ...l, text: fit(l.text, o.width) }))
}
