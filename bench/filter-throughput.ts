// Filter throughput: Postfix smtp-source (4 sessions) → filter (2 workers, checks bypassed) →
// smtp-sink. First the SHIPPED DEFAULTS (max_requests and min_spare_servers as `npm start` runs them:
// workers retire and are replaced during the run), one message per connection and with connections
// reused (smtp-source -d); then the TUNED filter (max_requests 100000) for the figures below:
// smtp-sink, against smtp-source → smtp-sink directly, measured in the same run, for 4 KiB and
// 100 KiB messages; plus the filter with monitoring (am.st/am.snmp over ZMQ and JSON events) on
// vs off, and the peak RSS (VmHWM) of each worker. Bounded: fixed message counts, 120 s cap each.
// Both filters are warmed up first (--warmup messages each): a production filter runs for days,
// and V8 needs a few thousand messages to settle its optimised code, which a cold run would
// measure instead of the filter. Medians of interleaved rounds are printed;
// CPU time per message of the filter workers (from /proc; both masters share this process) is printed too,
// as it is far less noisy than msg/s on a shared 2-core machine. With TMPDIR=/dev/shm the sink's
// dump files and the filter's spool live on tmpfs, which takes the disk's noise out of both rates.
// A yardstick runs in the same rounds: bench/_node-relay.mjs, the leanest honest SMTP relay in
// Node.js (--servers cluster workers accepting directly, many sessions each, one cached pipelined
// next-hop connection per worker; no monitoring, checks or spool) to the same smtp-sink, warmed up
// like the filters. relay/direct is about what a Node.js relay can reach on this machine (issue #3's
// ratio without anything the filter does), filter/relay how far the filter is from that yardstick;
// the relay's CPU per message (primary + workers, /proc) and its split between workers are printed
// too. The same relay runs a second time in the amavis process model (the primary accepts and hands
// each connection to an idle worker, one session per worker at a time, as the filter must): the
// floor for a filter built that way. Rounds are interleaved: direct, relay, amavis-model relay, on,
// off. At the end the sink must hold every message smtp-source handed over (a warning line if not),
// and every one sent through the relays.
// With --rss N only the memory run: N 4 KiB messages (one per connection) through the SHIPPED
// DEFAULTS and through the TUNED filter (max_requests 100000: two workers see every message),
// monitoring on, VmHWM of every worker sampled every 250 ms (issue #14: <= 80 MB over 20,000).
//   node --import tsx bench/filter-throughput.ts [--rss 20000] [--small 3000] [--large 600] [--servers 2] [--warmup 1500] [--rounds 5] [--batch-ms N] [--consumer collector|standin]
import { readFileSync } from 'node:fs'
import { fork, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Router, Subscriber } from 'zeromq'
import { commonConfigSchema, createLogger } from '@vigil/protocol'
import { filterConfigSchema } from '../filter-core/src/config.ts'
import { createFilter } from '../filter-core/src/app.ts'
import { createCollector } from '../collector/src/app.ts'
import { collectorConfigSchema } from '../collector/src/config.ts'
import { freePort, runSmtpSource, startSmtpSink, tmpDir } from '../test/harness/index.ts'

const { values } = parseArgs({
  options: {
    small: { type: 'string' },
    large: { type: 'string' },
    servers: { type: 'string' },
    warmup: { type: 'string' },
    rounds: { type: 'string' },
    'batch-ms': { type: 'string' },
    consumer: { type: 'string' },
    role: { type: 'string' },
    home: { type: 'string' },
    rss: { type: 'string' },
  },
})
const SERVERS = Number(values.servers ?? 2)
const SIZES = [
  { label: '4 KiB', bytes: 4096, count: Number(values.small ?? 3000) },
  { label: '100 KiB', bytes: 100 * 1024, count: Number(values.large ?? 600) },
]
const WARMUP = Number(values.warmup ?? 1500)
const SESSIONS = 4
/** What receives the monitoring output: Vigil's real collector (default) or a bare SUB/PULL stand-in. */
const CONSUMER = values.consumer === 'standin' ? 'standin' : 'collector'
/** Messages smtp-source handed over, to whichever server: the sink must end up with all of them. */
let sent = 0
let relaySent = 0

