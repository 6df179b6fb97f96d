// Collector throughput: frames/s ingested and republished with the process table running
// (1,000 amavis children), against a bare zeromq PUB→SUB pipe measured in the same run.
// Producer and consumer run in their own processes; the collector runs in this one, so its RSS
// is what process.memoryUsage() reports here. Bounded: N messages per run, 60 s cap per phase.
//   node --import tsx bench/collector-throughput.ts [--messages 200000]
import { fork, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { once } from 'node:events'
import { parseArgs } from 'node:util'
import { Publisher, Subscriber } from 'zeromq'
import { commonConfigSchema, createLogger, formatAbsTime } from '@vigil/protocol'
import { collectorConfigSchema } from '../collector/src/config.ts'
import { createCollector } from '../collector/src/app.ts'

const PIDS = 1000
const CAP_MS = 60_000
const { values } = parseArgs({
  options: { role: { type: 'string' }, endpoint: { type: 'string' }, messages: { type: 'string' }, hwm: { type: 'string' } },
})
const N = Number(values.messages ?? 200_000)

/** The message mix of busy amavis children: state changes, plus one 6-frame am.snmp per 10 messages. */
function* workload(n: number): Generator<string[]> {
  const states = ['A', 'b', 'm', 'd', '=', 'G', 'D', 'V', 'S', 'r', 'F', '.', '-']
  const now = Date.now() / 1000
  for (let i = 0; i < n; i++) {
    const pid = 10000 + (i % PIDS)
    const step = Math.floor(i / PIDS) % states.length
    const s = states[step]
    if (i % 10 === 9)
      yield [
        'am.snmp InMsgs C32 1',
        'am.snmp InMsgsRecips C32 1',
        'am.snmp InMsgsSize C64 2345',
        'am.snmp ContentCleanMsgs C32 1',
        'am.snmp TimeElapsedTotal C32 120',
        'am.snmp TimeElapsedSpamCheck C32 80',
      ]
    else if (s === 'A' || s === 'm') yield [`am.st ${pid} ${formatAbsTime(now + i / 1e5)} ${s}${s === 'm' ? ` ${pid}-01` : ''}`]
    else yield [`am.st ${pid} ${step * 10} ${s}${s === '.' || s === '-' || s === 'A' || s === 'b' ? '' : ` ${pid}-01`}`]
  }
}

async function producer(endpoint: string): Promise<void> {
  // An amavis child uses SNDHWM 1000; the bench lifts it so the producer never drops and every loss is downstream.
  const pub = new Publisher({ linger: 5000, sendHighWaterMark: 0 })
  pub.connect(endpoint)
  process.send!({ ready: true })
  await once(process, 'message')
  let frames = 0
  const t0 = performance.now()
  for (const m of workload(N)) {
    await pub.send(m)
    frames += m.length
  }
  const ms = performance.now() - t0
  process.send!({ sent: N, frames, ms })
  pub.close()
}

async function consumer(endpoint: string, bind: boolean): Promise<void> {
  const sub = new Subscriber({ linger: 0, receiveHighWaterMark: 0, receiveTimeout: 1500 })
  if (bind) await sub.bind(endpoint)
  else sub.connect(endpoint)
  // the workload's topics only: the minder's am.nanny / am.proc.* rounds would keep the consumer from ever idling
  sub.subscribe('am.st ')
  sub.subscribe('am.snmp ')
  process.send!({ ready: true })
  let msgs = 0
  let frames = 0
  let first = 0
  let last = 0
  const deadline = Date.now() + CAP_MS
  for (;;) {
    try {
      const m = await sub.receive()
      if (msgs === 0) first = performance.now()
      last = performance.now()
      msgs++
      frames += m.length
    } catch {
      if (msgs > 0 || Date.now() > deadline) break
    }
    if (Date.now() > deadline) break
  }
  process.send!({ msgs, frames, ms: last - first })
  sub.close()
}

function child(role: string, endpoint: string): ChildProcess {
  const c = fork(new URL(import.meta.url).pathname, ['--role', role, '--endpoint', endpoint, '--messages', String(N)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  exited.set(c, once(c, 'exit'))
  return c
}
const exited = new Map<ChildProcess, Promise<unknown>>()
const msg = <T>(c: ChildProcess) =>
  new Promise<T>((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`bench child exited (${code}) before reporting`))
    c.once('exit', onExit)
    c.once('message', (m) => {
      c.off('exit', onExit)
      resolve(m as T)
    })
  })

type Result = { msgs: number; frames: number; ms: number }

async function run(innerEp: string, outerEp: string, bindConsumer: boolean): Promise<{ prod: Result & { sent: number }; cons: Result }> {
  const cons = child(bindConsumer ? 'consumer-bind' : 'consumer', outerEp)
  await msg(cons)
  const prod = child('producer', innerEp)
  await msg(prod)
  await new Promise((r) => setTimeout(r, 500)) // slow joiner
  prod.send({ go: true })
  const [p, c] = await Promise.all([msg<Result & { sent: number }>(prod), msg<Result>(cons)])
  await Promise.all([exited.get(prod), exited.get(cons)])
  return { prod: p, cons: c }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-collector-'))
  try {
    // 1. baseline: producer PUB → consumer SUB (bound), ipc
    const base = await run(`ipc://${join(dir, 'base.sock')}`, `ipc://${join(dir, 'base.sock')}`, true)
    const baseRate = base.cons.frames / (base.cons.ms / 1000)

    // 2. producer → collector inner (ipc) → outer (ipc) → consumer, with the minder running
    const common = commonConfigSchema.parse({
      home: dir,
      myhostname: 'bench',
      zmq: {
        inner: [`ipc://${join(dir, 'inner.sock')}`],
        outer: `ipc://${join(dir, 'outer.sock')}`,
        snmp: `ipc://${join(dir, 'snmp.sock')}`,
        events: `ipc://${join(dir, 'events.sock')}`,
      },
    })
    const cfg = collectorConfigSchema.parse({ http_listen: '', outer_hwm: Number(values.hwm ?? 100000), nanny_interval_secs: 2.5 })
    const collector = createCollector(common, cfg, { log: createLogger({ name: 'collector', level: 'warn', write: (l) => console.error(l) }) })
    await collector.start()
    const rssBefore = process.memoryUsage.rss()
    let rssPeak = rssBefore
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage.rss())), 100)
    const t0 = performance.now()
    const r = await run(common.zmq.inner[0], common.zmq.outer, false)
    const wall = performance.now() - t0
    clearInterval(sampler)
    const s = collector.internals.stats
    const tracked = collector.internals.table.size
    await collector.stop()
    const rate = r.cons.frames / (r.cons.ms / 1000)
    const fmt = (n: number) => Math.round(n).toLocaleString('en-US')
    console.log(`messages per run: ${fmt(N)} (${fmt(r.prod.frames)} frames), ${PIDS} amavis children`)
    console.log(`baseline PUB→SUB (ipc, 2 processes):        ${fmt(baseRate)} frames/s, delivered ${fmt(base.cons.frames)}/${fmt(base.prod.frames)}`)
    console.log(`producer → collector → consumer (ipc):      ${fmt(rate)} frames/s, delivered ${fmt(r.cons.frames)}/${fmt(r.prod.frames)}`)
    console.log(`ratio collector/baseline:                   ${(rate / baseRate).toFixed(2)}`)
    console.log(`collector ingest:                           ${fmt(s.framesIn)} frames in, ${fmt(s.framesOut)} out, ${s.malformed} malformed, ${s.droppedHwm} dropped at HWM (counted only with outer_nodrop), ${fmt(s.framesIn - s.framesOut)} not forwarded`)
    console.log(`frames lost between producer and collector: ${fmt(r.prod.frames - s.framesIn)} (libzmq HWM on the producer/inner pipe; uncountable by the collector)`)
    console.log(`frames lost between collector and consumer: ${fmt(s.framesOut - r.cons.frames)} (outer PUB HWM ${cfg.outer_hwm}, silent in libzmq)`)
    console.log(`process table: ${tracked} children tracked (expected ${PIDS}); wall time ${fmt(wall)} ms`)
    console.log(`collector RSS: ${(rssBefore / 1048576).toFixed(1)} MB at start, ${(rssPeak / 1048576).toFixed(1)} MB peak (limit 150 MB)`)
    const okRate = rate >= 100_000
    const okRss = rssPeak <= 150 * 1048576
    console.log(`target ≥ 100k frames/s: ${okRate ? 'met' : 'NOT met'}; RSS ≤ 150 MB: ${okRss ? 'met' : 'NOT met'}`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

if (values.role === 'producer') await producer(values.endpoint!)
else if (values.role === 'consumer') await consumer(values.endpoint!, false)
else if (values.role === 'consumer-bind') await consumer(values.endpoint!, true)
else await main()
