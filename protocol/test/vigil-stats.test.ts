import { test } from 'node:test'
import assert from 'node:assert/strict'
import { formatVigilStats, parseVigilStats } from '../src/vigil-stats.ts'

test('formats and parses a vigil.stats record', () => {
  const line = formatVigilStats({
    pid: 4321,
    smtp_protocol_errors: { line_too_long: 1, bad_sequence: 2 },
    events_dead_lettered: 3,
  })
  assert.equal(
    line,
    'vigil.stats {"pid":4321,"smtp_protocol_errors":{"line_too_long":1,"bad_sequence":2},"events_dead_lettered":3}',
  )
  assert.deepEqual(parseVigilStats(Buffer.from(line)), {
    pid: 4321,
    smtp_protocol_errors: { line_too_long: 1, bad_sequence: 2 },
    events_dead_lettered: 3,
  })
})

const bad: [string, RegExp][] = [
  ['am.st 1 2 -', /not a vigil\.stats/],
  ['vigil.stats {', /not JSON/],
  ['vigil.stats {"pid":"x"}', /integer pid/],
  ['vigil.stats {"pid":1,"smtp_protocol_errors":{"made_up":1}}', /made_up/],
  ['vigil.stats {"pid":1,"smtp_protocol_errors":{"bare_lf":-1}}', /bare_lf/],
  ['vigil.stats {"pid":1,"events_trimmed":"2"}', /events_trimmed/],
  ['vigil.stats {"pid":1,"events_produced":-1}', /events_produced/],
]
for (const [frame, why] of bad) {
  test(`rejects ${frame} without throwing`, () => {
    const r = parseVigilStats(frame)
    assert.ok('error' in r)
    assert.match((r as { error: string }).error, why)
  })
}
