// amavis process states (spec §3): the closed set of letters children publish in `am.st`,
// the pseudo-states, the legend amavisd-status prints, and the idle/busy rules.

/** State letters an amavis child sends; `' '` is idle (sent on the wire as `-`). */
export const STATE_LETTERS = ['A', 'b', 'm', 'd', '=', 'G', 'D', 'V', 'S', 'P', 'r', 'Q', 'F', '.'] as const
export type StateLetter = (typeof STATE_LETTERS)[number]
/** Tokens in the state position that are not letters. */
export const PSEUDO_STATES = ['exiting', 'FLUSH', 'purged'] as const
export type PseudoState = (typeof PSEUDO_STATES)[number]
export type ProcState = StateLetter | ' ' | PseudoState

export const STATE_LEGEND: Readonly<Record<StateLetter, string>> = {
  A: 'accepted a connection',
  b: 'begin with a protocol for accepting a request',
  m: "'MAIL FROM' smtp command started a new transaction in the same session",
  d: 'transferring data from MTA to amavisd',
  '=': 'content checking just started',
  G: 'generating and verifying unique mail_id',
  D: 'decoding of mail parts',
  V: 'virus scanning',
  S: 'spam scanning',
  P: 'pen pals database lookup and updates',
  r: 'preparing results',
  Q: 'quarantining and preparing/sending notifications',
  F: 'forwarding mail to MTA',
  '.': 'content checking just finished',
}

/** The legend block of amavisd-status, verbatim (spec §3.4), one string per line. */
export const STATUS_LEGEND_LINES: readonly string[] = [
  'States legend:',
  ...STATE_LETTERS.map((l) => `  ${l}  ${STATE_LEGEND[l]}`),
  '  sp space indicates idle (elapsed time bar is showing dots)',
]

/** States after which the sender resets its base time and sends an absolute timestamp. */
export const BASE_RESET_STATES: ReadonlySet<string> = new Set(['A', 'm', 'FLUSH'])

/** A process is idle when it has no task id and its state is `.` or blank (spec §3.2). */
export function isIdle(state: string, taskId: string | undefined): boolean {
  return (taskId === undefined || taskId === '') && (state === '.' || state === ' ' || state === '')
}

export type Activity = 'Transfer' | 'Decode' | 'Virus' | 'Spam' | 'Other'
/** The ProcBusy<Activity> bucket of a busy process's state (spec §3.2). */
export function activityOf(state: string): Activity {
  switch (state) {
    case 'm':
    case 'd':
    case 'F':
      return 'Transfer'
    case 'D':
      return 'Decode'
    case 'V':
      return 'Virus'
    case 'S':
      return 'Spam'
    default:
      return 'Other'
  }
}
