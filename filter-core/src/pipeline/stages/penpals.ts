// 'P': pen pals (amavis's penpals_check: lower the spam score of replies to mail our users sent).
// A no-op until issue #13: this is the hook point. The stage is already in the list with its
// amavis letter, section and check, so that when it is implemented, `applies` and `run` are all
// that change; while `applies` is false it publishes no P state, adds no PenPals time and
// records no P in checks_performed, exactly as before the stage existed.
import type { Stage } from './stage.ts'

export const penpals: Stage = {
  name: 'penpals',
  state: 'P',
  elapsed: 'PenPals',
  check: 'P',
  applies: () => false,
  run: () => false,
}
