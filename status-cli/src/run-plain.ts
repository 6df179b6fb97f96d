// Live plain mode: the plain session driven by the wall clock and the bus. Resolves when the
// count is exhausted or stop() is called; every socket and timer is released by then.
import { createPlainSession, type Write } from './plain.ts'
import { createBusSource } from './source.ts'

export interface LiveRun {
  /** Resolves when the run ends (count reached or stopped). */
  readonly finished: Promise<void>
  stop(): Promise<void>
}

export function runPlain(opts: {
  endpoint: string
  count?: number
  waitSecs: number
  quietWarnSecs: number
  write: Write
  now?: () => number
  onMessage?(parts: Buffer[], nowMs: number): void
}): LiveRun {
  const now = opts.now ?? Date.now
  const session = createPlainSession({ count: opts.count, waitSecs: opts.waitSecs, write: opts.write })
  let timer: NodeJS.Timeout | undefined
  let resolveFinished!: () => void
  const finished = new Promise<void>((r) => (resolveFinished = r))
  let ended = false
  const source = createBusSource({
    endpoint: opts.endpoint,
    quietWarnSecs: opts.quietWarnSecs,
    onMessage(parts) {
      if (ended) return
      const t = now()
      opts.onMessage?.(parts, t)
      session.message(parts, t)
      schedule()
    },
    onQuiet: (notice) => opts.write(2, notice + '\n'),
    onError: (err) => opts.write(2, `amavis-status: receive failed: ${(err as Error).message}\n`),
  })
  const end = async (): Promise<void> => {
    if (ended) return
    ended = true
    if (timer) clearTimeout(timer)
    await source.stop()
    resolveFinished()
  }
  let timerDue = NaN
  const schedule = (): void => {
    const due = session.dueMs()
    if (timer && due === timerDue) return // a burst of messages does not re-arm the timer each time
    if (timer) clearTimeout(timer)
    timer = undefined
    if (due === Infinity) {
      void end()
      return
    }
    timerDue = due
    timer = setTimeout(tick, Math.max(0, due - now()))
  }
  const tick = (): void => {
    timer = undefined
    if (ended) return
    const t = now()
    if (t + 1 >= session.dueMs()) session.redraw(t)
    schedule()
  }
  session.start(now())
  if (session.done) void end()
  else {
    source.start()
    schedule()
  }
  return { finished, stop: end }
}
