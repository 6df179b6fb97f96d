import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createLogger } from '@vigil/protocol'
import { createCachedSource } from '../src/cached-source.ts'

function setup(opts: { ttlMs: number; waitMs?: number; refresh?: () => Promise<void> }) {
  let t = 1_000_000
  const lines: string[] = []
  const calls = { n: 0 }
  const src = createCachedSource({
    name: 'am.snmp',
    ttlMs: opts.ttlMs,
    fastPollGapMs: 1500,
    fastPollExtendMs: 4000,
    waitMs: opts.waitMs ?? 50,
    retryMs: 1000,
    log: createLogger({ name: 't', write: (l) => lines.push(l) }),
    now: () => t,
    refresh:
      opts.refresh ??
      (async () => {
        calls.n++
      }),
  })
  return { src, lines, calls, advance: (ms: number) => (t += ms) }
}

describe('cached data source', () => {
  it('refreshes on first use, then only after the TTL', async () => {
    const s = setup({ ttlMs: 4000 })
    await s.src.touch()
    s.advance(3000)
    await s.src.touch()
    assert.equal(s.calls.n, 1)
    s.advance(5000)
    await s.src.touch()
    assert.equal(s.calls.n, 2)
  })

  it('extends the TTL by 4 s while queries come less than 1.5 s apart, and drops the extension after a 4 s gap', async () => {
    const s = setup({ ttlMs: 4000 })
    await s.src.touch() // refresh at t0
    for (let i = 0; i < 5; i++) {
      s.advance(1000)
      await s.src.touch() // fast poll: t0+5s is within 4+4 s
    }
    assert.equal(s.calls.n, 1)
    s.advance(4100) // gap > 4 s: fast poll off, age 9.1 s > 4 s
    await s.src.touch()
    assert.equal(s.calls.n, 2)
  })

  it('answers from cache after waitMs when a refresh hangs, and logs the staleness once', async () => {
    let release!: () => void
    const s = setup({ ttlMs: 0, waitMs: 20, refresh: () => new Promise<void>((r) => (release = r)) })
    const began = Date.now()
    await s.src.touch()
    await s.src.touch()
    assert.ok(Date.now() - began < 1000)
    assert.equal(s.lines.filter((l) => l.includes('stale cache')).length, 1)
    assert.equal(s.src.stats().staleAnswers, 2)
    release()
    await s.src.idle()
  })

  it('keeps serving after a failed refresh without retrying more than once per retry interval', async () => {
    let n = 0
    const s = setup({
      ttlMs: 0,
      refresh: async () => {
        n++
        throw new Error('responder down')
      },
    })
    await s.src.touch()
    await s.src.touch()
    await s.src.touch()
    assert.equal(n, 1)
    s.advance(1500)
    await s.src.touch()
    assert.equal(n, 2)
    assert.equal(s.lines.filter((l) => l.includes('refresh failed')).length, 1)
  })
})
