import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFile, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { tmpDir } from '../../../test/harness/index.ts'
import { createRingSink } from '../../src/sinks/ring.ts'
import { createNdjsonFileSink, eventDay } from '../../src/sinks/ndjson-file.ts'
import { createDeadLetter } from '../../src/sinks/dead-letter.ts'
import type { StoredEvent } from '../../src/sinks/sink.ts'

const ev = (id: number, ts?: string): StoredEvent => {
  const event: Record<string, unknown> = { log_id: `0000${id}-01` }
  if (ts) event['@timestamp'] = ts
  return { raw: JSON.stringify(event), event, receivedAt: 1700000000 + id }
}

describe('ring sink', () => {
  it('keeps the newest N events and returns them newest first', async () => {
    const ring = createRingSink(3)
    await ring.write([ev(1), ev(2)])
    await ring.write([ev(3), ev(4), ev(5)])
    assert.equal(ring.size, 3)
    assert.deepEqual(
      ring.recent(10).map((e) => e.event.log_id),
      ['00005-01', '00004-01', '00003-01'],
    )
    assert.deepEqual(
      ring.recent(1).map((e) => e.event.log_id),
      ['00005-01'],
    )
    assert.deepEqual(ring.recent(0), [])
  })
})

describe('NDJSON file sink', () => {
  const days: [string | undefined, number, string][] = [
    ['2024-01-01T23:59:59.999Z', 1, '2024-01-01'],
    ['not a timestamp', 1, '2023-11-14'],
    [undefined, 1, '2023-11-14'],
  ]
  for (const [ts, id, day] of days)
    it(`files an event with @timestamp ${JSON.stringify(ts)} under ${day}`, () =>
      assert.equal(eventDay(ev(id, ts)), day))

  it('appends one line per event to the file of its day', async (t) => {
    const dir = await tmpDir(t, 'collector-sink')
    const sink = createNdjsonFileSink(join(dir, 'events'))
    t.after(() => sink.close())
    await sink.write([ev(1, '2024-01-01T10:00:00.000Z'), ev(2, '2024-01-02T10:00:00.000Z')])
    await sink.write([ev(3, '2024-01-01T11:00:00.000Z')])
    assert.equal(
      await readFile(join(dir, 'events', '2024-01-01.ndjson'), 'utf8'),
      `${ev(1, '2024-01-01T10:00:00.000Z').raw}\n${ev(3, '2024-01-01T11:00:00.000Z').raw}\n`,
    )
    assert.equal(
      await readFile(join(dir, 'events', '2024-01-02.ndjson'), 'utf8'),
      `${ev(2, '2024-01-02T10:00:00.000Z').raw}\n`,
    )
  })
})

describe('NDJSON file sink keeps files open', () => {
  it('starts a new file within a minute when an admin removed the open one, and closes what it holds', async (t) => {
    const dir = await tmpDir(t, 'collector-sink-reopen')
    const events = join(dir, 'events')
    let clock = 1_000_000
    const sink = createNdjsonFileSink(events, { now: () => clock })
    t.after(() => sink.close())
    const day = '2024-01-01T10:00:00.000Z'
    await sink.write([ev(1, day)])
    await rm(join(events, '2024-01-01.ndjson'))
    await sink.write([ev(2, day)]) // still the removed inode
    clock += 61_000
    await sink.write([ev(3, day)])
    assert.equal(await readFile(join(events, '2024-01-01.ndjson'), 'utf8'), `${ev(3, day).raw}\n`)
    // Many days: at most a few files open, every line in its file.
    for (let d = 10; d < 20; d++) await sink.write([ev(d, `2024-02-${d}T00:00:00.000Z`)])
    await sink.close()
    assert.equal((await readdir(events)).length, 11)
    assert.equal(
      await readFile(join(events, '2024-02-15.ndjson'), 'utf8'),
      `${ev(15, '2024-02-15T00:00:00.000Z').raw}\n`,
    )
  })
})

describe('dead letter', () => {
  it('records the error and the raw bytes, base64 when not UTF-8, truncated above 256 kB', async (t) => {
    const dir = await tmpDir(t, 'collector-dl')
    const dl = createDeadLetter(dir)
    await dl.add(Buffer.from('{"x":'), 'invalid JSON', 1700000000)
    await dl.add(Buffer.from([0xff]), 'not valid UTF-8', 1700000001)
    await dl.add(Buffer.alloc(300 * 1024, 0x61), 'too big', 1700000002)
    const lines = (await readFile(dl.path, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    assert.deepEqual(lines[0], {
      received_at: '2023-11-14T22:13:20.000Z',
      error: 'invalid JSON',
      bytes: 5,
      raw: '{"x":',
    })
    assert.equal(lines[1].raw_base64, '/w==')
    assert.equal(lines[2].truncated, true)
    assert.equal(lines[2].raw.length, 256 * 1024)
  })
})
