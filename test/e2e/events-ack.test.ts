// Acceptance (issue #14 point 3): kill -9 of the collector under load loses and duplicates no event.
// `vigil collector` and `vigil filter` run as child processes on one temp home; smtp-source sends
// N messages through the filter to smtp-sink; once a third of them arrived the collector is
// SIGKILLed and started again. When the load is done, the search store (what /api/search, the
// dashboard and the live views read) holds exactly one event per accepted message. Embedded
// topology: the acknowledged events channel (ADR 0015); Redis topology: the filters RPUSH to a
// real Redis and the collector's shipper drains it with its in-flight list (ADR 0005); Redis itself
// killed -9 and restarted (append-only file) loses nothing either (the filters keep and retry).
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { eventsSocket, innerSocket } from '@vigil/protocol'
import {
  freePorts,
  runSmtpSource,
  spawnService,
  startRedis,
  startSmtpSink,
  tmpDir,
  waitFor,
  type ServiceProcess,
} from '../harness/index.ts'
import { needs, ROOT } from './stack.ts'

const N = 300

const answers = (port: number, path = '/api/status') =>
  fetch(`http://127.0.0.1:${port}${path}`).then(
    (r) => r.ok,
    () => false,
  )

function greets(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port })
    s.setTimeout(2000, () => s.destroy())
    s.once('data', (d) => (s.destroy(), resolve(String(d).startsWith('220'))))
    s.once('error', () => resolve(false))
    s.once('close', () => resolve(false))
  })
}

/** SIGKILL to a process and its children (the filter's workers, the collector's has none). */
function kill9(p: ServiceProcess): void {
  let children: string[] = []
  try {
    children = readFileSync(`/proc/${p.pid}/task/${p.pid}/children`, 'utf8').split(/\s+/).filter(Boolean)
  } catch {}
  for (const pid of [p.pid, ...children.map(Number)]) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {}
  }
}

/** Every stored event's mail_id, through the search API (pages of 500). */
async function storedMailIds(http: number): Promise<string[]> {
  const ids: string[] = []
  let after: string | undefined
  for (;;) {
    const qs = `size=500${after ? `&search_after=${encodeURIComponent(after)}` : ''}`
    const r = await fetch(`http://127.0.0.1:${http}/api/search?${qs}`)
    if (!r.ok) throw new Error(`search: ${r.status} ${await r.text()}`)
    const body = (await r.json()) as { hits: Record<string, unknown>[]; next?: unknown }
    for (const h of body.hits) ids.push(String(((h._source ?? h) as Record<string, unknown>).mail_id ?? ''))
    if (body.hits.length < 500 || body.next === undefined || body.next === null) return ids
    after = typeof body.next === 'string' ? body.next : JSON.stringify(body.next)
  }
}

const AOF = ['--appendonly', 'yes', '--appendfsync', 'always']

