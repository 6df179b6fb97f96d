// The amavisd-status plain-mode session: header once, then per cycle `\n` on stdout and the
// redraw on stderr (spec §3.4). The session owns the cycle timing rules but never reads the
// clock or sets timers: the live driver (main.ts) and the replayer (replay.ts) feed it times.
import { formatCycle, HEADER } from './render/format.ts'
import { createStatusStore, type RedrawView, type StatusState } from './state.ts'

/** The first redraw comes this long after start; message bursts redraw at most this often. */
export const MIN_REDRAW_GAP_MS = 200

export type Fd = 1 | 2
export type Write = (fd: Fd, text: string) => void

export interface PlainSession {
  /** Prints the header and opens the first cycle. */
  start(nowMs: number): void
  /** Folds one ZMQ message (1..N frames) into the state; notices go straight to stderr. */
  message(parts: readonly (string | Uint8Array)[], nowMs: number): void
  /** When the next redraw is due (ms), or Infinity once the session is done. */
  dueMs(): number
  /** Redraws now and opens the next cycle unless the count is exhausted. */
  redraw(nowMs: number): RedrawView
  readonly done: boolean
  readonly state: StatusState
  /** Frames that were not amavisd-status messages so far. */
  readonly unrecognized: number
}

/**
 * Creates a session. `count` undefined runs forever; 0 or negative prints only the header.
 * Redraws come `waitSecs` apart, or sooner once a message has arrived and more than 0.2 s
 * have passed since the previous redraw.
 */
export function createPlainSession(opts: { count?: number; waitSecs: number; write: Write }): PlainSession {
  const waitMs = Math.round(opts.waitSecs * 1000)
  const store = createStatusStore()
  let remaining = opts.count
  let done = false
  let startMs: number | undefined
  let lastRedrawMs: number | undefined
  let pendingSinceMs: number | undefined
  let unrecognized = 0
  return {
    start(nowMs) {
      opts.write(1, HEADER)
      startMs = nowMs
      if (remaining !== undefined && remaining <= 0) done = true
      else opts.write(1, '\n')
    },
    message(parts, nowMs) {
      const r = store.apply(parts, nowMs / 1000)
      unrecognized += r.unrecognized
      for (const n of r.notices) opts.write(2, n + '\n')
      if (pendingSinceMs === undefined) pendingSinceMs = nowMs
    },
    dueMs() {
      if (done || startMs === undefined) return Infinity
      if (lastRedrawMs === undefined) return startMs + MIN_REDRAW_GAP_MS
      let due = lastRedrawMs + waitMs
      if (pendingSinceMs !== undefined) due = Math.min(due, Math.max(lastRedrawMs + MIN_REDRAW_GAP_MS, pendingSinceMs))
      return due
    },
    redraw(nowMs) {
      const view = store.redraw(nowMs / 1000)
      opts.write(2, formatCycle(view))
      lastRedrawMs = nowMs
      pendingSinceMs = undefined
      if (remaining !== undefined) remaining--
      if (remaining !== undefined && remaining <= 0) done = true
      else opts.write(1, '\n')
      return view
    },
    get done() {
      return done
    },
    get state() {
      return store.snapshot()
    },
    get unrecognized() {
      return unrecognized
    },
  }
}
