import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { createIngest, parseFrameFast } from '../src/ingest.ts'
import { parseFrame } from '@vigil/protocol'
import { createBusStats } from '../src/bus/stats.ts'
import { createTotals } from '../src/counters/totals.ts'
import { createProcessTable } from '../src/procs/process-table.ts'

function setup() {
  const stats = createBusStats()
  const table = createProcessTable({ isLocalHost: () => true })
  const totals = createTotals({ localHost: 'mx', startSecs: 1700000000 })
  const errors: string[] = []
  const ingest = createIngest({ table, totals, stats, now: () => 1700000100, onMalformed: (_h, e) => errors.push(e) })
  return { stats, table, totals, ingest, errors }
}
const b = (...parts: (string | Buffer)[]) => parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p))

describe('ingest', () => {
  it('forwards valid amavis messages and feeds the table and the totals', () => {
    const s = setup()
    assert.equal(s.ingest.handle('mx', b('am.st 10 1700000100.000 m 00010-01')), true)
    assert.equal(s.ingest.handle('mx', b('am.snmp InMsgs C32 1', 'am.snmp InMsgsRecips C32 2')), true)
    assert.equal(s.ingest.handle('mx', b('am.proc.busy 10')), true)
    assert.equal(s.ingest.handle('mx', b('am.log.*** 10 1700000100.000 text with spaces')), true)
    assert.equal(s.ingest.handle('mx', b('vigil.sync')), true)
    assert.equal(s.table.rows()[0].taskId, '00010-01')
    assert.equal(s.totals.get('InMsgsRecips')?.value, '2')
    assert.deepEqual([s.stats.messagesIn, s.stats.framesIn, s.stats.malformed], [5, 6, 0])
  })

  it("sums the filters' vigil.stats increments and counts a malformed one", () => {
    const s = setup()
    const rec = (o: object) => b(`vigil.stats ${JSON.stringify(o)}`)
    assert.equal(
      s.ingest.handle('mx', rec({ pid: 1, smtp_protocol_errors: { bare_lf: 2, timeout: 1 }, events_dead_lettered: 3 })),
      true,
    )
    assert.equal(
      s.ingest.handle(
        'mx',
        rec({ pid: 2, smtp_protocol_errors: { bare_lf: 1 }, events_trimmed: 4, events_produced: 7 }),
      ),
      true,
    )
    assert.deepEqual(s.stats.smtpProtocolErrors, { bare_lf: 3, timeout: 1 })
    assert.equal(s.stats.filterEventsDeadLettered, 3)
    assert.equal(s.stats.filterEventsTrimmed, 4)
    assert.equal(s.stats.filterEventsProduced, 7)
    assert.equal(s.ingest.handle('mx', rec({ pid: 3, smtp_protocol_errors: { made_up: 1 } })), false)
    assert.equal(s.stats.malformed, 1)
  })

  const bad: [string, Buffer[]][] = [
    ['random bytes', b(randomBytes(200))],
    ['a truncated am.st', b('am.st 4321 17000001')],
    ['an am.st without a state', b('am.st 4321 1700000100.000')],
    ['an am.st with a non-numeric pid', b('am.st abc 1700000100.000 A')],
    ['a truncated am.snmp', b('am.snmp InMsgs C32')],
    ['an am.snmp with an unknown type', b('am.snmp InMsgs X99 1')],
    ['an unknown topic', b('am.bogus 1 2 3')],
    ['an empty frame', b('')],
    ['non-UTF-8 bytes', b(Buffer.concat([Buffer.from('am.st 1 1700000100.000 V '), Buffer.from([0xff, 0xfe])]))],
    ['a 1 MB frame', b(Buffer.concat([Buffer.from('am.snmp sysDescr STR '), Buffer.alloc(1024 * 1024, 0x61)]))],
    ['an am.proc list with garbage', b('am.proc.busy 1 two 3')],
    ['one bad frame in a multi-part message', b('am.snmp InMsgs C32 1', 'am.snmp InMsgsSize')],
  ]
  for (const [what, parts] of bad)
    it(`counts ${what} as malformed and does not forward it`, () => {
      const s = setup()
      assert.equal(s.ingest.handle('mx', parts), false)
      assert.equal(s.stats.malformed, 1)
      assert.equal(s.stats.droppedMalformed, 1)
      assert.equal(s.errors.length, 1)
    })

  it('still applies the good frames of a message that has a bad one', () => {
    const s = setup()
    s.ingest.handle('mx', b('am.snmp InMsgs C32 1', 'garbage'))
    assert.equal(s.totals.get('InMsgs')?.value, '1')
  })

  it('survives 2000 random and truncated frames without throwing', () => {
    const s = setup()
    const valid = 'am.st 4321 1700000100.004 m 04321-01'
    for (let i = 0; i < 2000; i++) {
      const r = randomBytes(1 + (i % 97))
      const cut = Buffer.from(valid.slice(0, i % valid.length))
      s.ingest.handle('mx', i % 2 ? [r] : [cut, r])
    }
    assert.ok(s.stats.malformed > 1500)
    assert.equal(s.stats.messagesIn, 2000)
  })
})

describe('fast path', () => {
  const frames = [
    'am.st 4321 1700000100.000 A',
    'am.st 4321 1700000100 A',
    'am.st 4321 1700000100. A',
    'am.st 4321 2110 .',
    'am.st 4321 2110 -',
    'am.st 4321 45 = 04321-01',
    'am.st 4321 45 = 04321-01 extra',
    'am.st 4321  45 V 04321-01',
    'am.st 4321\t45 V',
    ' am.st 4321 45 V',
    'am.st 4321 45 V 04321-01 ',
    'am.st 4321 -45 V',
    'am.st 4321 4.5.6 V',
    'am.st 4321 45',
    'am.st 4321 45 exiting',
    'am.snmp InMsgs C32 1',
    'am.snmp sysContact STR ',
    'am.snmp sysContact STR',
    'am.snmp sysName STR mx1 . example',
    'am.snmp sysName STR  leading',
    'am.snmp sysName STR trailing  ',
    'am.snmp sysName STR tab\there',
    'am.snmp sysName STR \u017elu\u0165ou\u010dk\u00fd',
    'am.snmp FLUSH',
    'am.snmp FLUSH C32 1',
    'am.snmp Odd ? ?',
    'am.snmp InMsgs X32 1',
    'am.snmp  InMsgs C32 1',
    'am.nanny ProcBusy0 G32 3',
    'am.nanny ProcGone C32 1',
    'am.proc.busy 1 2',
    'am.stx 1 2 3',
  ]
  for (const f of frames)
    it(`parses ${JSON.stringify(f)} exactly as parseFrame`, () => {
      assert.deepEqual(parseFrameFast(Buffer.from(f)), parseFrame(f))
    })
})