/** User + system CPU time of a process so far, in ms (clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return (Number(f[11]) + Number(f[12])) * 10
  } catch {
    return 0
  }
}

function vmHwmKb(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) : 0
  } catch {
    return 0
  }
}

async function source(port: number, bytes: number, count: number, viaRelay = false, reuse = false): Promise<number> {
  const r = await runSmtpSource({
    port,
    count,
    sessions: SESSIONS,
    reuseConnection: reuse,
    sizeBytes: bytes,
    from: 'a@example.org',
    to: 'b@example.net',
    timeoutMs: 120_000,
  })
  if (r.code !== 0) throw new Error(`smtp-source failed (${r.code}): ${r.stderr.slice(0, 300)}`)
  sent += count
  if (viaRelay) relaySent += count
  return count / (r.elapsedMs / 1000)
}

interface BenchFilter {
  port: number
  /** PIDs of the workers. */
  pids(): number[]
  /** CPU ms of the workers so far. */
  cpuMs(): number
  /** CPU ms of the process receiving the monitoring output (the collector or its stand-in) so far. */
  consumerCpuMs(): number
  stop(): Promise<void>
}

/**
 * `shipped`: the filter's own defaults for max_requests and min_spare_servers (what `npm start`
 * runs); otherwise the TUNED setting max_requests 100000 (workers never retire during the bench).
 */
async function startFilter(sinkPort: number, monitoring: boolean, shipped = false): Promise<BenchFilter> {
  const home = await tmpDir(null, 'vigil-bench-')
  const common = commonConfigSchema.parse({ home, myhostname: 'bench.test', log_level: 'warn' })
  // The monitoring consumer (Vigil's collector, or with --consumer standin a bare SUB/PULL) in its
  // own process, as the collector is, so
  // monitoring output really flows without competing with the filter master's event loop.
  const consumer = fork(
    fileURLToPath(import.meta.url),
    ['--role', 'consumer', '--home', home, '--consumer', CONSUMER],
    {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  )
  await new Promise<void>((resolve, reject) => {
    consumer.once('message', () => resolve())
    consumer.once('exit', (c) => reject(new Error(`consumer exited ${c}`)))
  })
  const port = await freePort()
  const cfg = filterConfigSchema.parse({
    listen: [`127.0.0.1:${port}`],
    forward_method: `smtp:[127.0.0.1]:${sinkPort}`,
    max_servers: SERVERS,
    ...(shipped ? {} : { max_requests: 100000 }),
    zmq_slow_joiner_ms: 200,
    bypass_virus_checks: true,
    bypass_spam_checks: true,
    bypass_banned_checks: true,
    bypass_header_checks: true,
    enable_zmq: monitoring,
    enable_events: monitoring,
    ...(values['batch-ms'] !== undefined ? { zmq_batch_ms: Number(values['batch-ms']) } : {}),
  })
  const filter = createFilter(common, cfg, {
    log: createLogger({ name: 'bench', level: 'error', write: (l) => process.stderr.write(l + '\n') }),
  })
  await filter.start()
  await new Promise((r) => setTimeout(r, 800)) // workers ready
  if (shipped)
    console.log(
      `shipped defaults: max_requests ${cfg.max_requests}, min_spare_servers ${cfg.min_spare_servers}, monitoring on`,
    )
  return {
    port,
    pids: () => filter.workerPids(),
    cpuMs: () => filter.workerPids().reduce((a, p) => a + cpuMs(p), 0),
    consumerCpuMs: () => cpuMs(consumer.pid!),
    async stop() {
      await filter.stop()
      const frames = await new Promise<number>((resolve) => {
        consumer.once('message', (m) => resolve(Number(m)))
        consumer.send('stop')
      })
      if (monitoring && frames === 0) console.log('  (warning: no monitoring output was received)')
    },
  }
}

/** The no-op Node.js relay (bench/_node-relay.mjs) with SERVERS workers, forwarding to the sink. */
async function startRelay(sinkPort: number, model: 'shared' | 'amavis' = 'shared'): Promise<BenchFilter> {
  const port = await freePort()
  const script = fileURLToPath(new URL('./_node-relay.mjs', import.meta.url))
  const child = spawn(process.execPath, [script, String(port), String(sinkPort), String(SERVERS), model], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  // "ready <primary pid> <worker pids…>" once every worker listens.
  const all = await new Promise<number[]>((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error('relay not ready within 15 s')), 15_000)
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      const m = /^ready ([\d ]+)\n/m.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve(m[1].trim().split(' ').map(Number))
      }
    })
    child.once('exit', (c) => reject(new Error(`relay exited ${c}`)))
  }).catch((e) => {
    child.kill('SIGKILL')
    throw e
  })
  return {
    port,
    pids: () => all.slice(1),
    cpuMs: () => all.reduce((a, p) => a + cpuMs(p), 0),
    consumerCpuMs: () => 0, // no monitoring
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM') // the primary stops its workers, then exits
      const timer = setTimeout(() => {
        for (const p of all) {
          try {
            process.kill(p, 'SIGKILL')
          } catch {}
        }
      }, 5000)
      await exited
      clearTimeout(timer)
    },
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const ROUNDS = Math.max(1, Number(values.rounds ?? 5))

