import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { apiView, INITIAL_API_VIEW, parseApiCounters, parseApiStatus } from '../src/api-source.ts'

const body = {
  host: 'mx0',
  time: 1000,
  summary: { all: 3, busy: 2, idle: 1 },
  processes: [
    { host: 'mx1', pid: 20, state: 'S', task_id: '00020-01', busy: true, elapsed_secs: 2.2 },
    { host: 'mx0', pid: 20, state: 'V', task_id: '00020-07', busy: true, elapsed_secs: 0.4 },
    { host: 'mx0', pid: 10, state: '-', task_id: null, busy: false, elapsed_secs: 50 },
  ],
}

describe('collector API source', () => {
  it('reads /api/status rows, turning `-` into the idle state and null task ids into none', () => {
    const s = parseApiStatus(body)
    assert.deepEqual(s.processes[2], { host: 'mx0', pid: 10, state: ' ', taskId: undefined, elapsedSecs: 50 })
  })

  it('rejects a body without processes', () => {
    assert.throws(() => parseApiStatus({ error: 'x' }), /processes/)
    assert.throws(() => parseApiStatus({ processes: [{ pid: 'x' }] }), /processes\[0\]/)
  })

  it('keeps the same PID on two hosts apart and grows their state bars between draws', () => {
    const snap = parseApiStatus(body)
    const a = apiView(INITIAL_API_VIEW, snap, 5000, 5000)
    assert.deepEqual(
      a.view.rows.map((r) => `${r.host}/${r.pid}`),
      ['mx0/10', 'mx0/20', 'mx1/20'],
    )
    assert.equal(a.view.active, 2)
    assert.equal(a.view.idle, 1)
    const b = apiView(a.state, snap, 5000, 5001)
    const mx1 = b.view.rows.find((r) => r.host === 'mx1')!
    assert.equal(mx1.ageSecs, 3.2)
    assert.equal(a.view.rows.find((r) => r.host === 'mx1')!.history, '=S', 'first sight: filled, then the state')
    assert.equal(mx1.history, '=SS', 'extended by the last character')
    const c = apiView(b.state, snap, 5000, 5002)
    assert.equal(c.view.rows.find((r) => r.host === 'mx1')!.history, '=SSS')
  })

  it('reads numeric totals from /api/counters and skips the rest', () => {
    const s = parseApiCounters(
      { counters: { InMsgs: { type: 'C32', value: 7 }, sysName: { type: 'STR', value: 'mx' }, X: { value: null } } },
      9,
    )
    assert.deepEqual([...s.values], [['InMsgs', 7]])
    assert.equal(s.atSecs, 9)
  })
})
