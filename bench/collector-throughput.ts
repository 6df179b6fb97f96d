// Collector throughput: frames/s ingested and republished with the process table running
// (1,000 amavis children), against a bare zeromq PUB→SUB pipe measured in the same run.
// Producer and consumer run in their own processes; the collector runs in this one, so its RSS
// is what process.memoryUsage() reports here. Bounded: N messages per run, 60 s cap per phase.
//   node --import tsx bench/collector-throughput.ts [--messages 200000] [--forwarders native,js]
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
  options: {
    role: { type: 'string' },
    endpoint: { type: 'string' },
    messages: { type: 'string' },
    forwarders: { type: 'string' },
  },
})
const N = Number(values.messages ?? 200_000)

/** The message mix of busy amavis children: state changes of 1,000 PIDs, plus one 6-frame am.snmp per 10 messages. */
function* workload(n: number): Generator<string[]> {
  const states = ['A', 'b', 'm', 'd', '=', 'G', 'D', 'V', 'S', 'r', 'F', '.', '-']
  const now = Date.now() / 1000
  let k = 0
  for (let i = 0; i < n; i++) {
    if (i % 10 === 9) {
      yield [
        'am.snmp InMsgs C32 1',
        'am.snmp InMsgsRecips C32 1',
        'am.snmp InMsgsSize C64 2345',
        'am.snmp ContentCleanMsgs C32 1',
        'am.snmp TimeElapsedTotal C32 120',
        'am.snmp TimeElapsedSpamCheck C32 80',
      ]
      continue
    }
    const pid = 10000 + (k % PIDS)
    const step = Math.floor(k / PIDS) % states.length
    k++
    const s = states[step]
    const task = ['A', 'b', '.', '-'].includes(s) ? '' : ` ${pid}-01`
    const time = s === 'A' || s === 'm' ? formatAbsTime(now + i / 1e5) : String(step * 10)
    yield [`am.st ${pid} ${time} ${s}${task}`]
  }
}

async function producer(endpoint: string): Promise<void> {
  // An amavis child uses SNDHWM 1000; the bench lifts it so the producer never drops and every loss
  // is downstream. sendTimeout 0 makes zeromq.js send synchronously, so the producer is not the bottleneck.
  const pub = new Publisher({ linger: 5000, sendHighWaterMark: 0, sendTimeout: 0 })
  pub.connect(endpoint)
  const msgs = [...workload(N)]
  process.send!({ ready: true })
  await once(process, 'message')
  let frames = 0
  let failed = 0
  const t0 = performance.now()
  for (let i = 0; i < msgs.length; i++) {
    pub.send(msgs[i]).catch(() => failed++)
    frames += msgs[i].length
    if (i % 1000 === 999) await new Promise((r) => setImmediate(r))
  }
  await new Promise((r) => setImmediate(r))
  process.send!({ msgs: N - failed, frames, ms: performance.now() - t0 })
  pub.close()
}

/** Batch receive as the collector does: synchronous reads while messages are queued. */
async function consumer(endpoint: string, bind: boolean): Promise<void> {
  const sub = new Subscriber({ linger: 0, receiveHighWaterMark: 0, receiveTimeout: 0 })
  if (bind) await sub.bind(endpoint)
  else sub.connect(endpoint)
  // the workload's topics only: the minder's am.nanny / am.proc.* rounds would keep the consumer from ever idling
  sub.subscribe('am.st 1')
  sub.subscribe('am.snmp ')
  process.send!({ ready: true })
  let msgs = 0
  let frames = 0
  let first = 0
  let last = 0
  let batch = 0
  const deadline = Date.now() + CAP_MS
  while (Date.now() < deadline) {
    try {
      const m = await sub.receive()
      if (msgs === 0) first = performance.now()
      last = performance.now()
      msgs++
      frames += m.length
      if (++batch === 1000) {
        batch = 0
        await new Promise((r) => setImmediate(r))
      }
    } catch {
      // queue empty: wait up to 1.5 s for more (the end of the run once something arrived)
      sub.receiveTimeout = msgs > 0 ? 1500 : 60_000
      try {
        const m = await sub.receive()
        if (msgs === 0) first = performance.now()
        last = performance.now()
        msgs++
        frames += m.length
      } catch {
        break
      } finally {
        sub.receiveTimeout = 0
      }
    }
  }
  process.send!({ msgs, frames, ms: last - first })
  sub.close()
}

type Result = { msgs: number; frames: number; ms: number }

function child(role: string, endpoint: string) {
  const c = fork(new URL(import.meta.url).pathname, ['--role', role, '--endpoint', endpoint, '--messages', String(N)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const exited = once(c, 'exit')
  const next = <T>() =>
    new Promise<T>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`bench ${role} exited (${code}) before reporting`))
      c.once('exit', onExit)
      c.once('message', (m) => {
        c.off('exit', onExit)
        resolve(m as T)
      })
    })
  return { c, exited, next }
}

