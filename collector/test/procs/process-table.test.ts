import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { parseFrame, isParseError } from '@vigil/protocol'
import { createProcessTable, type SupervisionOptions } from '../../src/procs/process-table.ts'

const golden = (name: string) => JSON.parse(readFileSync(new URL(`../golden/${name}`, import.meta.url), 'utf8'))
const NOW = 1700000100

function st(table: ReturnType<typeof createProcessTable>, line: string, now = NOW, host = 'mx') {
  const f = parseFrame(line)
  if (isParseError(f) || f.topic !== 'am.st') throw new Error(`bad fixture ${line}`)
  return table.applyState(host, f, now)
}

const opts = (over: Partial<SupervisionOptions> = {}): SupervisionOptions => ({
  idleTtlSecs: 4 * 3600,
  activeTtlSecs: 900,
  killOverdue: false,
  remoteIdleTtlSecs: 4 * 3600,
  remoteBusyTtlSecs: 900,
  probe: () => true,
  signal: () => {},
  ...over,
})

describe('minder round messages', () => {
  it('formats the am.nanny message and PID lists byte for byte in spec order', () => {
    const table = createProcessTable({ isLocalHost: (h) => h === 'mx' })
    st(table, 'am.st 4301 1700000000.000 -')
    st(table, 'am.st 4302 1700000050.000 A')
    st(table, 'am.st 4302 300 .')
    st(table, 'am.st 4307 1700000095.000 m 04307-01')
    st(table, 'am.st 4307 2100 S 04307-01')
    st(table, 'am.st 4308 1700000099.950 m 04308-01')
    st(table, 'am.st 4308 20 V 04308-01')
    st(table, 'am.st 4309 1700000040.000 m 04309-01')
    st(table, 'am.st 4310 1700000040.000 -', NOW - 30)
    // 4310 disappeared without saying so: it is gone
    table.supervise(NOW, opts({ probe: (pid) => pid !== 4310 }))
    const r = table.roundMessages(NOW)
    assert.deepEqual([r.nanny, [r.busy], [r.idle]], golden('nanny-round.json'))
  })

  it('sends ProcGone only in the round after a process went away, and empty lists with a trailing space', () => {
    const table = createProcessTable({ isLocalHost: () => true })
    const r = table.roundMessages(NOW)
    assert.deepEqual([r.nanny, [r.busy], [r.idle]], golden('nanny-round-empty.json'))
  })

  const ageCases: [ageSecs: number, highestSlot: number][] = [
    [0.05, 0],
    [0.15, 1],
    [0.99, 3],
    [1, 4],
    [59.9, 9],
    [60, 10],
    [108000, 21],
  ]
  for (const [age, slot] of ageCases)
    it(`counts a busy process of age ${age} s in ProcBusy0..${slot}`, () => {
      const table = createProcessTable({ isLocalHost: () => true })
      st(table, `am.st 9 ${(NOW - age).toFixed(3)} m 00009-01`)
      const g = table.gauges(NOW)
      assert.deepEqual(
        g.ages
          .map((n, j) => [j, n])
          .filter(([, n]) => n > 0)
          .map(([j]) => j),
        Array.from({ length: slot + 1 }, (_, j) => j),
      )
    })
})

describe('am.st handling', () => {
  it('keeps base and timestamps as receivers do: absolute resets, relative adds to the base', () => {
    const table = createProcessTable({ isLocalHost: () => true })
    st(table, 'am.st 4321 1700000100.000 A')
    st(table, 'am.st 4321 1500 V 04321-01', NOW + 2)
    const row = table.rows()[0]
    assert.equal(row.baseTs, 1700000100)
    assert.equal(row.ts, 1700000101.5)
    assert.equal(row.state, 'V')
    assert.equal(row.taskId, '04321-01')
    assert.equal(row.tick, NOW + 2)
  })

  it('derives the base from the receive time for a relative time with no known base', () => {
    const table = createProcessTable({ isLocalHost: () => true })
    st(table, 'am.st 4321 2000 S 04321-01', NOW)
    assert.equal(table.rows()[0].baseTs, NOW - 2)
  })

  it('treats "." without a task id and "-" as idle, anything with a task id as busy', () => {
    const table = createProcessTable({ isLocalHost: () => true })
    st(table, 'am.st 1 1700000100.000 -')
    st(table, 'am.st 2 1700000100.000 .')
    st(table, 'am.st 3 1700000100.000 . 00003-01')
    st(table, 'am.st 4 1700000100.000 A')
    const g = table.gauges(NOW)
    assert.deepEqual(g.idlePids, [1, 2])
    assert.deepEqual(g.busyPids, [3, 4])
  })

  it('removes a process on exiting and purged, and FLUSH forgets only that host', () => {
    const table = createProcessTable({ isLocalHost: (h) => h === 'mx' })
    st(table, 'am.st 1 1700000100.000 A')
    st(table, 'am.st 2 1700000100.000 A')
    st(table, 'am.st 3 1700000100.000 A', NOW, 'remote')
    assert.equal(st(table, 'am.st 1 20 exiting').kind, 'remove')
    assert.equal(table.size, 2)
    const f = st(table, 'am.st 999 1700000101.000 FLUSH')
    assert.deepEqual(f, { kind: 'flush', host: 'mx', removed: 1 })
    assert.deepEqual(
      table.rows().map((r) => [r.host, r.pid]),
      [['remote', 3]],
    )
    st(table, 'am.st 3 1700000102.000 purged', NOW, 'remote')
    assert.equal(table.size, 0)
  })

  it("keeps two hosts' processes with the same PID apart", () => {
    const table = createProcessTable({ isLocalHost: (h) => h === 'a' })
    st(table, 'am.st 100 1700000100.000 V 00100-01', NOW, 'a')
    st(table, 'am.st 100 1700000100.000 -', NOW, 'b')
    assert.deepEqual(
      table.rows().map((r) => [r.host, r.state]),
      [
        ['a', 'V'],
        ['b', ' '],
      ],
    )
    const g = table.gauges(NOW)
    assert.equal(g.all, 2)
    assert.deepEqual([g.busyPids, g.idlePids], [[100], [100]])
  })
})

