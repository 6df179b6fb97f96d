import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { computeCounterView, parseResponderReply } from '../src/counters.ts'

describe('counter rates', () => {
  const a = parseResponderReply(
    [
      'am.snmp InMsgs C32 100',
      'am.snmp TimeElapsedSpamCheck C32 5000',
      'am.snmp TimeElapsedTotal C32 9000',
      'am.snmp sysContact STR a b',
      'am.snmp Bad ? ?',
    ],
    1000,
  )
  const b = parseResponderReply(
    ['am.snmp InMsgs C32 120', 'am.snmp TimeElapsedSpamCheck C32 7000', 'am.snmp TimeElapsedTotal C32 12000'],
    1004,
  )

  it('reads numeric variables and skips text and undefined ones', () => {
    assert.deepEqual([...a.values.keys()], ['InMsgs', 'TimeElapsedSpamCheck', 'TimeElapsedTotal'])
  })

  it('computes messages per second and milliseconds per message by stage', () => {
    assert.deepEqual(computeCounterView(a, b), {
      msgsPerSec: 5,
      msPerMsg: [
        ['spam', 100],
        ['total', 150],
      ],
      totalMsgs: 120,
    })
  })

  it('gives no rate for the first poll nor across a responder restart', () => {
    assert.equal(computeCounterView(undefined, a).msgsPerSec, undefined)
    assert.equal(computeCounterView(b, { atSecs: 1010, values: new Map([['InMsgs', 3]]) }).msgsPerSec, undefined)
  })
})
