import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createTotals, formatPerlNumber, perlNumber } from '../../src/counters/totals.ts'

const START = 1700000000.7
const fresh = () => createTotals({ localHost: 'mx', startSecs: START })
const val = (t: ReturnType<typeof fresh>, n: string) => t.get(n)?.value

describe('responder totals', () => {
  it('starts with sysUpTime (int of the responder start), sysObjectID and sysServices', () => {
    assert.deepEqual(
      [...fresh().aggregate()],
      [
        ['sysObjectID', { type: 'OID', value: '1.3.6.1.4.1.15312.2' }],
        ['sysUpTime', { type: 'INT', value: '1700000000' }],
        ['sysServices', { type: 'INT', value: '64' }],
      ],
    )
  })

  it('sums C32, C64 and TIM increments and replaces everything else', () => {
    const t = fresh()
    t.apply('mx', 'InMsgs', 'C32', '1')
    t.apply('mx', 'InMsgs', 'C32', '2')
    t.apply('mx', 'InMsgsSize', 'C64', '9007199254740000')
    t.apply('mx', 'InMsgsSize', 'C64', '1000')
    t.apply('mx', 'Weird', 'TIM', '5')
    t.apply('mx', 'Weird', 'TIM', '5')
    t.apply('mx', 'ProcBusy', 'G32', '4')
    t.apply('mx', 'ProcBusy', 'G32', '2')
    t.apply('mx', 'sysUpTime', 'INT', '1700000500')
    assert.equal(val(t, 'InMsgs'), 3)
    assert.equal(val(t, 'InMsgsSize'), 9007199254741000)
    assert.equal(val(t, 'Weird'), 10)
    assert.equal(val(t, 'ProcBusy'), '2')
    assert.equal(val(t, 'sysUpTime'), '1700000500')
  })

  it('stores rather than adds when the stored value is false in Perl ("", "0", 0)', () => {
    const t = fresh()
    t.apply('mx', 'ProcGone', 'C32', '0')
    t.apply('mx', 'ProcGone', 'C32', '3')
    assert.equal(val(t, 'ProcGone'), '3')
    t.apply('mx', 'sysContact', 'STR', '')
    t.apply('mx', 'sysContact', 'STR', 'postmaster')
    assert.equal(val(t, 'sysContact'), 'postmaster')
  })

  it('keeps an undefined value as type "?"', () => {
    const t = fresh()
    t.apply('mx', 'Odd', '?', '?')
    assert.deepEqual(t.get('Odd'), { type: '?', value: undefined })
  })

  it('FLUSH clears only the flushing host and restores the initial values', () => {
    const t = fresh()
    t.apply('mx', 'sysUpTime', 'INT', '1700000500')
    t.apply('mx', 'InMsgs', 'C32', '5')
    t.apply('far', 'InMsgs', 'C32', '7')
    assert.equal(val(t, 'InMsgs'), 12)
    t.apply('mx', 'FLUSH', undefined, undefined)
    assert.equal(val(t, 'InMsgs'), '7')
    assert.equal(val(t, 'sysUpTime'), '1700000000')
  })

  it('prefers the local host for replaced values and sums increments over hosts', () => {
    const t = fresh()
    t.apply('far', 'sysName', 'STR', 'far.example')
    assert.equal(val(t, 'sysName'), 'far.example')
    t.apply('mx', 'sysName', 'STR', 'mx.example')
    t.apply('far', 'TimeElapsedTotal', 'C32', '100')
    t.apply('mx', 'TimeElapsedTotal', 'C32', '23')
    assert.equal(val(t, 'sysName'), 'mx.example')
    assert.equal(val(t, 'TimeElapsedTotal'), 123)
    assert.deepEqual(t.hosts(), ['mx', 'far'])
  })

  it('lists catalogue names in OID order, then other names sorted', () => {
    const t = fresh()
    t.apply('mx', 'virus.byname.EICAR', 'C32', '1')
    t.apply('mx', 'OpsDecType-asc', 'C32', '1')
    t.apply('mx', 'InMsgs', 'C32', '1')
    t.apply('mx', 'sysDescr', 'STR', 'amavis-2.13.0 (20230106)')
    assert.deepEqual(
      [...t.aggregate().keys()],
      ['sysDescr', 'sysObjectID', 'sysUpTime', 'sysServices', 'InMsgs', 'OpsDecType-asc', 'virus.byname.EICAR'],
    )
  })

  it('round-trips through a snapshot, and rejects an invalid one without changing anything', () => {
    const t = fresh()
    t.apply('mx', 'InMsgs', 'C32', '5')
    t.apply('mx', 'InMsgs', 'C32', '5')
    t.apply('far', 'Odd', '?', '?')
    const snap = JSON.parse(JSON.stringify(t.snapshot(1700000900)))
    const u = fresh()
    assert.equal(u.restore(snap), true)
    assert.deepEqual([...u.aggregate()], [...t.aggregate()])
    for (const bad of [null, 42, { version: 2, hosts: {} }, { version: 1, hosts: { mx: { InMsgs: 'x' } } }]) {
      assert.equal(u.restore(bad), false)
      assert.equal(u.get('InMsgs')?.value, 10)
    }
  })
})

describe('Perl numbers', () => {
  const cases: [string, number][] = [
    ['12', 12],
    ['12abc', 12],
    ['  -3.5e2x', -350],
    ['abc', 0],
    ['', 0],
    ['.5', 0.5],
  ]
  for (const [s, n] of cases) it(`numifies ${JSON.stringify(s)} as ${n}`, () => assert.equal(perlNumber(s), n))
  const fmt: [number, string][] = [
    [3, '3'],
    [9007199254741000, '9007199254741000'],
    [2 ** 60, '1152921504606846976'],
    [1.5e-7, '1.5e-07'],
    [0.1 + 0.2, '0.3'],
    [1e21, '1e+21'],
    [123456789012345, '123456789012345'],
  ]
  for (const [n, s] of fmt) it(`formats ${n} as ${s}`, () => assert.equal(formatPerlNumber(n), s))
})
