import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import {
  fmtAge,
  formatBar,
  formatElapsed,
  formatPeakBar,
  formatProcLine,
  formatScreen,
  formatUsage,
} from '../../src/render/format.ts'
import type { RedrawView } from '../../src/state.ts'

describe('formatElapsed', () => {
  const cases: Array<[number, string]> = [
    [0, '  0:00:00'],
    [0.999, '  0:00:00'],
    [59.5, '  0:00:59'],
    [3600 + 62, '  1:01:02'],
    [86399, '  23:59:59'],
    [86400 + 3 * 3600 + 4 * 60 + 5, '1d3:04:05'],
    [12 * 86400, '12d0:00:00'],
  ]
  for (const [age, exp] of cases)
    it(`formats ${age} s as ${JSON.stringify(exp)}`, () => assert.equal(formatElapsed(age), exp))
})

describe('formatBar', () => {
  const cases: Array<[age: number, history: string, idle: boolean, exp: string, why: string]> = [
    [3.7, '', true, '...', 'idle: one dot per whole second'],
    [12, '', true, '.........:..', 'idle: ticks at column 10'],
    [500, '', true, '.........:.........:.........:.....', 'idle: at most 35 columns, no overflow mark'],
    [3, 'DVS', false, 'DVS', 'busy: the history'],
    [3, 'D S', false, 'D=S', 'busy: a space keeps the template character'],
    [12, 'SSSSSSSSSSSS', false, 'SSSSSSSSS:SS', 'busy: ticks stay'],
    [35, 'A'.repeat(35), false, 'AAAAAAAAA:AAAAAAAAA:AAAAAAAAA:AAAAA', 'busy: exactly 35 does not overflow'],
    [36, 'A'.repeat(35) + 'B', false, 'AAAAAAAAA:AAAAAAAAA:AAAAAAAAA:AAAB>', 'busy: 33 first, the last, and >'],
  ]
  for (const [age, h, idle, exp, why] of cases) it(why, () => assert.equal(formatBar(age, h, idle), exp))
})

describe('plain lines', () => {
  it('prints the state letter in the task-id column when there is no task id', () => {
    const row = { pid: 5002, state: 'A', taskId: undefined, ageSecs: 0.1, inStateSecs: 0, history: 'A', idle: false }
    assert.equal(formatProcLine(row), 'PID  5002: A             0:00:00 A')
  })

  it('treats a task id of "0" as false, as Perl does', () => {
    const row = { pid: 7, state: 'S', taskId: '0', ageSecs: 1, inStateSecs: 0, history: 'S', idle: false }
    assert.equal(formatProcLine(row), 'PID     7: S             0:00:01 S')
  })

  it('pads the PID to five columns and lets long task ids push the columns', () => {
    const row = {
      pid: 123456,
      state: 'V',
      taskId: '123456-0001-2',
      ageSecs: 2,
      inStateSecs: 0,
      history: 'VV',
      idle: false,
    }
    assert.equal(formatProcLine(row), 'PID 123456: 123456-0001-2   0:00:02 VV')
    assert.equal(fmtAge(2, 'VV', false), '  0:00:02 VV')
  })

  const bars: Array<[active: number, idle: number, peak: number, exp: string]> = [
    [2, 8, 2, '**........'],
    [3, 7, 4.585, '***::.....'],
    [1, 9, 4.204, '*:::......'],
    [0, 1, 5.6, '::::::'],
    [2, 0, 2.49, '**'],
    [0, 0, 0.4, ''],
  ]
  for (const [a, i, p, exp] of bars)
    it(`draws ${a} active, ${i} idle with peak ${p} as ${JSON.stringify(exp)}`, () =>
      assert.equal(formatPeakBar(a, i, p), exp))

  it('prints the legend, then the usage line', () => {
    const u = formatUsage('amavis-status').split('\n')
    assert.equal(u[0], 'States legend:')
    assert.equal(u[15], '  sp space indicates idle (elapsed time bar is showing dots)')
    assert.equal(u[16], 'Usage: amavis-status [-c <count>] [-w <wait-interval>]')
  })
})

describe('formatScreen', () => {
  const view: RedrawView = {
    nowSecs: 0,
    active: 2,
    idle: 1,
    peak: 3,
    rows: [
      { pid: 30, state: ' ', taskId: undefined, ageSecs: 4, inStateSecs: 4, history: '', idle: true, host: 'b' },
      { pid: 10, state: 'S', taskId: '00010-01', ageSecs: 3, inStateSecs: 1, history: 'DVS', idle: false, host: 'a' },
      {
        pid: 20,
        state: 'V',
        taskId: '00020-01',
        ageSecs: 9,
        inStateSecs: 1,
        history: 'DVVVVVVVV',
        idle: false,
        host: 'b',
      },
    ],
  }
  const base = {
    width: 100,
    height: 12,
    source: 'tcp://127.0.0.1:23232',
    paused: false,
    sort: 'pid' as const,
    host: undefined,
    help: false,
    counters: { msgsPerSec: 2.5, msPerMsg: [['spam', 120.25] as const], totalMsgs: 40 },
  }
  const pids = (lines: { text: string }[]) =>
    lines.map((l) => /^\s+(\d+) /.exec(l.text)?.[1]).filter((x): x is string => x !== undefined)

  it('fills exactly the screen, no line wider than it, idle rows dimmed', () => {
    const lines = formatScreen(view, base)
    assert.equal(lines.length, 12)
    assert.ok(lines.every((l) => l.text.length <= 100))
    assert.equal(lines.find((l) => l.text.includes('    30 '))?.dim, true)
    assert.match(lines[1].text, /msgs\/s: 2\.5 {2}total: 40 {2}ms\/msg: spam 120\.3/)
    assert.match(lines[2].text, /^2 active, 1 idling processes {2}\*\*:$/)
  })

  it('sorts busy rows first by elapsed time and shows a host column', () => {
    const lines = formatScreen(view, { ...base, sort: 'elapsed' })
    assert.deepEqual(pids(lines), ['20', '10', '30'])
    assert.match(lines[3].text, /HOST/)
  })

  it('filters rows by host', () => {
    const lines = formatScreen(view, { ...base, host: 'b' })
    assert.deepEqual(pids(lines), ['20', '30'])
  })

  it('shows PAUSED in the title and truncates to a narrow width', () => {
    const lines = formatScreen(view, { ...base, paused: true, width: 20 })
    assert.match(lines[0].text, /^amavis-status {2}tcp:/)
    assert.ok(lines.every((l) => l.text.length <= 20))
    assert.match(formatScreen(view, { ...base, paused: true }).at(0)!.text, /\[PAUSED\]/)
  })
})