async function killUnderLoad(
  t: TestContext,
  topology: 'embedded' | 'redis',
  victim: 'collector' | 'redis' = 'collector',
): Promise<void> {
  // the services' child processes are unref'd: keep this test's event loop alive while it waits on them
  const keepAlive = setInterval(() => {}, 1000)
  t.after(() => clearInterval(keepAlive))
  const home = await tmpDir(t, `e2e-ack-${topology}`)
  const sink = await startSmtpSink(t)
  // Redis that keeps its list across kill -9 (as the compose one, which runs appendonly)
  const redis = topology === 'redis' ? await startRedis(t, { args: AOF }) : undefined
  const [filterPort, outer, snmp, http] = await freePorts(4)
  const config = {
    home,
    myhostname: 'ack.e2e.test',
    log_level: 'warn',
    zmq: {
      inner: [innerSocket(home)],
      outer: `tcp://127.0.0.1:${outer}`,
      snmp: `tcp://127.0.0.1:${snmp}`,
      events: eventsSocket(home),
    },
    ...(redis ? { storage_redis_dsn: [{ server: redis.server }] } : {}),
    filter: {
      listen: [`127.0.0.1:${filterPort}`],
      forward_method: `smtp:[127.0.0.1]:${sink.port}`,
      max_servers: 2,
      zmq_slow_joiner_ms: 200,
    },
    collector: { http_listen: `127.0.0.1:${http}`, nanny_interval_secs: 1 },
  }
  const configFile = join(home, 'vigil.yaml')
  writeFileSync(configFile, JSON.stringify(config))
  const start = (component: 'collector' | 'filter') =>
    spawnService({
      t,
      name: `vigil ${component}`,
      cmd: process.execPath,
      args: ['--import', 'tsx', join(ROOT, `${component === 'filter' ? 'filter-core' : component}/src/main.ts`)].concat(
        ['--config', configFile],
      ),
      cwd: ROOT,
      logFile: join(home, `${component}.log`),
      readyTimeoutMs: 60_000,
      ready: () => (component === 'filter' ? greets(filterPort) : answers(http)),
    })
  let collector = await start('collector')
  await start('filter')

  const began = Date.now()
  const load = runSmtpSource({ port: filterPort, count: N, sessions: 4, sizeBytes: 2000, timeoutMs: 80_000 })
  await waitFor(async () => ((await sink.messages()).length >= N / 3 ? true : undefined), {
    timeoutMs: 60_000,
    what: `${N / 3} messages through the filter`,
  })
  // Stopped for a second first, so events are surely in flight (sent, not acknowledged) when it dies.
  const target = victim === 'collector' ? collector : redis!.process
  const beforeStop = (await sink.messages()).length
  process.kill(target.pid, 'SIGSTOP')
  await new Promise((r) => setTimeout(r, 1000))
  // messages the filter accepted meanwhile have events the frozen receiver cannot have stored
  const duringStop = (await sink.messages()).length - beforeStop
  assert.ok(duringStop > 0, 'mail kept flowing while the receiver was frozen')
  if (victim === 'collector') {
    kill9(collector)
    await collector.exited
    await new Promise((r) => setTimeout(r, 500))
    collector = await start('collector')
  } else {
    // Redis killed -9 and started again on its port and data directory a second later: the
    // filters keep and retry what it did not take, the shipper resumes its in-flight list.
    kill9(redis!.process)
    await redis!.process.exited
    await new Promise((r) => setTimeout(r, 1000))
    const args = ['--port', String(redis!.port), '--bind', redis!.host, '--save', '', '--dir', redis!.dir, ...AOF]
    await spawnService({
      t,
      name: 'redis-server (restarted)',
      cmd: 'redis-server',
      args,
      cwd: redis!.dir,
      logFile: join(redis!.dir, 'redis-restarted.log'),
      readyTimeoutMs: 20_000,
      ready: () => redis!.command('PING').then((r) => r.startsWith('+PONG')),
    })
  }
  const src = await load
  assert.equal(src.code, 0, src.stderr)
  const accepted = (await sink.messages()).length
  assert.equal(accepted, N, 'every message accepted and forwarded')

  const ids = await waitFor(
    async () => {
      const got = await storedMailIds(http).catch(() => [])
      return got.length >= N ? got : undefined
    },
    { timeoutMs: 60_000, what: `${N} events stored (${topology})` },
  ).catch(async (e: Error) => {
    const got = await storedMailIds(http).catch(() => [])
    throw new Error(
      `${e.message}: ${got.length} stored\n${readFileSync(join(home, 'collector.log'), 'utf8').slice(-3000)}`,
    )
  })
  await new Promise((r) => setTimeout(r, 1500)) // late resends would show up as extra events now
  const final = await storedMailIds(http)
  assert.equal(final.length, accepted, `events stored = messages accepted (${topology})`)
  assert.equal(new Set(final).size, final.length, `no event stored twice (${topology})`)
  assert.ok(ids.every((id) => id.length > 0))
  assert.ok(Date.now() - began < 90_000, 'bounded: under 90 s')
  if (topology === 'embedded') {
    const metrics = await (await fetch(`http://127.0.0.1:${http}/metrics`)).text()
    assert.match(metrics, /^vigil_events_acked_total [1-9]/m)
    // what the kill hit, as far as the restarted collector heard it (a worker's vigil.stats record
    // sent before the new collector's SUB subscribed is dropped, as PUB does: diagnostics only)
    for (const m of metrics.matchAll(
      /^vigil_(?:filter_events_resent|filter_events_spooled|events_duplicates)_total .*$/gm,
    ))
      t.diagnostic(m[0])
  }
}

test('kill -9 of the collector under load, embedded topology: events stored = messages accepted, none twice', async (t) => {
  if (!needs(t, 'collector/src/main.ts', 'filter-core/src/main.ts')) return
  await killUnderLoad(t, 'embedded')
})

test('kill -9 of the collector (its shipper) under load, Redis topology: events stored = messages accepted, none twice', async (t) => {
  if (!needs(t, 'collector/src/main.ts', 'filter-core/src/main.ts')) return
  await killUnderLoad(t, 'redis')
})

test('kill -9 of Redis under load, Redis topology: events stored = messages accepted, none twice', async (t) => {
  if (!needs(t, 'collector/src/main.ts', 'filter-core/src/main.ts')) return
  await killUnderLoad(t, 'redis', 'redis')
})
