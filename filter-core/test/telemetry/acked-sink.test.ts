// The acknowledged collector channel (ADR 0015) against a real libzmq ROUTER, as the collector
// binds it: an event counts as delivered only once acknowledged; the window overflows into the
// spool, not the dead-letter file; unacknowledged events are sent again (same id) after the
// collector comes back; what is left at close is spooled and sent by the next worker.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { Router } from 'zeromq'
import { commonConfigSchema, createLogger } from '@vigil/protocol'
import { tmpDir } from '../../../test/harness/index.ts'
import { createEventSink } from '../../src/telemetry/events.ts'

const quiet = createLogger({ name: 't', level: 'fatal', write: () => {} })
const until = async (pred: () => boolean, ms = 8000, what = 'condition') => {
  const end = Date.now() + ms
  while (!pred()) {
    if (Date.now() > end) throw new Error(`${what} not met in time`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** A collector stand-in: records [id, json] and acknowledges when told to. */
async function router(endpoint: string) {
  const sock = new Router({ linger: 0 })
  await sock.bind(endpoint)
  const got: { peer: Buffer; id: string; json: string }[] = []
  void (async () => {
    try {
      for await (const [peer, id, json] of sock) got.push({ peer, id: id.toString(), json: json.toString() })
    } catch {}
  })()
  return {
    got,
    ack: async (items: { peer: Buffer; id: string }[]) => {
      for (const it of items) await sock.send([it.peer, 'ACK', it.id])
    },
    close: () => sock.close(),
  }
}

for (const transport of ['zmtp', 'libzmq'] as const)
  test(`events are delivered once acknowledged; overflow is spooled, resent after a reconnect and after a restart (${transport})`, async (t) => {
    const home = await tmpDir(t, 'vigil-ack-')
    const endpoint = `ipc://${join(home, 'events.sock')}`
    const common = commonConfigSchema.parse({ home })
    const dl = join(home, 'dl.ndjson')
    const opts = { common, eventsEndpoint: endpoint, deadLetterPath: dl, queueLimit: 2, log: quiet, transport }
    const sink = createEventSink({ ...opts, resendMs: 60_000, closeWaitMs: 200 })
    for (let i = 1; i <= 4; i++) sink.deliver(`{"n":${i}}`)
    assert.equal(sink.stats().queued, 2)
    assert.equal(sink.stats().spooled, 2, 'the overflow goes to the spool')
    assert.equal(sink.stats().deadLettered, 0)
    assert.equal(existsSync(dl), false)

    let r = await router(endpoint)
    await until(() => r.got.length >= 2, 8000, 'first two events')
    assert.deepEqual(
      r.got.map((g) => g.json),
      ['{"n":1}', '{"n":2}'],
    )
    assert.equal(sink.stats().delivered, 0, 'sent is not delivered')
    await r.ack(r.got)
    await until(() => sink.stats().delivered === 2, 5000, 'two acks')
    // the window has room again: the spooled two are taken back and sent
    await until(() => r.got.length >= 4, 8000, 'spooled events sent')
    assert.deepEqual(
      r.got.slice(2).map((g) => g.json),
      ['{"n":3}', '{"n":4}'],
    )
    const unacked = r.got.slice(2)

    // The collector dies without acknowledging 3 and 4: after it is back, both come again, same ids.
    r.close()
    await new Promise((res) => setTimeout(res, 300))
    r = await router(endpoint)
    await until(() => r.got.length >= 2, 8000, 'resent events')
    assert.deepEqual(
      r.got.map((g) => g.id),
      unacked.map((g) => g.id),
    )
    assert.ok((sink.stats().resent ?? 0) >= 2)
    await r.ack(r.got)
    await until(() => sink.stats().delivered === 4, 5000, 'four acks')

    // One more, never acknowledged: at close it is spooled, and the next sink (worker) sends it.
    sink.deliver('{"n":5}')
    await until(() => r.got.length >= 3, 5000, 'fifth event')
    const fifth = r.got[2]
    await sink.close()
    assert.equal(sink.stats().deadLettered, 0)
    assert.equal(readdirSync(join(home, 'events-spool')).filter((f) => f.endsWith('.ndjson')).length, 1)
    const next = createEventSink({ ...opts, closeWaitMs: 200 })
    t.after(() => next.close())
    await until(() => r.got.length >= 4, 8000, 'spool sent by the next worker')
    assert.equal(r.got[3].id, fifth.id)
    assert.equal(r.got[3].json, '{"n":5}')
    await r.ack([r.got[3]])
    await until(() => next.stats().delivered === 1, 5000, 'ack to the next worker')
    r.close()
  })
