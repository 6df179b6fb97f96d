import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import {
  formatProcList,
  formatSnmpFrame,
  formatStateFrame,
  isParseError,
  parseFrame,
  parseMessage,
  perlSplit,
  MAX_FRAME_BYTES,
} from '../src/frames.ts'

describe('perlSplit', () => {
  const cases: Array<[string, number, string[]]> = [
    ['am.st 1 2 A', 0, ['am.st', '1', '2', 'A']],
    ['  am.st   1  2 A  ', 0, ['am.st', '1', '2', 'A']],
    ['am.snmp sysDescr STR amavis-2.13.0 (20230106)', 4, ['am.snmp', 'sysDescr', 'STR', 'amavis-2.13.0 (20230106)']],
    ['am.snmp sysContact STR ', 4, ['am.snmp', 'sysContact', 'STR', '']],
    ['am.proc.idle ', 0, ['am.proc.idle']],
  ]
  for (const [input, limit, expected] of cases) {
    it(`splits ${JSON.stringify(input)} with limit ${limit} as Perl does`, () => {
      assert.deepEqual(perlSplit(input, limit), expected)
    })
  }
})

describe('parseFrame', () => {
  it('reads an absolute am.st time and the task id', () => {
    assert.deepEqual(parseFrame('am.st 4321 1700000100.004 m 04321-01'), {
      topic: 'am.st',
      pid: 4321,
      time: { kind: 'abs', secs: 1700000100.004, raw: '1700000100.004' },
      state: 'm',
      taskId: '04321-01',
    })
  })
  it('reads a relative am.st time in milliseconds and maps - to the blank idle state', () => {
    const f = parseFrame('am.st 4321 2150 -')
    assert.ok(!isParseError(f) && f.topic === 'am.st')
    assert.deepEqual(f.time, { kind: 'rel', ms: 2150, raw: '2150' })
    assert.equal(f.state, ' ')
    assert.equal(f.taskId, undefined)
  })
  it('keeps spaces inside an SNMP string value', () => {
    assert.deepEqual(parseFrame('am.snmp sysDescr STR amavis-2.13.0 (20230106)'), {
      topic: 'am.snmp',
      name: 'sysDescr',
      type: 'STR',
      value: 'amavis-2.13.0 (20230106)',
    })
  })
  it('reads an empty string value', () => {
    assert.deepEqual(parseFrame('am.snmp sysContact STR '), {
      topic: 'am.snmp',
      name: 'sysContact',
      type: 'STR',
      value: '',
    })
  })
  it('reads FLUSH on the SNMP channel', () => {
    assert.deepEqual(parseFrame('am.snmp FLUSH'), { topic: 'am.snmp', name: 'FLUSH' })
  })
  it('reads the responder undefined-value form', () => {
    assert.deepEqual(parseFrame('am.nanny ProcGone ? ?'), {
      topic: 'am.nanny',
      name: 'ProcGone',
      type: '?',
      value: '?',
    })
  })
  it('reads PID lists, including an empty one', () => {
    assert.deepEqual(parseFrame('am.proc.busy 4307 4308'), { topic: 'am.proc.busy', pids: [4307, 4308] })
    assert.deepEqual(parseFrame(Buffer.from('am.proc.idle ')), { topic: 'am.proc.idle', pids: [] })
  })
  const malformed: Array<[string, string | Buffer]> = [
    ['an unknown topic', 'am.exit 1 2'],
    ['an empty frame', ''],
    ['a truncated am.st', 'am.st 4321'],
    ['a non-numeric pid', 'am.st abc 1700000000.000 A'],
    ['a non-numeric time', 'am.st 12 soon A'],
    ['an unknown SNMP type', 'am.snmp InMsgs X99 1'],
    ['a truncated SNMP frame', 'am.snmp InMsgs'],
    ['a bad PID in a list', 'am.proc.busy 1 x'],
    ['non-UTF-8 bytes', Buffer.from([0x61, 0x6d, 0xff, 0xfe, 0x20, 0x31])],
    ['a 1 MB frame', 'am.st 1 2 A ' + 'x'.repeat(1024 * 1024)],
  ]
  for (const [what, input] of malformed) {
    it(`returns a ParseError, never throws, for ${what}`, () => {
      const r = parseFrame(input)
      assert.ok(isParseError(r), `expected a ParseError, got ${JSON.stringify(r).slice(0, 100)}`)
      assert.ok(r.frame.length <= 81)
    })
  }
  it('rejects frames over MAX_FRAME_BYTES', () => {
    assert.ok(isParseError(parseFrame('am.proc.busy ' + '1 '.repeat(MAX_FRAME_BYTES))))
  })
  it('parses every part of a multi-part message and separates the bad ones', () => {
    const r = parseMessage(['am.snmp InMsgs C32 1', 'garbage', 'am.snmp InMsgsSize C64 2345'])
    assert.equal(r.frames.length, 2)
    assert.equal(r.errors.length, 1)
  })
})

describe('formatters', () => {
  it('writes the idle state as - and omits an absent task id', () => {
    assert.equal(formatStateFrame(4321, '1700000000.123', ' '), 'am.st 4321 1700000000.123 -')
    assert.equal(formatStateFrame(4321, '2', 'd', '04321-01'), 'am.st 4321 2 d 04321-01')
  })
  it('writes SNMP frames', () => {
    assert.equal(formatSnmpFrame('am.snmp', 'InMsgs', 'C32', 1), 'am.snmp InMsgs C32 1')
    assert.equal(formatSnmpFrame('am.snmp', 'sysContact', 'STR', ''), 'am.snmp sysContact STR ')
  })
  it('sorts PID lists numerically and keeps the trailing space of an empty list', () => {
    assert.equal(formatProcList('am.proc.busy', [4308, 10, 4307]), 'am.proc.busy 10 4307 4308')
    assert.equal(formatProcList('am.proc.idle', []), 'am.proc.idle ')
  })
})
