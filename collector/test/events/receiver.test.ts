import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { Push } from 'zeromq'
import { createLogger } from '@vigil/protocol'
import { createEventsReceiver, parseEvent, MAX_EVENT_BYTES } from '../../src/events/receiver.ts'
import { createBusStats } from '../../src/bus/stats.ts'
import { createDeadLetter } from '../../src/sinks/dead-letter.ts'
import type { EventSink } from '../../src/sinks/sink.ts'
import { tmpDir } from '../../../test/harness/index.ts'

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

describe('events receiver', () => {
  it('shows each event to the live observer at once and writes the stores in batches, in order, flushing at stop', async (t) => {
    const dir = await tmpDir(t, 'collector-receiver')
    const endpoint = `ipc://${join(dir, 'events.sock')}`
    const seen: number[] = []
    const writes: number[][] = []
    const store: EventSink = {
      name: 'recording',
      async write(batch) {
        writes.push(batch.map((e) => Number(e.event.n)))
      },
      async close() {},
    }
    const receiver = createEventsReceiver({
      endpoint,
      sinks: [store],
      deadLetter: createDeadLetter(dir),
      stats: createBusStats(),
      log: createLogger({ name: 't', level: 'fatal', write: () => {} }),
      onEvent: (e) => seen.push(Number(e.event.n)),
      batchMs: 1000,
    })
    await receiver.start()
    const push = new Push({ linger: 0 })
    push.connect(endpoint)
    t.after(() => push.close())
    for (let n = 1; n <= 20; n++) await push.send(JSON.stringify({ n }))
    const until = Date.now() + 5000
    while (seen.length < 20 && Date.now() < until) await new Promise((r) => setTimeout(r, 10))
    assert.deepEqual(
      seen,
      Array.from({ length: 20 }, (_, i) => i + 1),
    )
    assert.ok(writes.length === 0 || writes.flat().length < 20, 'the stores wait for the batch')
    await receiver.stop()
    assert.deepEqual(
      writes.flat(),
      Array.from({ length: 20 }, (_, i) => i + 1),
    )
    assert.ok(writes.length < 20, `${writes.length} writes for 20 events`)
  })
})
