// Shared test setup: a collector on private ipc endpoints in a temp dir (no TCP ports needed,
// HTTP on an OS-assigned port), plus small zeromq clients acting as amavis children and tools.
import { join } from 'node:path'
import { Publisher, Request, Subscriber, Dealer } from 'zeromq'
import { commonConfigSchema, createLogger, type CommonConfig } from '@vigil/protocol'
import { collectorConfigSchema, type CollectorConfig } from '../src/config.ts'
import { createCollector } from '../src/app.ts'
import { tmpDir, type Owner } from '../../test/harness/index.ts'

export interface TestEnv {
  dir: string
  common: CommonConfig
  cfg: CollectorConfig
  logs: string[]
}

export function testConfig(
  dir: string,
  common: Record<string, unknown> = {},
  section: Record<string, unknown> = {},
): TestEnv {
  const c = commonConfigSchema.parse({
    home: dir,
    myhostname: 'mx-test',
    zmq: {
      inner: [`ipc://${join(dir, 'inner.sock')}`],
      outer: `ipc://${join(dir, 'outer.sock')}`,
      snmp: `ipc://${join(dir, 'snmp.sock')}`,
      events: `ipc://${join(dir, 'events.sock')}`,
    },
    ...common,
  })
  const cfg = collectorConfigSchema.parse({ http_listen: '127.0.0.1:0', nanny_interval_secs: 3600, ...section })
  return { dir, common: c, cfg, logs: [] }
}

export async function startCollector(t: Owner, env: TestEnv) {
  const log = createLogger({ name: 'collector', level: 'debug', write: (l) => env.logs.push(l) })
  const c = createCollector(env.common, env.cfg, { log })
  t.after(() => c.stop())
  await c.start()
  return c
}

/** A collector started on `testConfig(dir, common, section)` in a fresh temp dir `vigil-<prefix>-…`. */
export async function collectorInTmp(
  t: Owner,
  prefix: string,
  common: Record<string, unknown> = {},
  section: Record<string, unknown> = {},
) {
  const dir = await tmpDir(t, prefix)
  const env = testConfig(dir, common, section)
  const c = await startCollector(t, env)
  return { dir, env, c }
}

/**
 * An amavis child on `env`'s first inner endpoint and a subscriber (to `prefixes`) on its outer
 * one, synced with `probe` (see syncBus).
 */
export async function busClients(t: Owner, env: TestEnv, prefixes?: string[], probe?: string) {
  const pub = amavisChild(t, env.common.zmq.inner[0])
  const sub = outerSubscriber(t, env.common.zmq.outer, prefixes)
  await syncBus(pub, sub, probe)
  return { pub, sub }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes (then throws with `what`). */
export async function waitFor<T>(fn: () => T | Promise<T>, what: string, timeoutMs = 15000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await fn()
    if (v) return v as NonNullable<T>
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(20)
  }
}

/** A PUB socket as an amavisd child opens it (spec §1.3): LINGER 2000, SNDHWM 1000, connect. */
export function amavisChild(t: Owner, endpoint: string): Publisher {
  const pub = new Publisher({ linger: 2000, sendHighWaterMark: 1000, ipv6: endpoint.includes('[') })
  pub.connect(endpoint)
  t.after(() => {
    pub.linger = 0
    pub.close()
  })
  return pub
}

/** A SUB socket on the outer bus, as amavisd-status opens it. */
export function outerSubscriber(t: Owner, endpoint: string, prefixes: string[] = ['']): Subscriber {
  const sub = new Subscriber({ linger: 0, receiveTimeout: 15000, ipv6: endpoint.includes('[') })
  sub.connect(endpoint)
  for (const p of prefixes) sub.subscribe(p)
  t.after(() => sub.close())
  return sub
}

export function requester(t: Owner, endpoint: string): Request {
  const req = new Request({ linger: 0, receiveTimeout: 10000, sendTimeout: 10000 })
  req.connect(endpoint)
  t.after(() => req.close())
  return req
}

export function eventsPusher(t: Owner, endpoint: string): Dealer {
  const p = new Dealer({ linger: 2000 })
  p.connect(endpoint)
  t.after(() => {
    p.linger = 0
    p.close()
  })
  return p
}

export const text = (parts: Buffer[]) => parts.map((p) => p.toString('utf8'))

/**
 * Sends `probe` from `pub` until `sub` sees a message with that first frame (PUB/SUB slow-joiner),
 * then returns; messages seen meanwhile are discarded.
 */
export async function syncBus(pub: Publisher, sub: Subscriber, probe = 'vigil.sync'): Promise<void> {
  const deadline = Date.now() + 15000
  const old = sub.receiveTimeout
  sub.receiveTimeout = 100
  try {
    for (;;) {
      await pub.send(probe)
      try {
        for (;;) {
          const m = await sub.receive()
          if (m[0].toString() === probe) {
            // drain duplicates of the probe
            for (;;) {
              try {
                await sub.receive()
              } catch {
                return
              }
            }
          }
        }
      } catch {}
      if (Date.now() > deadline) throw new Error('bus did not connect within 15 s')
    }
  } finally {
    sub.receiveTimeout = old
  }
}
