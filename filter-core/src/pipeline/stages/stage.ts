// The shape of one pipeline stage (ADR 0008). Everything the monitoring side sees of a stage is
// declared here, once, and applied by the driver (process.ts): the am.st letter published when
// the stage starts, the amavis `elapsed` section its run time adds to, and the checks_performed
// letter it records. No stage publishes a state, times itself or records a check by hand.
import type { StateLetter } from '@vigil/protocol'
import type { MessageContext } from '../context.ts'

/**
 * The letters of checks_performed, in the order amavis reports them (Amavis::Out::SQL::Log:
 * `grep($checks_performed->{$_}, qw(V S H B F P D))`), which is not the order they run in:
 * header checks (H) run while decoding, before the virus scan (V).
 */
export const CHECK_LETTERS = ['V', 'S', 'H', 'B', 'F', 'P', 'D'] as const
export type CheckLetter = (typeof CHECK_LETTERS)[number]

/** amavis's `elapsed` sections a stage can time (AMAVIS-MIB TimeElapsed*, less Total). */
export type ElapsedSection = 'Receiving' | 'Decoding' | 'PenPals' | 'VirusCheck' | 'SpamCheck' | 'Sending'

/** What run() returns: true when the stage's `check` was performed (recorded in checks_performed). */
export type StageResult = boolean | void

export interface Stage {
  /** Equals the module's file name: 'virus', 'quarantine-notify'. */
  readonly name: string
  /** The am.st state published before run() (amavis's letter for this section), if any. */
  readonly state?: StateLetter
  /**
   * The `elapsed` section run() is timed into (several stages may add to one, as Sending does).
   * 'smtp' timing: the section was spent before the pipeline, in the SMTP session (Receiving),
   * and is taken from the transaction's timestamps instead.
   */
  readonly elapsed?: ElapsedSection
  readonly timing?: 'run' | 'smtp'
  /**
   * The stage talks to the outside world (quarantine, next hop, DSNs). A dry run
   * (vigil filter --test-message) talks to nobody, so its time is not reported.
   */
  readonly external?: boolean
  /** The checks_performed letter recorded when run() returns true. */
  readonly check?: CheckLetter
  /** False: the stage is skipped (no state, no time, no check). Absent: it always runs. */
  applies?(ctx: MessageContext): boolean
  /**
   * Does the stage's work on the context. A stage never throws for a message-level problem: it
   * sets ctx.failure (the message tempfails). Synchronous stages return directly (no microtask).
   */
  run(ctx: MessageContext): StageResult | Promise<StageResult>
}

/** The `elapsed` sections of a stage list, in list order (the TimeElapsed* counters sent). */
export function elapsedSections(stages: readonly Stage[]): ElapsedSection[] {
  const out: ElapsedSection[] = []
  for (const s of stages) if (s.elapsed && !out.includes(s.elapsed)) out.push(s.elapsed)
  return out
}