/** The memory run (--rss N): peak VmHWM of every worker a filter had while N messages went through it. */
async function rssRun(sinkPort: number, shipped: boolean, count: number): Promise<void> {
  const f = await startFilter(sinkPort, true, shipped)
  const peak = new Map<number, number>()
  const sample = () => {
    for (const p of f.pids()) peak.set(p, Math.max(peak.get(p) ?? 0, vmHwmKb(p)))
  }
  const timer = setInterval(sample, 250)
  try {
    for (let done = 0; done < count; done += 1000) await source(f.port, 4096, Math.min(1000, count - done))
    sample()
  } finally {
    clearInterval(timer)
    await f.stop()
  }
  const mbs = [...peak.values()].map((k) => k / 1024)
  const label = shipped ? 'SHIPPED DEFAULTS' : 'TUNED max_requests 100000'
  console.log(
    `${label}: ${count} messages, ${mbs.length} workers seen, peak RSS per worker max ${Math.max(...mbs).toFixed(1)} MB, median ${median(mbs).toFixed(1)} MB (target <= 80 MB)`,
  )
}

async function main() {
  const sink = await startSmtpSink(null)
  if (values.rss) {
    try {
      console.log(
        `memory run: 4 KiB, one message per connection, ${SESSIONS} sessions, ${SERVERS} workers, monitoring on`,
      )
      await rssRun(sink.port, true, Number(values.rss))
      await rssRun(sink.port, false, Number(values.rss))
    } finally {
      await sink.stop()
    }
    return
  }
  const def = await startFilter(sink.port, true, true)
  const on = await startFilter(sink.port, true)
  const off = await startFilter(sink.port, false)
  let relay: BenchFilter | undefined
  let amRelay: BenchFilter | undefined
  try {
    relay = await startRelay(sink.port)
    amRelay = await startRelay(sink.port, 'amavis')
    console.log(
      `smtp-source ${SESSIONS} sessions; filter: ${SERVERS} workers (--servers), checks bypassed; ${ROUNDS} interleaved rounds, medians; ${WARMUP} warm-up messages per filter and for the no-op Node relay (${SERVERS} workers)`,
    )
    console.log(
      `load average at start: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')} (2 cores shared with other work: expect noise)`,
    )
    await source(def.port, 4096, WARMUP)
    await source(on.port, 4096, WARMUP)
    await source(off.port, 4096, WARMUP)
    await source(relay.port, 4096, WARMUP, true)
    await source(amRelay.port, 4096, WARMUP, true)
    console.log(
      'size      direct msg/s  filter msg/s  ratio   filter(no monitoring) msg/s  monitoring overhead  worker CPU us/msg on/off',
    )
    const rss = new Map<number, number>()
    for (const s of SIZES) {
      const per = Math.max(10, Math.floor(s.count / ROUNDS))
      await source(sink.port, s.bytes, 10) // warm-up
      await source(on.port, s.bytes, 10)
      await source(off.port, s.bytes, 10)
      await source(relay.port, s.bytes, 10, true)
      await source(amRelay.port, s.bytes, 10, true)
      const d: number[] = []
      const a: number[] = []
      const n: number[] = []
      const m1: number[] = []
      const m0: number[] = []
      const sd: number[] = []
      let cpuOn = 0
      let cpuOff = 0
      let cpuRelay = 0
      let cpuConsumer = 0
      let cpuAm = 0
      const relayPids = relay.pids()
      const perWorker = relayPids.map(() => 0)
      for (let r = 0; r < ROUNDS; r++) {
        d.push(await source(sink.port, s.bytes, per))
        let c = relay.cpuMs()
        const w = relayPids.map(cpuMs)
        n.push(await source(relay.port, s.bytes, per, true))
        cpuRelay += relay.cpuMs() - c
        relayPids.forEach((p, i) => (perWorker[i] += cpuMs(p) - w[i]))
        c = amRelay.cpuMs()
        a.push(await source(amRelay.port, s.bytes, per, true))
        cpuAm += amRelay.cpuMs() - c
        c = on.cpuMs()
        const cc = on.consumerCpuMs()
        m1.push(await source(on.port, s.bytes, per))
        cpuOn += on.cpuMs() - c
        cpuConsumer += on.consumerCpuMs() - cc
        c = off.cpuMs()
        m0.push(await source(off.port, s.bytes, per))
        cpuOff += off.cpuMs() - c
        sd.push(await source(def.port, s.bytes, per))
        for (const p of on.pids()) rss.set(p, Math.max(rss.get(p) ?? 0, vmHwmKb(p)))
      }
      const [direct, withMon, noMon, nodeRelay, amavisRelay] = [median(d), median(m1), median(m0), median(n), median(a)]
      const shipped = median(sd)
      console.log(
        `${s.label.padEnd(9)} SHIPPED DEFAULTS ${shipped.toFixed(0)} msg/s  of the amavis-model no-op relay ${(shipped / amavisRelay).toFixed(2)} (target >= 0.8)  of direct ${(shipped / direct).toFixed(2)}  rounds ${sd.map((x) => x.toFixed(0)).join(' ')}`,
      )
      console.log(`          below: TUNED max_requests 100000 (workers never retire in the bench)`)
      const usOn = (cpuOn * 1000) / (per * ROUNDS)
      const usOff = (cpuOff * 1000) / (per * ROUNDS)
      const usRelay = (cpuRelay * 1000) / (per * ROUNDS)
      const split = perWorker.map((x) => `${((x / Math.max(1, cpuRelay)) * 100).toFixed(0)} %`).join(' / ')
      console.log(
        `${s.label.padEnd(9)} ${direct.toFixed(0).padStart(12)}  ${withMon.toFixed(0).padStart(12)}  ${(withMon / direct).toFixed(2).padStart(5)}   ${noMon.toFixed(0).padStart(27)}  ${((1 - withMon / noMon) * 100).toFixed(1).padStart(17)} %  ${usOn.toFixed(0).padStart(8)} / ${usOff.toFixed(0)} (+${((usOn / usOff - 1) * 100).toFixed(0)} %)`,
      )
      console.log(
        `          no-op Node relay ${nodeRelay.toFixed(0)} msg/s  relay/direct ${(nodeRelay / direct).toFixed(2)}  filter/relay ${(withMon / nodeRelay).toFixed(2)} (no monitoring ${(noMon / nodeRelay).toFixed(2)})  relay CPU us/msg ${usRelay.toFixed(0)} (workers ${split})`,
      )
      console.log(
        `          amavis-model no-op relay ${amavisRelay.toFixed(0)} msg/s  of direct ${(amavisRelay / direct).toFixed(2)}  filter/it ${(withMon / amavisRelay).toFixed(2)} (no monitoring ${(noMon / amavisRelay).toFixed(2)})  CPU us/msg ${((cpuAm * 1000) / (per * ROUNDS)).toFixed(0)}`,
      )
      console.log(
        `          monitoring: worker CPU +${(usOn - usOff).toFixed(0)} us/msg; the ${CONSUMER === 'collector' ? 'collector' : 'stand-in consumer'} ${((cpuConsumer * 1000) / (per * ROUNDS)).toFixed(0)} us/msg`,
      )
      console.log(
        `          rounds: direct ${d.map((x) => x.toFixed(0)).join(' ')} | relay ${n.map((x) => x.toFixed(0)).join(' ')} | amavis-model relay ${a.map((x) => x.toFixed(0)).join(' ')} | on ${m1.map((x) => x.toFixed(0)).join(' ')} | off ${m0.map((x) => x.toFixed(0)).join(' ')}`,
      )
    }
    // Connections reused (smtp-source -d): the shipped defaults against the no-op relays and direct.
    {
      const per = Math.max(10, Math.floor(SIZES[0].count / ROUNDS))
      const d: number[] = []
      const a: number[] = []
      const sd: number[] = []
      for (let r = 0; r < ROUNDS; r++) {
        d.push(await source(sink.port, 4096, per, false, true))
        a.push(await source(amRelay.port, 4096, per, true, true))
        sd.push(await source(def.port, 4096, per, false, true))
      }
      const [direct, am, shipped] = [median(d), median(a), median(sd)]
      console.log(
        `4 KiB, connections reused (-d): direct ${direct.toFixed(0)} msg/s, amavis-model no-op relay ${am.toFixed(0)}, SHIPPED DEFAULTS ${shipped.toFixed(0)} = ${(shipped / am).toFixed(2)} of the relay (target >= 0.5), ${(shipped / direct).toFixed(2)} of direct`,
      )
    }
    for (const p of def.pids()) rss.set(-p, vmHwmKb(p))
    const peaks = [...rss.values()].map((k) => (k / 1024).toFixed(1))
    console.log(`peak RSS per worker (VmHWM, monitoring on): ${peaks.join(' MB, ')} MB  (target <= 80 MB)`)
    console.log('targets: ratio >= 0.5 of direct; monitoring overhead <= 3 %')
    // Every 250 smtp-source got (direct, relay, filters) must be a message in the sink; a dump
    // still open is not counted yet, hence a few polls.
    let got = 0
    for (let i = 0; i < 20 && (got = await sink.count()) < sent; i++) await new Promise((r) => setTimeout(r, 250))
    const viaRelay = (await sink.messages()).filter((m) => m.header('received')?.includes('(Node no-op relay)')).length
    if (got === sent && viaRelay === relaySent)
      console.log(`delivery: the sink holds all ${sent} messages sent, ${relaySent} of them through the relays`)
    else
      console.log(
        `  (warning: the sink holds ${got} of ${sent} messages sent; ${viaRelay} of ${relaySent} sent through the relays)`,
      )
  } finally {
    await relay?.stop()
    await amRelay?.stop()
    await def.stop()
    await on.stop()
    await off.stop()
    await sink.stop()
  }
}

