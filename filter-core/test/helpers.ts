// Test helpers for filter-core: a filter on free loopback ports with a private home, a ZMQ SUB
// bound at its inner endpoint (standing in for msg-forwarder), and frame collection.
import { join } from 'node:path'
import { Subscriber, Router } from 'zeromq'
import {
  commonConfigSchema,
  createLogger,
  parseMessage,
  type CommonConfig,
  type Frame,
  type Logger,
} from '@vigil/protocol'
import { filterConfigSchema, type FilterConfig } from '../src/config.ts'
import { createFilter, type Filter } from '../src/app.ts'
import { freePort, tmpDir, type Owner } from '../../test/harness/index.ts'

export interface Bus {
  endpoint: string
  /** Every message received so far: its frames as strings. */
  messages: string[][]
  frames(): Frame[]
  /** Resolves when pred holds for the messages (polling), or rejects after timeoutMs. */
  waitFor(pred: (msgs: string[][]) => boolean, timeoutMs?: number, what?: string): Promise<void>
  close(): Promise<void>
}

export async function startBus(t: Owner & { after(fn: () => unknown): void }, endpoint: string): Promise<Bus> {
  const sub = new Subscriber({ linger: 0, receiveHighWaterMark: 0 })
  await sub.bind(endpoint)
  sub.subscribe()
  const messages: string[][] = []
  let closed = false
  const loop = (async () => {
    try {
      for await (const parts of sub) messages.push(parts.map((p) => p.toString('utf8')))
    } catch {
      /* closed */
    }
  })()
  const bus: Bus = {
    endpoint,
    messages,
    frames: () => messages.flatMap((m) => parseMessage(m).frames),
    async waitFor(pred, timeoutMs = 15000, what = 'bus messages') {
      const until = Date.now() + timeoutMs
      while (!pred(messages)) {
        if (Date.now() > until) throw new Error(`timed out waiting for ${what}; got ${messages.length} messages`)
        await new Promise((r) => setTimeout(r, 25))
      }
    },
    async close() {
      if (closed) return
      closed = true
      sub.close()
      await loop
    },
  }
  t.after(() => bus.close())
  return bus
}

export interface EventsPull {
  events: Record<string, unknown>[]
  raw: string[]
  waitFor(n: number, timeoutMs?: number): Promise<Record<string, unknown>[]>
  close(): Promise<void>
}

export async function startEventsPull(t: { after(fn: () => unknown): void }, endpoint: string): Promise<EventsPull> {
  // The collector's side of the acknowledged events channel (ADR 0015): a ROUTER that acks each id.
  const pull = new Router({ linger: 0 })
  await pull.bind(endpoint)
  const raw: string[] = []
  const events: Record<string, unknown>[] = []
  const loop = (async () => {
    try {
      for await (const [peer, id, m] of pull) {
        raw.push(m.toString('utf8'))
        events.push(JSON.parse(m.toString('utf8')))
        await pull.send([peer, 'ACK', id])
      }
    } catch {
      /* closed */
    }
  })()
  let closed = false
  const p: EventsPull = {
    raw,
    events,
    async waitFor(n, timeoutMs = 15000) {
      const until = Date.now() + timeoutMs
      while (events.length < n) {
        if (Date.now() > until) throw new Error(`timed out waiting for ${n} events; got ${events.length}`)
        await new Promise((r) => setTimeout(r, 25))
      }
      return events
    },
    async close() {
      if (closed) return
      closed = true
      pull.close()
      await loop
    },
  }
  t.after(() => p.close())
  return p
}

export interface TestFilter {
  filter: Filter
  common: CommonConfig
  cfg: FilterConfig
  home: string
  port: number
  logs: string[]
  log: Logger
}

export interface TestFilterOptions {
  home?: string
  filter?: Record<string, unknown>
  common?: Record<string, unknown>
  forwardPort?: number
  listen?: unknown[]
}

/** Starts a filter (master + workers) with a private home; stopped after the test. */
export async function startTestFilter(
  t: Owner & { after(fn: () => unknown): void },
  opts: TestFilterOptions = {},
): Promise<TestFilter> {
  const home = opts.home ?? (await tmpDir(t, 'vigil-filter-'))
  const port = await freePort()
  const common = commonConfigSchema.parse({
    home,
    myhostname: 'filter.test',
    log_level: 'info',
    ...(opts.common ?? {}),
  })
  const cfg = filterConfigSchema.parse({
    listen: opts.listen ?? [`127.0.0.1:${port}`],
    forward_method: `smtp:[127.0.0.1]:${opts.forwardPort ?? 9}`,
    notify_method: `smtp:[127.0.0.1]:${opts.forwardPort ?? 9}`,
    zmq_slow_joiner_ms: 400,
    max_servers: 2,
    ...(opts.filter ?? {}),
  })
  const logs: string[] = []
  const log = createLogger({ name: 'filter', level: 'debug', write: (l) => logs.push(l) })
  const filter = createFilter(common, cfg, { log })
  t.after(() => filter.stop())
  await filter.start()
  return { filter, common, cfg, home, port, logs, log }
}

export function innerEndpoint(home: string): string {
  return `ipc://${join(home, 'amavisd-zmq.sock')}`
}
export function eventsEndpoint(home: string): string {
  return `ipc://${join(home, 'vigil-events.sock')}`
}

/** Waits until every worker has published its start-up `-` state (workers are ready). */
export async function waitWorkersReady(bus: Bus, n: number): Promise<void> {
  await bus.waitFor(
    (msgs) => new Set(msgs.filter((m) => /^am\.st \d+ \S+ -$/.test(m[0])).map((m) => m[0].split(' ')[1])).size >= n,
    20000,
    `${n} workers ready`,
  )
}

export interface FilterStack extends TestFilter {
  /** The SUB bound at the filter's inner endpoint. */
  bus: Bus
}

export type FilterStackOptions = Omit<TestFilterOptions, 'home'> & {
  /** Also bind an events PULL at the filter's events endpoint (before the filter starts). */
  events?: boolean
}

/**
 * The usual integration start-up: a private home, a bus at its inner endpoint, optionally an events
 * PULL, the filter itself, then a wait until all its `max_servers` workers and warm spares are ready.
 */
export async function startFilterStack(
  t: Owner & { after(fn: () => unknown): void },
  opts: FilterStackOptions & { events: true },
): Promise<FilterStack & { pull: EventsPull }>
export async function startFilterStack(
  t: Owner & { after(fn: () => unknown): void },
  opts?: FilterStackOptions & { events?: false },
): Promise<FilterStack>
export async function startFilterStack(
  t: Owner & { after(fn: () => unknown): void },
  opts: FilterStackOptions = {},
): Promise<FilterStack & { pull?: EventsPull }> {
  const { events, ...filterOpts } = opts
  const home = await tmpDir(t, 'vigil-filter-')
  const bus = await startBus(t, innerEndpoint(home))
  const pull = events ? await startEventsPull(t, eventsEndpoint(home)) : undefined
  const f = await startTestFilter(t, { home, ...filterOpts })
  await waitWorkersReady(bus, f.cfg.max_servers + f.cfg.min_spare_servers)
  return { ...f, bus, pull }
}
