// The amavisd-status state machine (spec §2.2, §2.5, §3.4), as pure functions of their inputs.
// `reduce` folds one parsed frame into the per-PID table; `redraw` performs the per-cycle work
// (10-minute expiry, state-bar history, busy/idle counts, the decaying peak). Time is always
// injected as Unix seconds, so replaying a recorded stream gives the same screens every time.
import { isIdle, isParseError, parseFrame, type Frame } from '@vigil/protocol'

/** Entries not heard from for this long are dropped at the next redraw (amavisd-status: 10 min). */
export const TICK_EXPIRY_SECS = 10 * 60
/** Half-life of the peak indicator of the summary bar. */
export { PEAK_HALF_LIFE_SECS } from '@vigil/protocol/status-bars.ts'

export interface ProcEntry {
  readonly pid: number
  /** State letter, `' '` for idle, `?` when first learned from `am.proc.busy`. */
  readonly state: string
  readonly taskId: string | undefined
  /** Sender's time of the last `A`/`m`/start (absolute message), Unix seconds. */
  readonly baseTimestamp: number
  /** Sender's time of the last state change, Unix seconds. */
  readonly timestamp: number
  /** False while the base is only the receive time of an `am.proc.*` list (no `am.st` seen yet). */
  readonly baseKnown: boolean
  /** Local receive time of the last message that refreshed this entry. */
  readonly tick: number
  /** One character per elapsed second since the base time (the "state bar"). */
  readonly history: string
  /** Identity of this entry: a PID that exits and comes back is a new entry. */
  readonly serial: number
  /** Host the process runs on, when the source knows it (not on the amavis ZMQ stream). */
  readonly host?: string
}

export interface StatusState {
  readonly procs: ReadonlyMap<number, ProcEntry>
  /** The entry the last `am.st`/`am.proc.*` message touched (see the am.proc quirk in reduce). */
  readonly lastTouched: { readonly pid: number; readonly serial: number } | undefined
  readonly nextSerial: number
  readonly peak: number
  /** When the peak was last updated (the previous redraw), Unix seconds. */
  readonly peakAt: number | undefined
}

export function initialState(): StatusState {
  return { procs: new Map(), lastTouched: undefined, nextSerial: 1, peak: 0, peakAt: undefined }
}

/** A state its owner may update in place (see reduceInto); the pure API copies before using it. */
interface OwnedState {
  procs: Map<number, ProcEntry>
  lastTouched: { readonly pid: number; readonly serial: number } | undefined
  nextSerial: number
  peak: number
  peakAt: number | undefined
}

function own(state: StatusState): OwnedState {
  return { ...state, procs: new Map(state.procs) }
}

function put(s: OwnedState, e: ProcEntry): void {
  s.procs.set(e.pid, e)
  s.lastTouched = { pid: e.pid, serial: e.serial }
}

/**
 * Folds one frame into a state the caller owns, in place. The live drivers and the plain session
 * own theirs. Copying the table per frame costs 4x at 100 processes (bench/status-reduce.ts).
 */
function reduceInto(s: OwnedState, frame: Frame, nowSecs: number): void {
  switch (frame.topic) {
    case 'am.st': {
      const { pid, time, taskId } = frame
      if (frame.state === 'FLUSH') {
        s.procs.clear()
        s.lastTouched = undefined
        return
      }
      // [assumption] amavisd-status forgets a child on `exiting` as on the minder's `purged`.
      if (frame.state === 'exiting' || frame.state === 'purged') {
        s.procs.delete(pid)
        return
      }
      const old = s.procs.get(pid)
      const serial = old ? old.serial : s.nextSerial++
      let baseTimestamp: number
      let timestamp: number
      let history = old?.history ?? ''
      if (time.kind === 'abs') {
        baseTimestamp = timestamp = time.secs
        history = ''
      } else if (old === undefined || !old.baseKnown) {
        // Relative time and no known base: the base is reconstructed from the receive time.
        timestamp = nowSecs
        baseTimestamp = nowSecs - time.ms / 1000
        history = ''
      } else {
        baseTimestamp = old.baseTimestamp
        timestamp = old.baseTimestamp + time.ms / 1000
      }
      const e: ProcEntry = {
        pid,
        state: frame.state,
        taskId,
        baseTimestamp,
        timestamp,
        baseKnown: true,
        tick: nowSecs,
        history,
        serial,
        ...(old?.host !== undefined ? { host: old.host } : {}),
      }
      put(s, e)
      return
    }
    case 'am.proc.busy':
    case 'am.proc.idle': {
      for (const pid of frame.pids) {
        if (s.procs.has(pid)) {
          // [quirk] amavisd-status means to refresh this PID's tick, but refreshes the entry it
          // touched last (spec §3.4). A stale last-touched reference (deleted entry) does nothing.
          const lt = s.lastTouched
          const target = lt && s.procs.get(lt.pid)
          if (target && target.serial === lt.serial) s.procs.set(target.pid, { ...target, tick: nowSecs })
          continue
        }
        put(s, {
          pid,
          state: frame.topic === 'am.proc.busy' ? '?' : ' ',
          taskId: undefined,
          baseTimestamp: nowSecs,
          timestamp: nowSecs,
          baseKnown: false,
          tick: nowSecs,
          history: '',
          serial: s.nextSerial++,
        })
      }
      return
    }
    default:
      return
  }
}

