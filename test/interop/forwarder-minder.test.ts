// Interop: the REAL amavis-services msg-forwarder and childproc-minder (Debian amavisd-new 2.13, on
// the test-only ZMQ::LibZMQ3 shim, see README.md) in place of Vigil's collector. Vigil's filter-core
// publishes am.st/am.snmp into the real forwarder's inner socket; Vigil's amavis-status (plain mode,
// the real bin) watches the real outer socket; the real minder's am.nanny and am.proc.* frames,
// read off the real outer socket, parse with @vigil/protocol and follow spec §2.4/§2.5.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Publisher, Subscriber } from 'zeromq'
import {
  commonConfigSchema,
  createLogger,
  eventsSocket,
  isParseError,
  parseFrame,
  type Frame,
  type ParseError,
} from '@vigil/protocol'
import { freePort, runSmtpSource, startSmtpSink, tmpDir, waitFor } from '../harness/index.ts'
import { needs, ROOT } from '../e2e/stack.ts'
import { assertAmavisInstalled, privateAmavisServices, startAmavisTask } from './amavis.ts'

const BIN = join(ROOT, 'bin/amavis-status.mjs')
const SERVERS = 2
const SPARES = 1
/** Worker processes the minder sees: max_servers plus the warm spare (all idle when no mail flows). */
const WORKERS = SERVERS + SPARES
// Spec §2.4, literally: 22 age slots, activities, ProcGone only when > 0, then All, Busy, Idle.
const NANNY_ORDER = [
  ...Array.from({ length: 22 }, (_, i) => `ProcBusy${i}`),
  'ProcBusyTransfer',
  'ProcBusyDecode',
  'ProcBusyVirus',
  'ProcBusySpam',
  'ProcBusyOther',
  'ProcGone',
  'ProcAll',
  'ProcBusy',
  'ProcIdle',
]

interface Received {
  at: number
  /** parseFrame of every part (the am.log probe is not a frame Vigil parses). */
  frames: (Frame | ParseError)[]
  raw: string[]
}
const parsed = (m: Received): Frame[] =>
  m.frames.map((f) => {
    assert.ok(!isParseError(f), `unparsable frame ${JSON.stringify(f)}`)
    return f
  })