describe('supervision', () => {
  it('probes a process not heard from for 10 s and purges it when gone, counting ProcGone once', () => {
    const table = createProcessTable({ isLocalHost: () => true })
    st(table, 'am.st 50 1700000100.000 A', NOW)
    const probed: number[] = []
    const probe = (pid: number) => (probed.push(pid), false)
    assert.deepEqual(table.supervise(NOW + 5, opts({ probe })), [])
    assert.deepEqual(probed, [], 'heard from within 10 s: skipped')
    const a = table.supervise(NOW + 11, opts({ probe }))
    assert.deepEqual(probed, [50])
    assert.deepEqual(
      a.map((x) => [x.kind, x.pid, x.gone]),
      [['purged', 50, true]],
    )
    assert.equal(table.goneTotal, 1)
    assert.match(table.roundMessages(NOW + 11).nanny.join('\n'), /am\.nanny ProcGone C32 1/)
    assert.doesNotMatch(table.roundMessages(NOW + 14).nanny.join('\n'), /ProcGone/)
  })

  it('re-probes an idle process every 20 s and a busy one every 10 s', () => {
    const table = createProcessTable({ isLocalHost: () => true })
    st(table, 'am.st 1 1700000100.000 -', NOW)
    st(table, 'am.st 2 1700000100.000 V 00002-01', NOW)
    const probed: number[] = []
    const probe = (pid: number) => (probed.push(pid), true)
    table.supervise(NOW + 11, opts({ probe })) // both silent for 11 s and never probed
    assert.deepEqual(probed, [1, 2])
    table.supervise(NOW + 22, opts({ probe })) // busy: probed 11 s ago; idle: not yet 20 s
    assert.deepEqual(probed, [1, 2, 2])
    table.supervise(NOW + 32, opts({ probe }))
    assert.deepEqual(probed, [1, 2, 2, 1, 2])
  })

  it('only warns about an overdue child when kill_overdue is off', () => {
    const table = createProcessTable({ isLocalHost: () => true })
    st(table, 'am.st 7 1700000100.000 V 00007-01', NOW)
    const signals: string[] = []
    const a = table.supervise(NOW + 901, opts({ signal: (p, s) => signals.push(`${p} ${s}`) }))
    assert.deepEqual(
      a.map((x) => x.kind),
      ['overdue'],
    )
    assert.deepEqual(table.supervise(NOW + 904, opts()), [], 'warned once')
    assert.deepEqual(signals, [])
  })

  it('sends TERM, then KILL at growing intervals, then gives up and purges, with kill_overdue', () => {
    const table = createProcessTable({ isLocalHost: () => true })
    st(table, 'am.st 7 1700000100.000 V 00007-01', NOW)
    const signals: string[] = []
    const o = opts({ killOverdue: true, signal: (p, s) => signals.push(`${p} ${s}`) })
    let t = NOW + 901
    const kinds: string[] = []
    for (let i = 0; i < 2000 && table.size > 0; i++, t += 3) for (const a of table.supervise(t, o)) kinds.push(a.kind)
    assert.equal(signals[0], '7 SIGTERM')
    assert.ok(signals.slice(1).every((s) => s === '7 SIGKILL'))
    assert.ok(signals.length >= 8 && signals.length <= 12, `signals: ${signals.length}`)
    assert.deepEqual(kinds.slice(-2), ['gave-up', 'purged'])
    assert.equal(table.goneTotal, 0, 'a process we signalled is terminated, not gone')
  })

  it("never probes or signals a remote host's process; purges it after its TTL without news", () => {
    const table = createProcessTable({ isLocalHost: (h) => h === 'mx' })
    st(table, 'am.st 8 1700000100.000 V 00008-01', NOW, 'far')
    st(table, 'am.st 9 1700000100.000 -', NOW, 'far')
    const o = opts({
      killOverdue: true,
      probe: () => assert.fail('remote process probed'),
      signal: () => assert.fail('remote process signalled'),
      remoteBusyTtlSecs: 60,
      remoteIdleTtlSecs: 600,
    })
    assert.deepEqual(table.supervise(NOW + 59, o), [])
    assert.deepEqual(
      table.supervise(NOW + 61, o).map((a) => [a.kind, a.pid]),
      [['purged', 8]],
    )
    assert.deepEqual(
      table.supervise(NOW + 601, o).map((a) => [a.kind, a.pid]),
      [['purged', 9]],
    )
    assert.equal(table.goneTotal, 2)
  })
})
