// childproc-minder's table of amavis children (spec §2.2, §3.2, §3.3), keyed by host and PID.
// amavis frames carry no host: the host is the inner endpoint a frame arrived on
// (docs/adr/0002-multi-host-collector.md). Pure: time, liveness probes and signals are injected.
import { AGE_SLOTS_SECS, activityOf, formatProcList, formatSnmpFrame, isIdle, type Activity } from '@vigil/protocol'

export interface ProcRow {
  host: string
  pid: number
  /** amavis state letter, ' ' for idle. */
  state: string
  taskId: string | undefined
  /** Unix seconds of the last absolute time (A, m, start, FLUSH). */
  baseTs: number
  /** Unix seconds of the last state change, per the sender's clock. */
  ts: number
  /** Local receive time (Unix seconds) of the last frame. */
  tick: number
  /** Local time of the last liveness probe; 0 before the first. */
  lastChecked: number
  /** True when the process belongs to this host and may be probed and signalled. */
  local: boolean
  signalled: 'TERM' | 'KILL' | undefined
  retrySecs: number
  lastSignalAt: number
  overdueLogged: boolean
}

export interface StateInput {
  pid: number
  time: { kind: 'abs'; secs: number } | { kind: 'rel'; ms: number }
  state: string
  taskId?: string
}

export type TableChange =
  | { kind: 'update'; row: ProcRow; previousState: string | undefined }
  | { kind: 'remove'; host: string; pid: number; reason: 'exiting' | 'purged' }
  | { kind: 'flush'; host: string; removed: number }

export interface SupervisionAction {
  kind: 'purged' | 'term' | 'kill' | 'gave-up' | 'overdue'
  host: string
  pid: number
  /** For `purged`: whether it counts as gone (no signal was sent before). */
  gone?: boolean
  detail: string
}

export interface SupervisionOptions {
  idleTtlSecs: number
  activeTtlSecs: number
  killOverdue: boolean
  remoteIdleTtlSecs: number
  remoteBusyTtlSecs: number
  /** Returns false when the PID no longer exists (kill(pid, 0) → ESRCH). */
  probe(pid: number): boolean
  signal(pid: number, sig: 'SIGTERM' | 'SIGKILL'): void
}

export interface Gauges {
  busy: number
  idle: number
  all: number
  ages: number[] // ProcBusy0..21
  activity: Record<Activity, number>
  busyPids: number[]
  idlePids: number[]
}

const ACTIVITIES: readonly Activity[] = ['Transfer', 'Decode', 'Virus', 'Spam', 'Other']