async function consumerMain(home: string) {
  if (values.consumer === 'collector') return collectorMain(home)
  const sub = new Subscriber({ linger: 0 })
  const pull = new Router({ linger: 0 })
  await sub.bind(`ipc://${home}/amavisd-zmq.sock`)
  sub.subscribe()
  await pull.bind(`ipc://${home}/vigil-events.sock`)
  let frames = 0
  void (async () => {
    try {
      for await (const m of sub) frames += m.length
    } catch {}
  })()
  void (async () => {
    try {
      for await (const [peer, id] of pull) {
        frames++
        await pull.send([peer, 'ACK', id]) // the acknowledged events channel (ADR 0015)
      }
    } catch {}
  })()
  process.on('message', () => {
    sub.close()
    pull.close()
    process.send!(String(frames), () => process.exit(0))
  })
  process.send!('ready')
}

/** Vigil's collector as it runs on a single host (bus, minder, responder, events store), no HTTP. */
async function collectorMain(home: string) {
  const [outerPort, snmpPort] = [await freePort(), await freePort()]
  const common = commonConfigSchema.parse({
    home,
    myhostname: 'bench.test',
    log_level: 'warn',
    zmq: {
      inner: [`ipc://${home}/amavisd-zmq.sock`],
      outer: `tcp://127.0.0.1:${outerPort}`,
      snmp: `tcp://127.0.0.1:${snmpPort}`,
      events: `ipc://${home}/vigil-events.sock`,
    },
  })
  const collector = createCollector(common, collectorConfigSchema.parse({ http_listen: '' }), {
    log: createLogger({ name: 'bench-collector', level: 'error', write: (l) => process.stderr.write(l + '\n') }),
  })
  await collector.start()
  process.on('message', () => {
    const st = collector.internals.stats
    const frames = st.framesIn - st.framesInjected + st.eventsReceived
    void collector.stop().finally(() => process.send!(String(frames), () => process.exit(0)))
  })
  process.send!('ready')
}

if (values.role === 'consumer') void consumerMain(values.home!)
else
  main().then(
    () => process.exit(0),
    (e) => {
      console.error(e)
      process.exit(1)
    },
  )
