import { it } from 'node:test'
import assert from 'node:assert/strict'
import { createLogger } from '../src/logger.ts'

it('writes one formatted line per enabled entry, with child names and fields', () => {
  const lines: string[] = []
  const log = createLogger({
    name: 'filter',
    level: 'info',
    write: (l) => lines.push(l),
    now: () => new Date(0),
    pid: 7,
  })
  log.debug('Hidden.')
  log.child('worker').info('Message passed.', { id: '00007-01', note: 'a b' })
  assert.deepEqual(lines, ['1970-01-01T00:00:00.000Z info filter/worker[7]: Message passed. id=00007-01 note="a b"'])
})

it('hands entries to a sink instead of formatting them, and still filters by level', () => {
  const got: unknown[] = []
  const log = createLogger({
    name: 'worker',
    level: 'warn',
    sink: (e) => got.push(e),
    write: () => assert.fail('no line'),
  })
  log.info('Hidden.')
  log.warn('Check failed.', { check: 'virus' })
  assert.deepEqual(got, [{ level: 'warn', name: 'worker', msg: 'Check failed.', fields: { check: 'virus' } }])
})