export function createProcessTable(opts: { isLocalHost(host: string): boolean }) {
  const rows = new Map<string, ProcRow>()
  let goneSinceLastRound = 0
  let goneTotal = 0
  const key = (host: string, pid: number) => `${host}\u0000${pid}`

  function applyState(host: string, f: StateInput, nowSecs: number): TableChange {
    if (f.state === 'FLUSH') {
      let removed = 0
      for (const [k, r] of rows)
        if (r.host === host) {
          rows.delete(k)
          removed++
        }
      return { kind: 'flush', host, removed }
    }
    const k = key(host, f.pid)
    if (f.state === 'exiting' || f.state === 'purged') {
      rows.delete(k)
      return { kind: 'remove', host, pid: f.pid, reason: f.state }
    }
    let row = rows.get(k)
    const previousState = row?.state
    if (!row) {
      row = {
        host,
        pid: f.pid,
        state: ' ',
        taskId: undefined,
        baseTs: nowSecs,
        ts: nowSecs,
        tick: nowSecs,
        lastChecked: 0, // never probed: the first probe comes after 10 s of silence (spec §3.3)
        local: opts.isLocalHost(host),
        signalled: undefined,
        retrySecs: 0,
        lastSignalAt: 0,
        overdueLogged: false,
      }
      rows.set(k, row)
      if (f.time.kind === 'rel') row.baseTs = nowSecs - f.time.ms / 1000
    }
    if (f.time.kind === 'abs') {
      row.baseTs = f.time.secs
      row.ts = f.time.secs
    } else {
      row.ts = row.baseTs + f.time.ms / 1000
    }
    row.state = f.state
    row.taskId = f.taskId
    row.tick = nowSecs
    return { kind: 'update', row, previousState }
  }

  /** One childproc-minder check (spec §3.3). Mutates the table; returns what happened. */
  function supervise(nowSecs: number, o: SupervisionOptions): SupervisionAction[] {
    const actions: SupervisionAction[] = []
    // Drops a row; `gone` (the process vanished by itself, not after our signal) counts it as gone.
    const purge = (k: string, r: ProcRow, gone: boolean, detail: string) => {
      rows.delete(k)
      if (gone) {
        goneSinceLastRound++
        goneTotal++
      }
      actions.push({ kind: 'purged', host: r.host, pid: r.pid, gone, detail })
    }
    for (const [k, r] of rows) {
      const idle = isIdle(r.state, r.taskId)
      const what = r.taskId ?? (r.state === ' ' ? 'idle' : r.state)
      if (!r.local) {
        const ttl = idle ? o.remoteIdleTtlSecs : o.remoteBusyTtlSecs
        if (nowSecs - r.tick > ttl) purge(k, r, true, `not heard from for ${Math.round(nowSecs - r.tick)} s, ${what}`)
        continue
      }
      const age = nowSecs - r.baseTs
      const overdue = age > (idle ? o.idleTtlSecs : o.activeTtlSecs)
      if (!overdue) {
        if (nowSecs - r.tick < 10) continue
        if (idle && nowSecs - r.lastChecked < 20) continue
        if (!idle && nowSecs - r.lastChecked < 10) continue
      }
      r.lastChecked = nowSecs
      if (!o.probe(r.pid)) {
        const gone = r.signalled === undefined
        purge(k, r, gone, gone ? `went away, ${what}` : 'terminated')
        continue
      }
      if (!overdue) continue
      if (!o.killOverdue) {
        if (!r.overdueLogged) {
          r.overdueLogged = true
          actions.push({
            kind: 'overdue',
            host: r.host,
            pid: r.pid,
            detail: `overdue for ${Math.round(age)} s, ${what}; kill_overdue is off`,
          })
        }
        continue
      }
      if (r.signalled === undefined) {
        o.signal(r.pid, 'SIGTERM')
        r.signalled = 'TERM'
        r.retrySecs = 20
        r.lastSignalAt = nowSecs
        actions.push({ kind: 'term', host: r.host, pid: r.pid, detail: `overdue for ${Math.round(age)} s, ${what}` })
      } else if (nowSecs - r.lastSignalAt >= r.retrySecs) {
        // amavis's retry test is inverted and KILLs on every check; Vigil waits out the interval.
        if (r.retrySecs > 600) {
          rows.delete(k)
          actions.push({ kind: 'gave-up', host: r.host, pid: r.pid, detail: `giving up on PID ${r.pid}` })
          actions.push({ kind: 'purged', host: r.host, pid: r.pid, gone: false, detail: 'gave up' })
          continue
        }
        const after = r.signalled
        o.signal(r.pid, 'SIGKILL')
        r.signalled = 'KILL'
        r.lastSignalAt = nowSecs
        r.retrySecs *= 1.5
        actions.push({ kind: 'kill', host: r.host, pid: r.pid, detail: `still there after SIG${after}, ${what}` })
      }
    }
    return actions
  }

  function gauges(nowSecs: number): Gauges {
    const ages = new Array<number>(22).fill(0)
    const activity: Record<Activity, number> = { Transfer: 0, Decode: 0, Virus: 0, Spam: 0, Other: 0 }
    const busyPids = new Set<number>()
    const idlePids = new Set<number>()
    let busy = 0
    let idle = 0
    for (const r of rows.values()) {
      if (isIdle(r.state, r.taskId)) {
        idle++
        idlePids.add(r.pid)
        continue
      }
      busy++
      busyPids.add(r.pid)
      activity[activityOf(r.state)]++
      const age = nowSecs - r.baseTs
      ages[0]++
      for (let j = 1; j <= 21; j++) if (age >= AGE_SLOTS_SECS[j - 1]) ages[j]++
    }
    const byNum = (a: number, b: number) => a - b
    return {
      busy,
      idle,
      all: busy + idle,
      ages,
      activity,
      busyPids: [...busyPids].sort(byNum),
      idlePids: [...idlePids].sort(byNum),
    }
  }

  /**
   * The frames childproc-minder publishes each round, in spec order: one multi-part am.nanny
   * message, then `am.proc.busy …` and `am.proc.idle …` as single-frame messages. Consumes the
   * ProcGone increment accumulated since the previous round.
   */
  function roundMessages(nowSecs: number): {
    nanny: string[]
    busy: string
    idle: string
    gauges: Gauges
    gone: number
  } {
    const g = gauges(nowSecs)
    const nanny: string[] = []
    for (let j = 0; j <= 21; j++) nanny.push(formatSnmpFrame('am.nanny', `ProcBusy${j}`, 'G32', g.ages[j]))
    for (const a of ACTIVITIES) nanny.push(formatSnmpFrame('am.nanny', `ProcBusy${a}`, 'G32', g.activity[a]))
    const gone = goneSinceLastRound
    goneSinceLastRound = 0
    if (gone > 0) nanny.push(formatSnmpFrame('am.nanny', 'ProcGone', 'C32', gone))
    nanny.push(formatSnmpFrame('am.nanny', 'ProcAll', 'G32', g.all))
    nanny.push(formatSnmpFrame('am.nanny', 'ProcBusy', 'G32', g.busy))
    nanny.push(formatSnmpFrame('am.nanny', 'ProcIdle', 'G32', g.idle))
    return {
      nanny,
      busy: formatProcList('am.proc.busy', g.busyPids),
      idle: formatProcList('am.proc.idle', g.idlePids),
      gauges: g,
      gone,
    }
  }

  return {
    applyState,
    supervise,
    gauges,
    roundMessages,
    rows(): ProcRow[] {
      return [...rows.values()].sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : a.pid - b.pid))
    },
    get size() {
      return rows.size
    },
    get goneTotal() {
      return goneTotal
    },
  }
}
export type ProcessTable = ReturnType<typeof createProcessTable>