/**
 * Folds one frame into the state; returns a new state (the argument is not modified) and never
 * throws. Frames other than `am.st`/`am.proc.*` leave the state unchanged (the caller reports
 * them as unrecognized).
 */
export function reduce(state: StatusState, frame: Frame, nowSecs: number): StatusState {
  if (frame.topic !== 'am.st' && frame.topic !== 'am.proc.busy' && frame.topic !== 'am.proc.idle') return state
  const s = own(state)
  reduceInto(s, frame, nowSecs)
  return s
}

export interface ApplyResult {
  readonly state: StatusState
  /** Lines amavisd-status prints to stderr as soon as the message arrives. */
  readonly notices: string[]
  /** Frames that were not amavisd-status messages (counted by the caller). */
  readonly unrecognized: number
}

function applyInto(
  s: OwnedState,
  parts: readonly (string | Uint8Array)[],
  nowSecs: number,
): Omit<ApplyResult, 'state'> {
  const notices: string[] = []
  let unrecognized = 0
  for (const part of parts) {
    const text = typeof part === 'string' ? part : Buffer.from(part).toString('utf8')
    const f = parseFrame(text)
    if (isParseError(f) || (f.topic !== 'am.st' && f.topic !== 'am.proc.busy' && f.topic !== 'am.proc.idle')) {
      notices.push(`Unrecognized message received: ${text}`)
      unrecognized++
      continue
    }
    reduceInto(s, f, nowSecs)
    if (f.topic === 'am.st' && f.state === 'FLUSH') notices.push('state flushed (restart)')
  }
  return { notices, unrecognized }
}

/**
 * Parses and folds every part of one ZMQ message into a new state. Malformed or foreign frames
 * yield an `Unrecognized message received: <msg>` notice; FLUSH yields `state flushed (restart)`.
 */
export function applyMessage(
  state: StatusState,
  parts: readonly (string | Uint8Array)[],
  nowSecs: number,
): ApplyResult {
  const s = own(state)
  return { state: s, ...applyInto(s, parts, nowSecs) }
}

/**
 * A state holder for one owner (a live view or a replay): the same rules as applyMessage and
 * redraw, without copying the process table for every message.
 */
export interface StatusStore {
  apply(parts: readonly (string | Uint8Array)[], nowSecs: number): Omit<ApplyResult, 'state'>
  redraw(nowSecs: number): RedrawView
  /** A snapshot; later updates do not change it. */
  snapshot(): StatusState
}

export function createStatusStore(): StatusStore {
  let s: OwnedState = own(initialState())
  return {
    apply: (parts, nowSecs) => applyInto(s, parts, nowSecs),
    redraw(nowSecs) {
      const r = redraw(s, nowSecs)
      s = r.state as OwnedState
      return r.view
    },
    snapshot: () => own(s),
  }
}

export interface ProcRow {
  readonly pid: number
  readonly state: string
  readonly taskId: string | undefined
  /** Seconds since the base time (last `A`/`m`/start). */
  readonly ageSecs: number
  /** Seconds since the last state change. */
  readonly inStateSecs: number
  readonly history: string
  readonly idle: boolean
  readonly host?: string
}

export interface RedrawView {
  readonly nowSecs: number
  /** Every known process in numeric PID order, idle ones included. */
  readonly rows: readonly ProcRow[]
  readonly active: number
  readonly idle: number
  readonly peak: number
}

export { HISTORY_CAP, advanceHistory, decayPeak } from '@vigil/protocol/status-bars.ts'
import { advanceHistory, decayPeak } from '@vigil/protocol/status-bars.ts'

/**
 * One amavisd-status redraw: drops entries silent for over 10 minutes, advances each busy
 * process's history (idle ones reset theirs), counts busy/idle and updates the peak, which
 * decays with an 8 s half-life while it is at least 0.1.
 */
export function redraw(state: StatusState, nowSecs: number): { state: StatusState; view: RedrawView } {
  const procs = new Map<number, ProcEntry>()
  const rows: ProcRow[] = []
  let active = 0
  let idle = 0
  const pids = [...state.procs.keys()].sort((a, b) => a - b)
  for (const pid of pids) {
    const p = state.procs.get(pid) as ProcEntry
    if (nowSecs - p.tick > TICK_EXPIRY_SECS) continue
    const isIdleNow = isIdle(p.state, p.taskId)
    const ageSecs = nowSecs - p.baseTimestamp
    const history = isIdleNow ? '' : advanceHistory(p.history, ageSecs, p.state)
    const e = history === p.history ? p : { ...p, history }
    procs.set(pid, e)
    if (isIdleNow) idle++
    else active++
    rows.push({
      pid,
      state: p.state,
      taskId: p.taskId,
      ageSecs,
      inStateSecs: nowSecs - p.timestamp,
      history,
      idle: isIdleNow,
      ...(p.host !== undefined ? { host: p.host } : {}),
    })
  }
  const peak = decayPeak(state.peak, state.peakAt, active, nowSecs)
  return {
    state: { ...state, procs, peak, peakAt: nowSecs },
    view: { nowSecs, rows, active, idle, peak },
  }
}
