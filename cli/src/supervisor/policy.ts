// The restart policy of `vigil start`, after amavis-mc (spec §1.5): restart a stopped component
// no sooner than 1 s after it exited, give up after 5 starts of the same component; plus an
// exponential backoff (doubling, capped) and a reset once a run has lasted long enough. Pure.

export interface RestartPolicy {
  /** Delay before the first restart of a series (amavis-mc: no sooner than 1 s). */
  readonly initialBackoffMs: number
  /** Cap of the doubling delay. */
  readonly maxBackoffMs: number
  /** A run at least this long counts as healthy and starts a new series. */
  readonly resetAfterMs: number
  /** Starts in one series (first start plus restarts) before giving up (amavis-mc: 5). */
  readonly maxRapidStarts: number
  /** Exit codes that restarting cannot fix (usage, unavailable, config): never restarted. */
  readonly fatalExitCodes: readonly number[]
}

/** amavis-mc's numbers plus the brief's backoff: 1 s doubling to 30 s, reset after 60 s, 5 starts. */
export const DEFAULT_POLICY: RestartPolicy = {
  initialBackoffMs: 1_000,
  maxBackoffMs: 30_000,
  resetAfterMs: 60_000,
  maxRapidStarts: 5,
  fatalExitCodes: [64, 69, 78],
}

export type RestartDecision =
  | { readonly action: 'restart'; readonly delayMs: number; readonly rapidStarts: number }
  | { readonly action: 'give-up'; readonly reason: 'restart-count' | 'fatal-exit' }

/**
 * Decides what to do after a component exited on its own. `rapidStarts` is the number of starts
 * in the current series, including the run that just ended; the returned `rapidStarts` is the
 * series count to carry into the next start (before it is incremented by that start).
 */
export function decideRestart(
  rapidStarts: number,
  uptimeMs: number,
  exitCode: number | null,
  policy: RestartPolicy = DEFAULT_POLICY,
): RestartDecision {
  if (exitCode !== null && policy.fatalExitCodes.includes(exitCode)) return { action: 'give-up', reason: 'fatal-exit' }
  if (uptimeMs >= policy.resetAfterMs) return { action: 'restart', delayMs: policy.initialBackoffMs, rapidStarts: 0 }
  if (rapidStarts >= policy.maxRapidStarts) return { action: 'give-up', reason: 'restart-count' }
  const delayMs = Math.min(policy.initialBackoffMs * 2 ** Math.max(0, rapidStarts - 1), policy.maxBackoffMs)
  return { action: 'restart', delayMs, rapidStarts }
}
