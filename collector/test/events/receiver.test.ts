import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { Dealer } from 'zeromq'
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
    const push = new Dealer({ linger: 0 }) // one-frame messages: events without an id, not acknowledged
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

  it('acknowledges an id once the store took it, never stores a resent id twice, and acks malformed events it dead-lettered', async (t) => {
    const dir = await tmpDir(t, 'collector-receiver-ack')
    const endpoint = `ipc://${join(dir, 'events.sock')}`
    const stored: { n: number; token?: number }[] = []
    const store: EventSink = {
      name: 'recording',
      async write(batch) {
        for (const e of batch) stored.push({ n: Number(e.event.n), token: e.token })
      },
      async close() {},
    }
    const stats = createBusStats()
    const receiver = createEventsReceiver({
      endpoint,
      sinks: [store],
      deadLetter: createDeadLetter(dir),
      stats,
      log: createLogger({ name: 't', level: 'fatal', write: () => {} }),
      batchMs: 10,
    })
    await receiver.start()
    t.after(() => receiver.stop())
    const dealer = new Dealer({ linger: 0, routingId: 'filter-1' })
    dealer.connect(endpoint)
    t.after(() => dealer.close())
    const acks: string[] = []
    void (async () => {
      try {
        for await (const [kind, ...ids] of dealer) if (kind.toString() === 'ACK') acks.push(...ids.map(String))
      } catch {}
    })()
    const wait = async (pred: () => boolean, what: string) => {
      const until = Date.now() + 5000
      while (!pred()) {
        if (Date.now() > until) throw new Error(`timed out: ${what}`)
        await new Promise((r) => setTimeout(r, 10))
      }
    }
    await dealer.send(['a', '{"n":1}'])
    await dealer.send(['b', '{"n":2}'])
    await wait(() => stored.length === 2, 'two events stored')
    await new Promise((r) => setTimeout(r, 100))
    assert.deepEqual(acks, [], 'no ack before the store confirmed')
    await dealer.send(['a', '{"n":1}']) // resent while in flight
    await new Promise((r) => setTimeout(r, 100))
    receiver.stored(stored.map((s) => s.token!))
    await wait(() => acks.length === 2, 'two acks')
    assert.deepEqual(acks.sort(), ['a', 'b'])
    await dealer.send(['b', '{"n":2}']) // resent after it was stored (its ack was lost)
    await dealer.send(['c', '{"n":'])
    await wait(() => acks.length === 4, 'ack of the resend and of the malformed event')
    assert.deepEqual(acks.slice(2).sort(), ['b', 'c'])
    assert.deepEqual(
      stored.map((s) => s.n),
      [1, 2],
      'each id stored once',
    )
    assert.equal(stats.eventsDuplicates, 2)
    assert.equal(stats.eventsMalformed, 1)
    assert.equal(stats.eventsAcked, 4)
  })
})
