import { it } from 'node:test'
import assert from 'node:assert/strict'
import { createStateEncoder } from '../src/state-encoder.ts'

it('reproduces the life of one child from spec §2.2', () => {
  const e = createStateEncoder(4321)
  const t0 = 1700000100.0
  const got = [
    e.encode(' ', undefined, 1700000000.123),
    e.encode('A', undefined, t0),
    e.encode('b', undefined, t0 + 0.001),
    e.encode('m', '04321-01', 1700000100.004),
    e.encode('d', '04321-01', 1700000100.006),
    e.encode('=', '04321-01', 1700000100.049),
    e.encode('S', '04321-01', 1700000100.164),
    e.encode('F', '04321-01', 1700000102.034),
    e.encode('.', '04321-01', 1700000102.114),
    e.encode(' ', undefined, 1700000102.154),
  ]
  assert.deepEqual(got, [
    'am.st 4321 1700000000.123 -',
    'am.st 4321 1700000100.000 A',
    'am.st 4321 1 b',
    'am.st 4321 1700000100.004 m 04321-01',
    'am.st 4321 2 d 04321-01',
    'am.st 4321 45 = 04321-01',
    'am.st 4321 160 S 04321-01',
    'am.st 4321 2030 F 04321-01',
    'am.st 4321 2110 .',
    'am.st 4321 2150 -',
  ])
})

it('clamps a clock that went backwards to 0 ms', () => {
  const e = createStateEncoder(7)
  e.encode('A', undefined, 1700000000)
  assert.equal(e.encode('b', undefined, 1699999999), 'am.st 7 0 b')
})
