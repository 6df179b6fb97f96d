import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { parseFrame, type Frame } from '@vigil/protocol'
import {
  advanceHistory,
  applyMessage,
  createStatusStore,
  HISTORY_CAP,
  initialState,
  redraw,
  reduce,
  type StatusState,
} from '../src/state.ts'

const T = 1_700_000_000
function frame(text: string): Frame {
  const f = parseFrame(text)
  if ('error' in f) throw new Error(f.error)
  return f
}
function feed(lines: Array<[t: number, text: string]>): StatusState {
  return lines.reduce((s, [t, text]) => reduce(s, frame(text), t), initialState())
}

describe('reduce', () => {
  it('takes base and timestamp from an absolute time and clears the history', () => {
    let s = feed([[T, `am.st 1 ${T - 3}.000 S 00001-01`]])
    s = redraw(s, T).state
    assert.ok(s.procs.get(1)!.history.length > 0)
    s = reduce(s, frame(`am.st 1 ${T}.500 m 00001-02`), T + 1)
    const p = s.procs.get(1)!
    assert.equal(p.baseTimestamp, T + 0.5)
    assert.equal(p.timestamp, T + 0.5)
    assert.equal(p.history, '')
    assert.equal(p.tick, T + 1)
  })

  it('adds a relative time to the known base', () => {
    const s = feed([
      [T, `am.st 1 ${T - 10}.000 A`],
      [T + 1, 'am.st 1 2500 b'],
    ])
    assert.equal(s.procs.get(1)!.baseTimestamp, T - 10)
    assert.equal(s.procs.get(1)!.timestamp, T - 7.5)
  })

  it('reconstructs the base from the receive time when a relative time has none', () => {
    const s = feed([[T + 20, 'am.st 1 5000 V 00001-01']])
    assert.equal(s.procs.get(1)!.timestamp, T + 20)
    assert.equal(s.procs.get(1)!.baseTimestamp, T + 15)
  })

  it('turns the wire `-` into the blank idle state and keeps the task id only when sent', () => {
    const s = feed([
      [T, `am.st 1 ${T}.000 - `],
      [T, `am.st 2 ${T}.000 V 00002-01`],
    ])
    assert.equal(s.procs.get(1)!.state, ' ')
    assert.equal(s.procs.get(1)!.taskId, undefined)
    assert.equal(s.procs.get(2)!.taskId, '00002-01')
  })

  const forgetting: Array<[string, string]> = [
    ['exiting', 'am.st 1 3600456 exiting'],
    ['purged', `am.st 1 ${T}.000 purged`],
  ]
  for (const [what, text] of forgetting) {
    it(`forgets a process on ${what}`, () => {
      const s = feed([
        [T, `am.st 1 ${T}.000 A`],
        [T, `am.st 2 ${T}.000 A`],
        [T, text],
      ])
      assert.deepEqual([...s.procs.keys()], [2])
    })
  }

  it('forgets every process on FLUSH but keeps the peak', () => {
    let s = feed([
      [T, `am.st 1 ${T}.000 A`],
      [T, `am.st 2 ${T}.000 A`],
    ])
    s = redraw(s, T).state
    s = reduce(s, frame(`am.st 99 ${T}.000 FLUSH`), T)
    assert.equal(s.procs.size, 0)
    assert.equal(s.peak, 2)
  })

  it('learns unknown PIDs from am.proc.busy as `?` and from am.proc.idle as blank', () => {
    const s = feed([
      [T, 'am.proc.busy 7 8'],
      [T, 'am.proc.idle 9'],
    ])
    assert.deepEqual(
      [...s.procs.values()].map((p) => [p.pid, p.state]),
      [
        [7, '?'],
        [8, '?'],
        [9, ' '],
      ],
    )
  })

  it('refreshes the last-touched entry, not the listed known PID, on am.proc lists (amavis quirk)', () => {
    let s = feed([
      [T, `am.st 1 ${T}.000 A`],
      [T + 1, `am.st 2 ${T}.000 A`],
    ])
    s = reduce(s, frame('am.proc.busy 1 2'), T + 100)
    assert.equal(s.procs.get(1)!.tick, T, 'the listed PID 1 is not refreshed')
    assert.equal(s.procs.get(2)!.tick, T + 100, 'the last touched PID 2 is')
  })

  it('refreshes nothing when the last-touched entry is gone', () => {
    let s = feed([
      [T, `am.st 1 ${T}.000 A`],
      [T, `am.st 2 ${T}.000 A`],
      [T, 'am.st 2 5 exiting'],
    ])
    s = reduce(s, frame('am.proc.busy 1'), T + 100)
    assert.equal(s.procs.get(1)!.tick, T)
    assert.equal(s.procs.has(2), false)
  })

  it('treats a relative time after an am.proc sighting as having no base', () => {
    const s = feed([
      [T, 'am.proc.busy 5'],
      [T + 30, 'am.st 5 4000 S 00005-01'],
    ])
    assert.equal(s.procs.get(5)!.baseTimestamp, T + 26)
  })
})