test("the real amavis msg-forwarder and childproc-minder serve Vigil's filter to amavis-status; am.nanny follows §2.4", async (t) => {
  if (!needs(t, 'filter-core/src/app.ts', 'status-cli/src/main.ts')) return
  assertAmavisInstalled()
  const { createFilter } = await import('@vigil/filter-core/app.ts')
  const { filterConfigSchema } = await import('@vigil/filter-core/config.ts')

  const dir = await tmpDir(t, 'interop-amavis-fwd')
  const amavis = await privateAmavisServices(dir)
  await startAmavisTask(t, amavis, 'msg-forwarder')

  // Everything the real forwarder publishes on its outer socket, one entry per ZMQ message.
  const got: Received[] = []
  const capture = new Subscriber({ linger: 0 })
  t.after(() => capture.close())
  capture.subscribe('am.')
  capture.connect(amavis.outer)
  void (async () => {
    try {
      for await (const parts of capture) {
        const raw = parts.map((p) => p.toString('utf8'))
        got.push({ at: Date.now(), frames: parts.map((p) => parseFrame(p)), raw })
      }
    } catch {
      // closed at the end of the test
    }
  })()
  // Slow joiner: an am.log frame (forwarded by amavis, consumed by nobody) until the capture has one.
  const probe = new Publisher({ linger: 0 })
  t.after(() => probe.close())
  probe.connect(amavis.inner)
  await waitFor(
    async () => {
      await probe.send(`am.log.* ${process.pid} ${(Date.now() / 1000).toFixed(3)} interop probe`)
      return got.some((m) => m.raw[0].startsWith('am.log.'))
    },
    { timeoutMs: 60_000, intervalMs: 300, what: "a frame through the real forwarder's inner and outer sockets" },
  )
  probe.close()

  const minder = await startAmavisTask(t, amavis, 'childproc-minder')
  // Its start-up FLUSH went out through its inner PUB and came back to its outer SUB: both work.
  const flush = `am.st ${minder.pid} `
  await waitFor(
    async () =>
      got.some((m) => m.raw[0].startsWith(flush) && m.raw[0].endsWith(' FLUSH')) &&
      (await readFile(minder.logFile, 'utf8')).includes('childproc_minder: FLUSH process states'),
    { timeoutMs: 60_000, what: "the real minder's start-up FLUSH, sent and received back" },
  )

  const home = await tmpDir(t, 'interop-fwd-home')
  const sink = await startSmtpSink(t, { dataDelaySecs: 1 })
  const filterPort = await freePort()
  let logs = ''
  const log = createLogger({ name: 'interop', level: 'warn', write: (l) => (logs += l + '\n') })
  const common = commonConfigSchema.parse({
    home,
    myhostname: 'interop.test',
    log_level: 'warn',
    zmq: { inner: [amavis.inner], outer: amavis.outer, snmp: amavis.snmp, events: eventsSocket(home) },
  })
  const filter = createFilter(
    common,
    filterConfigSchema.parse({
      listen: [`127.0.0.1:${filterPort}`],
      forward_method: `smtp:[127.0.0.1]:${sink.port}`,
      max_servers: SERVERS,
      min_spare_servers: SPARES,
    }),
    { log },
  )
  await filter.start()
  t.after(() => filter.stop())

  const statePids = () =>
    new Set(
      got
        .filter((m) => m.raw[0].startsWith('am.st '))
        .flatMap((m) => parsed(m).flatMap((f) => (f.topic === 'am.st' && f.state !== 'FLUSH' ? [f.pid] : []))),
    )
  await waitFor(() => statePids().size >= WORKERS, {
    timeoutMs: 60_000,
    what: `am.st from ${WORKERS} filter workers through the real forwarder\n${logs}`,
  })
  const workers = statePids()

  const child = spawn(process.execPath, [BIN, '-c', '12', '-w', '1', '--connect', amavis.outer], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, VIGIL_CONFIG: '' },
  })
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  let err = ''
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d))
  child.stdout.resume()
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  await waitFor(() => / idling processes\n/.test(err), { timeoutMs: 60_000, what: 'the first amavis-status cycle' })

  const loadStart = Date.now()
  const src = await runSmtpSource({ port: filterPort, count: 8, sessions: 2, sizeBytes: 1000, timeoutMs: 120_000 })
  assert.equal(src.code, 0, src.stderr)
  await sink.waitForMessages(8, 60_000)
  assert.equal(await exited, 0, err)
  // The minder's next rounds see both workers idle again (and send the PID lists after the gauges).
  const loadEnd = Date.now()
  const idleRound = await waitFor(
    () =>
      got.find(
        (m) =>
          m.at >= loadEnd && m.raw[0].startsWith('am.nanny ') && m.raw.at(-1) === `am.nanny ProcIdle G32 ${WORKERS}`,
      ),
    { timeoutMs: 30_000, what: `an am.nanny round with ProcIdle ${WORKERS} after the load` },
  )
  const idleList = await waitFor(() => got.find((m) => m.at >= idleRound.at && m.raw[0].startsWith('am.proc.idle')), {
    timeoutMs: 30_000,
    what: 'the am.proc.idle list after that round',
  })
  if (process.env.VIGIL_SHOW_OUTPUT) process.stderr.write(err)

  // amavis-status on the real outer socket shows the filter's workers.
  const counts = [...err.matchAll(/^(\d+) active, (\d+) idling processes$/gm)].map((m) => [Number(m[1]), Number(m[2])])
  assert.equal(counts.length, 12, err)
  assert.ok(
    counts.some(([a, i]) => a + i === WORKERS),
    `a cycle shows all ${WORKERS} workers: ${JSON.stringify(counts)}`,
  )
  const busyPids = new Set([...err.matchAll(/^PID +(\d+): /gm)].map((m) => Number(m[1])))
  assert.ok(busyPids.size > 0, `a busy worker is listed:\n${err}`)
  for (const pid of busyPids) assert.ok(workers.has(pid), `listed PID ${pid} is a filter worker (${[...workers]})`)

  // The real minder's am.nanny: one multi-part message per round, frames in the §2.4 order.
  const nanny = got.filter((m) => m.raw[0].startsWith('am.nanny '))
  assert.ok(nanny.length >= 2, `am.nanny rounds: ${nanny.length}`)
  for (const m of nanny) {
    const names = parsed(m).map((f) => (f.topic === 'am.nanny' ? f.name : `(${f.topic})`))
    assert.deepEqual(
      names,
      NANNY_ORDER.filter((n) => n !== 'ProcGone' || names.includes('ProcGone')),
      m.raw.join('\n'),
    )
    for (const f of parsed(m)) {
      assert.ok(f.topic === 'am.nanny' && f.name !== 'FLUSH')
      assert.equal(f.type, f.name === 'ProcGone' ? 'C32' : 'G32', `type of ${f.name}`)
      assert.match(f.value, /^\d+$/)
    }
  }
  const value = (m: Received, name: string): number => {
    for (const f of parsed(m)) if (f.topic === 'am.nanny' && f.name === name && f.type) return Number(f.value)
    return NaN
  }
  const withWorkers = nanny.filter((m) => m.at > loadStart)
  assert.ok(withWorkers.length > 0)
  for (const m of withWorkers) {
    assert.equal(value(m, 'ProcAll'), WORKERS, `ProcAll\n${m.raw.join('\n')}`)
    assert.equal(value(m, 'ProcBusy') + value(m, 'ProcIdle'), WORKERS)
  }
  // Workers stuck ≥ 1 s in F (the sink answers DATA slowly) for ≥ 4 s: the minder counts them busy,
  // in ProcBusy0 (every busy process) and in its activity classes (F is 'Transfer').
  assert.ok(
    withWorkers.some((m) => value(m, 'ProcBusy') >= 1 && value(m, 'ProcBusy0') === value(m, 'ProcBusy')),
    `a round during the load counts busy workers:\n${withWorkers.map((m) => m.raw.slice(-4).join(' | ')).join('\n')}`,
  )

  // am.proc.busy / am.proc.idle: separate single-frame messages naming exactly the workers.
  const lists = got.filter((m) => m.raw[0].startsWith('am.proc.') && m.at > loadStart)
  assert.ok(lists.length >= 2)
  for (const m of lists) {
    const [f, ...rest] = parsed(m)
    assert.equal(rest.length, 0, 'one frame per am.proc message')
    assert.ok(f.topic === 'am.proc.busy' || f.topic === 'am.proc.idle')
    for (const pid of f.pids) assert.ok(workers.has(pid), `${m.raw[0]}: ${pid} is a filter worker`)
  }
  const f = parsed(idleList)[0]
  assert.ok(f.topic === 'am.proc.idle')
  assert.deepEqual(
    f.pids,
    [...workers].sort((a, b) => a - b),
  )
})
