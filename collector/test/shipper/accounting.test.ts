import { test } from 'node:test'
import assert from 'node:assert/strict'
import { estimateTrimmed, toQueueStatus } from '../../src/shipper/accounting.ts'

const NOW = Date.UTC(2025, 9, 9, 9, 0, 0)

test('queue status: in-flight sum, liveness, oldest queued age, unaccounted', () => {
  const q = toQueueStatus(
    'amavis-log',
    {
      queued: 40,
      head: Buffer.from(JSON.stringify({ '@timestamp': '2025-10-09T08:59:30.1000Z' })),
      deadLetters: 3,
      shippers: [
        { id: 'a', inflight: 10, heartbeatTtlMs: 4000 },
        { id: 'b', inflight: 5, heartbeatTtlMs: -2 },
      ],
      totals: { taken: 100, indexed: 82, dead_lettered: 3, redelivered: 7 },
    },
    NOW,
  )
  assert.equal(q.inFlight, 15)
  assert.deepEqual(
    q.shippers.map((s) => [s.id, s.alive]),
    [
      ['a', true],
      ['b', false],
    ],
  )
  assert.equal(q.oldestQueuedAt, '2025-10-09T08:59:31.000Z')
  assert.equal(q.oldestQueuedAgeSecs, 29)
  assert.deepEqual(q.totals, { taken: 100, indexed: 82, deadLettered: 3, redelivered: 7, takenOver: 0 })
  assert.equal(q.unaccounted, 0)
})

test('a poison head has no age; an empty Redis gives zeros', () => {
  const q = toQueueStatus('k', { queued: 1, head: Buffer.from('{oops'), deadLetters: 0, shippers: [], totals: {} }, NOW)
  assert.equal(q.oldestQueuedAgeSecs, null)
  assert.equal(q.unaccounted, 0)
})

test('trimmed is an estimate: produced − (taken + queued), never negative', () => {
  const q = toQueueStatus(
    'k',
    { queued: 10, head: null, deadLetters: 0, shippers: [], totals: { taken: 80, indexed: 80 } },
    NOW,
  )
  const e = estimateTrimmed(100, q)
  assert.equal(e.trimmed, 10)
  assert.equal(e.estimated, true)
  assert.match(e.note, /estimated/)
  assert.equal(estimateTrimmed(50, q).trimmed, 0)
})
