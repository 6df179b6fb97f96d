// Key handling of the full-screen view as a pure reducer: pause, sort order, host filter, help.
import { SORT_KEYS, type SortKey } from './render/format.ts'

export interface TuiState {
  readonly paused: boolean
  readonly sort: SortKey
  /** Host filter; undefined = all hosts. */
  readonly host: string | undefined
  readonly help: boolean
}

export const INITIAL_TUI: TuiState = { paused: false, sort: 'pid', host: undefined, help: false }

/**
 * Applies one key (blessed's `key.full` name: `q`, `C-c`, `space`, `p`, `s`, `f`, `?`).
 * `hosts` are the hosts currently reported; `f` cycles all → each host → all.
 */
export function onKey(s: TuiState, key: string, hosts: readonly string[]): { state: TuiState; quit: boolean } {
  switch (key) {
    case 'q':
    case 'C-c':
      return { state: s, quit: true }
    case 'p':
    case 'space':
      return { state: { ...s, paused: !s.paused }, quit: false }
    case 's':
      return { state: { ...s, sort: SORT_KEYS[(SORT_KEYS.indexOf(s.sort) + 1) % SORT_KEYS.length] }, quit: false }
    case 'f': {
      if (hosts.length === 0) return { state: { ...s, host: undefined }, quit: false }
      const i = s.host === undefined ? -1 : hosts.indexOf(s.host)
      return { state: { ...s, host: i + 1 < hosts.length ? hosts[i + 1] : undefined }, quit: false }
    }
    case '?':
    case 'h':
      return { state: { ...s, help: !s.help }, quit: false }
    case 'escape':
      return { state: { ...s, help: false }, quit: false }
    default:
      return { state: s, quit: false }
  }
}
