// Live full-screen mode: the same reducer as plain mode, drawn by render/screen.ts, plus the
// message rate and stage times from the snmp-responder. Resolves on `q`/Ctrl-C or stop().
import { formatScreen, hostsOf, type CounterView } from './render/format.ts'
import { createScreen } from './render/screen.ts'
import { computeCounterView, parseResponderReply, type CounterSnapshot } from './counters.ts'
import { createBusSource, createResponderClient } from './source.ts'
import { applyMessage, initialState, redraw, type RedrawView } from './state.ts'
import { INITIAL_TUI, onKey, type TuiState } from './tui-state.ts'
import type { LiveRun } from './run-plain.ts'

export function runTui(opts: {
  endpoint: string
  responder: string
  count?: number
  waitSecs: number
  countersIntervalSecs: number
  quietWarnSecs: number
  now?: () => number
  onMessage?(parts: Buffer[], nowMs: number): void
}): LiveRun {
  const now = opts.now ?? Date.now
  let state = initialState()
  let tui: TuiState = INITIAL_TUI
  let view: RedrawView | undefined
  let counters: CounterView | undefined
  let prevSnap: CounterSnapshot | undefined
  let notice: string | undefined
  let remaining = opts.count
  let ended = false
  let redrawTimer: NodeJS.Timeout | undefined
  let countersTimer: NodeJS.Timeout | undefined
  let resolveFinished!: () => void
  const finished = new Promise<void>((r) => (resolveFinished = r))

  const paint = (): void => {
    if (ended || !view) return
    screen.render(
      formatScreen(view, {
        width: screen.width,
        height: screen.height,
        source: opts.endpoint,
        paused: tui.paused,
        sort: tui.sort,
        host: tui.host,
        help: tui.help,
        counters,
        notice,
      }),
    )
  }
  const cycle = (): void => {
    redrawTimer = undefined
    if (ended) return
    const r = redraw(state, now() / 1000)
    state = r.state
    if (!tui.paused) view = r.view
    paint()
    if (remaining !== undefined && --remaining <= 0) {
      void end()
      return
    }
    redrawTimer = setTimeout(cycle, Math.max(10, opts.waitSecs * 1000))
  }
  const screen = createScreen({
    title: 'amavis-status',
    onKey(key) {
      const r = onKey(tui, key, view ? hostsOf(view) : [])
      if (r.quit) {
        void end()
        return
      }
      const unpaused = tui.paused && !r.state.paused
      tui = r.state
      if (unpaused) {
        view = redraw(state, now() / 1000).view
      }
      paint()
    },
    onResize: paint,
  })
  const source = createBusSource({
    endpoint: opts.endpoint,
    quietWarnSecs: opts.quietWarnSecs,
    onMessage(parts) {
      if (ended) return
      const t = now()
      opts.onMessage?.(parts, t)
      const r = applyMessage(state, parts, t / 1000)
      state = r.state
      if (r.notices.length) notice = r.notices[r.notices.length - 1]
      else if (notice?.startsWith('amavis-status: no messages')) notice = undefined
    },
    onQuiet(n) {
      notice = n
      paint()
    },
    onError(err) {
      notice = `receive failed: ${(err as Error).message}`
      paint()
    },
  })
  const responder = createResponderClient(opts.responder, 2000)
  const pollCounters = async (): Promise<void> => {
    countersTimer = undefined
    if (ended) return
    try {
      const parts = await responder.query()
      const snap = parseResponderReply(parts, now() / 1000)
      counters = computeCounterView(prevSnap, snap)
      prevSnap = snap
    } catch {
      counters = { msgsPerSec: undefined, msPerMsg: [], totalMsgs: undefined, error: `no reply from ${opts.responder}` }
    }
    if (ended) return
    paint()
    countersTimer = setTimeout(() => void pollCounters(), opts.countersIntervalSecs * 1000)
  }
  const end = async (): Promise<void> => {
    if (ended) return
    ended = true
    if (redrawTimer) clearTimeout(redrawTimer)
    if (countersTimer) clearTimeout(countersTimer)
    responder.close()
    await source.stop()
    screen.destroy()
    resolveFinished()
  }
  source.start()
  redrawTimer = setTimeout(cycle, 200)
  void pollCounters()
  return { finished, stop: end }
}