async function run(innerEp: string, outerEp: string, bindConsumer: boolean): Promise<{ prod: Result; cons: Result }> {
  const cons = child(bindConsumer ? 'consumer-bind' : 'consumer', outerEp)
  await cons.next()
  const prod = child('producer', innerEp)
  await prod.next()
  await new Promise((r) => setTimeout(r, 500)) // slow joiner
  prod.c.send({ go: true })
  const [p, c] = await Promise.all([prod.next<Result>(), cons.next<Result>()])
  await Promise.all([prod.exited, cons.exited])
  return { prod: p, cons: c }
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US')
const mb = (n: number) => `${(n / 1048576).toFixed(1)} MB`

async function measureCollector(dir: string, forwarder: 'native' | 'js', baseRate: number) {
  const sub = join(dir, forwarder)
  const common = commonConfigSchema.parse({
    home: sub,
    myhostname: 'bench',
    zmq: {
      inner: [`ipc://${join(sub, 'inner.sock')}`],
      outer: `ipc://${join(sub, 'outer.sock')}`,
      snmp: `ipc://${join(sub, 'snmp.sock')}`,
      events: `ipc://${join(sub, 'events.sock')}`,
    },
  })
  const cfg = collectorConfigSchema.parse({ http_listen: '', forwarder })
  const collector = createCollector(common, cfg, {
    log: createLogger({ name: 'collector', level: 'error', write: (l) => console.error(l) }),
  })
  await collector.start()
  const rssStart = process.memoryUsage.rss()
  let rssPeak = rssStart
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage.rss())), 50)
  const r = await run(common.zmq.inner[0], common.zmq.outer, false)
  clearInterval(sampler)
  const s = { ...collector.internals.stats }
  const tracked = collector.internals.table.size
  const rssSteady = process.memoryUsage.rss()
  await collector.stop()
  const rate = r.cons.frames / (r.cons.ms / 1000)
  const fromChildren = s.framesIn - s.framesInjected
  console.log(`\n${forwarder} forwarder: producer → collector → consumer (ipc, 3 processes)`)
  console.log(`  delivered:        ${fmt(rate)} frames/s (${fmt(r.cons.frames)} of ${fmt(r.prod.frames)} frames)`)
  console.log(`  ratio to baseline: ${(rate / baseRate).toFixed(2)}`)
  console.log(
    `  collector:        ${fmt(fromChildren)} frames ingested from children, ${fmt(s.framesInjected)} published by the minder, ${s.malformed} malformed`,
  )
  console.log(
    `  drops:            ${fmt(r.prod.frames - fromChildren)} before the collector (inner HWM ${cfg.inner_hwm}), ` +
      `${fmt(r.prod.frames - r.cons.frames)} end to end (the rest: at the outer HWM ${cfg.outer_hwm}, silent in libzmq's PUB), ` +
      `${s.droppedHwm} refused and counted at the outer HWM (outer_nodrop only)`,
  )
  console.log(`  process table:    ${tracked} children tracked (workload has ${PIDS})`)
  console.log(
    `  RSS:              ${mb(rssStart)} after start, ${mb(rssPeak)} peak under load, ${mb(rssSteady)} tracking ${tracked} children (limit 150 MB)`,
  )
  return { rate, rssPeak, rssSteady, tracked }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-collector-'))
  try {
    console.log(
      `${fmt(N)} messages per run (${fmt(N * 1.5)} frames), ${PIDS} amavis children, 2-core machine shared with other work`,
    )
    const base = await run(`ipc://${join(dir, 'base.sock')}`, `ipc://${join(dir, 'base.sock')}`, true)
    const baseRate = base.cons.frames / (base.cons.ms / 1000)
    console.log(
      `baseline bare PUB→SUB (ipc, 2 processes): ${fmt(baseRate)} frames/s, delivered ${fmt(base.cons.frames)}/${fmt(base.prod.frames)}`,
    )
    const forwarders = (values.forwarders ?? 'native,js').split(',') as ('native' | 'js')[]
    const results = []
    for (const f of forwarders) results.push({ f, ...(await measureCollector(dir, f, baseRate)) })
    console.log('\nsummary:')
    for (const r of results)
      console.log(
        `  ${r.f}: ${fmt(r.rate)} frames/s = ${(r.rate / baseRate).toFixed(2)} × baseline; ≥ 100k frames/s ${r.rate >= 100_000 ? 'met' : 'NOT met'}; ` +
          `RSS ${mb(r.rssSteady)} with ${r.tracked} children ${r.rssSteady <= 150 * 1048576 ? '≤' : '>'} 150 MB (peak ${mb(r.rssPeak)})`,
      )
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

if (values.role === 'producer') await producer(values.endpoint!)
else if (values.role === 'consumer') await consumer(values.endpoint!, false)
else if (values.role === 'consumer-bind') await consumer(values.endpoint!, true)
else await main()
