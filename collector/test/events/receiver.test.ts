import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { parseEvent, MAX_EVENT_BYTES } from '../../src/events/receiver.ts'

describe('parseEvent', () => {
  const bad: [string, Buffer, RegExp][] = [
    ['an empty frame', Buffer.alloc(0), /empty/],
    ['truncated JSON', Buffer.from('{"log_id":"1'), /invalid JSON/],
    ['a JSON array', Buffer.from('[1]'), /not a JSON object/],
    ['JSON null', Buffer.from('null'), /not a JSON object/],
    ['invalid UTF-8', Buffer.from([0x7b, 0xc3, 0x28, 0x7d]), /UTF-8/],
    ['an oversized event', Buffer.alloc(MAX_EVENT_BYTES + 1, 0x20), /exceeds/],
  ]
  for (const [what, raw, err] of bad)
    it(`rejects ${what}`, () => {
      const r = parseEvent(raw, 1)
      assert.ok('error' in r)
      assert.match(r.error, err)
    })

  it('keeps the raw text and the parsed object of a valid event', () => {
    const raw = '{"@timestamp":"2024-01-01T10:00:00.123Z","log_id":"04321-01","spam_score":-1.900}'
    const r = parseEvent(Buffer.from(raw), 1700000000)
    assert.ok(!('error' in r))
    assert.equal(r.raw, raw)
    assert.equal(r.event.log_id, '04321-01')
    assert.equal(r.receivedAt, 1700000000)
  })
})
