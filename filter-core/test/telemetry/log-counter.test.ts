// LogLines/LogEntries* as amavis counts them: entries actually written, at their amavis level,
// from any part of the worker; the message's am.snmp takes what was written since the last one.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createLogger } from '@vigil/protocol'
import { createLogCounter } from '../../src/telemetry/log-counter.ts'

test('entries written are counted at their amavis level; entries below the log level are not', () => {
  const lines: string[] = []
  const c = createLogCounter(createLogger({ name: 'w', level: 'info', write: (l) => lines.push(l) }))
  c.log.fatal('f')
  c.log.error('e')
  c.log.warn('w')
  c.log.info('i')
  c.log.debug('not written')
  c.log.trace('not written')
  assert.equal(lines.length, 4)
  assert.deepEqual(c.drain(), [-3, -2, -1, 0])
  assert.deepEqual(c.drain(), [], 'drain empties the counter')
})

test("a child logger's entries go to the same counter", () => {
  const c = createLogCounter(createLogger({ name: 'w', level: 'trace', write: () => {} }))
  const child = c.log.child('smtp')
  child.debug('d')
  c.log.trace('t')
  child.child('deeper').warn('w')
  assert.deepEqual(c.drain(), [2, 5, -1])
  assert.equal(child.isEnabled('trace'), true)
})