describe('applyMessage', () => {
  it('reports foreign and malformed frames and FLUSH as notices, frame by frame', () => {
    const r = applyMessage(initialState(), ['am.snmp InMsgs C32 1', `am.st 1 ${T}.000 FLUSH`, 'am.st 1', 'garbage'], T)
    assert.deepEqual(r.notices, [
      'Unrecognized message received: am.snmp InMsgs C32 1',
      'state flushed (restart)',
      'Unrecognized message received: am.st 1',
      'Unrecognized message received: garbage',
    ])
    assert.equal(r.unrecognized, 3)
  })
})

describe('redraw', () => {
  it('drops entries whose tick is more than 10 minutes old', () => {
    let s = feed([
      [T, `am.st 1 ${T}.000 -`],
      [T + 5, `am.st 2 ${T}.000 -`],
    ])
    const r = redraw(s, T + 600.5)
    assert.deepEqual(
      r.view.rows.map((x) => x.pid),
      [2],
    )
    s = r.state
    assert.equal(s.procs.has(1), false)
  })

  it('counts a process without task id in `.` or blank as idle and everything else as busy', () => {
    const s = feed([
      [T, `am.st 1 ${T}.000 .`],
      [T, `am.st 2 ${T}.000 -`],
      [T, `am.st 3 ${T}.000 . 00003-01`],
      [T, `am.st 4 ${T}.000 A`],
    ])
    const v = redraw(s, T + 1).view
    assert.equal(v.active, 2)
    assert.equal(v.idle, 2)
  })

  it('decays the peak with an 8 s half-life and never below the active count', () => {
    let s = feed([1, 2, 3, 4].map((p): [number, string] => [T, `am.st ${p} ${T}.000 A`]))
    s = redraw(s, T).state
    assert.equal(s.peak, 4)
    for (const p of [1, 2, 3, 4]) s = reduce(s, frame(`am.st ${p} 1 exiting`), T)
    s = redraw(s, T + 8).state
    assert.ok(Math.abs(s.peak - 2) < 1e-9)
    s = redraw(s, T + 16).state
    assert.ok(Math.abs(s.peak - 1) < 1e-9)
  })
})

describe('advanceHistory', () => {
  const cases: Array<[history: string, age: number, state: string, expected: string]> = [
    ['', 0, 'A', 'A'],
    ['', 0.49, 'A', 'A'],
    ['', 2.6, 'S', '==S'],
    ['D', 1.3, 'D', 'D'],
    ['D', 1.6, 'V', 'DV'],
    ['DV', 4.5, 'S', 'DVVVS'],
    ['DVVVS', 2.2, 'P', 'DPVVS'],
    ['', -3, 'm', 'm'],
  ]
  for (const [h, age, st, exp] of cases) {
    it(`turns ${JSON.stringify(h)} at ${age} s in state ${st} into ${JSON.stringify(exp)}`, () => {
      assert.equal(advanceHistory(h, age, st), exp)
    })
  }

  it('keeps a bounded prefix plus the current state for ancient bases', () => {
    const h = advanceHistory('DV', 1e9, 'S')
    assert.equal(h.length, HISTORY_CAP)
    assert.equal(h.slice(0, 4), 'DVVV')
    assert.equal(h[h.length - 1], 'S')
    const next = advanceHistory(h, 1e9 + 1, 'P')
    assert.equal(next.length, HISTORY_CAP)
    assert.equal(next.slice(0, 4), 'DVVV')
    assert.equal(next[next.length - 1], 'P')
  })
})

describe('createStatusStore', () => {
  it('draws the same views as the pure applyMessage and redraw for a recorded stream', async () => {
    const { readFileSync } = await import('node:fs')
    const { parseFramesFile } = await import('../src/replay.ts')
    const msgs = parseFramesFile(readFileSync(new URL('fixtures/proc-lists.frames', import.meta.url), 'utf8'))
    const store = createStatusStore()
    let pure = initialState()
    for (const m of msgs) {
      const now = T + m.tMs / 1000
      const a = store.apply(m.parts, now)
      const b = applyMessage(pure, m.parts, now)
      pure = b.state
      assert.deepEqual(a.notices, b.notices)
      const r = redraw(pure, now + 0.2)
      pure = r.state
      assert.deepEqual(store.redraw(now + 0.2), r.view)
    }
  })

  it('hands out snapshots that later messages do not change', () => {
    const store = createStatusStore()
    store.apply([`am.st 1 ${T}.000 A`], T)
    const snap = store.snapshot()
    store.apply([`am.st 2 ${T}.000 A`, `am.st 1 ${T}.000 purged`], T)
    assert.deepEqual([...snap.procs.keys()], [1])
  })

  it('leaves the argument of the pure applyMessage untouched', () => {
    const s0 = applyMessage(initialState(), [`am.st 1 ${T}.000 A`], T).state
    applyMessage(s0, [`am.st 1 ${T}.000 purged`, 'am.proc.idle 5'], T)
    assert.deepEqual([...s0.procs.keys()], [1])
  })
})
