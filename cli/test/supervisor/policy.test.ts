import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { DEFAULT_POLICY, decideRestart, type RestartDecision } from '../../src/supervisor/policy.ts'
import { formatExitLine, formatExitStatus } from '../../src/supervisor/exit-status.ts'

describe('decideRestart', () => {
  const cases: Array<
    [name: string, rapidStarts: number, uptimeMs: number, code: number | null, expected: RestartDecision]
  > = [
    ['restarts after 1 s when the first run crashes', 1, 200, 1, { action: 'restart', delayMs: 1000, rapidStarts: 1 }],
    ['doubles the delay on the second rapid crash', 2, 200, 1, { action: 'restart', delayMs: 2000, rapidStarts: 2 }],
    ['waits 8 s after the fourth rapid crash', 4, 200, 1, { action: 'restart', delayMs: 8000, rapidStarts: 4 }],
    ['gives up after the fifth start crashes (amavis-mc)', 5, 200, 1, { action: 'give-up', reason: 'restart-count' }],
    ['resets the series after a run of 60 s', 5, 60_000, 1, { action: 'restart', delayMs: 1000, rapidStarts: 0 }],
    ['restarts a component killed by a signal', 1, 10, null, { action: 'restart', delayMs: 1000, rapidStarts: 1 }],
    ['never restarts on a configuration error (78)', 1, 10, 78, { action: 'give-up', reason: 'fatal-exit' }],
    ['never restarts an unavailable component (69)', 1, 10, 69, { action: 'give-up', reason: 'fatal-exit' }],
  ]
  for (const [name, rapid, uptime, code, expected] of cases)
    it(name, () => assert.deepEqual(decideRestart(rapid, uptime, code), expected))

  it('caps the delay at 30 s', () => {
    const policy = { ...DEFAULT_POLICY, maxRapidStarts: 20 }
    assert.deepEqual(decideRestart(10, 0, 1, policy), { action: 'restart', delayMs: 30_000, rapidStarts: 10 })
  })
})

describe('formatExitStatus', () => {
  const cases: Array<[number | null, NodeJS.Signals | null, string]> = [
    [0, null, 'exit 0'],
    [3, null, 'exit 3'],
    [null, 'SIGTERM', 'TERMINATED, signal 15 (SIGTERM)'],
    [null, 'SIGKILL', 'KILLED, signal 9 (SIGKILL)'],
    [null, 'SIGSEGV', 'DIED, signal 11 (SIGSEGV)'],
  ]
  for (const [code, signal, expected] of cases)
    it(`writes ${expected}`, () => assert.equal(formatExitStatus(code, signal), expected))

  it('writes the amavis-mc exit line', () => {
    assert.equal(
      formatExitLine(4242, 'vigil filter', 1234, 'exit 1'),
      'Process [4242] exited (vigil filter) after 1.2 s: exit 1',
    )
  })
})
