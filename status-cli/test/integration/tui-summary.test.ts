// The live summary beside the full screen's process table, in a real terminal (tmux, as
// tui-tmux.test.ts): against a real collector's HTTP API it shows rates per content category,
// per-stage latency from the collector's histograms, pipeline health equal to /api/pipeline and
// the last messages; against the bus alone the API-only parts say n/a.
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Publisher, Dealer, Reply } from 'zeromq'
import {
  commonConfigSchema,
  createLogger,
  eventsSocket,
  formatAbsTime,
  formatEventTimestamp,
  innerSocket,
} from '@vigil/protocol'
import { collectorConfigSchema } from '@vigil/collector/config.ts'
import { createCollector } from '@vigil/collector/app.ts'
import { freePort, resolveBinary, tmpDir, waitFor } from '../../../test/harness/index.ts'

const BIN = fileURLToPath(new URL('../../../bin/amavis-status.mjs', import.meta.url))

function startTmux(t: TestContext, cmd: string, width: number, height: number): () => string {
  const server = `vigil-status-sum-${process.pid}-${Math.floor(Math.random() * 1e6)}`
  const tmux = (...args: string[]) =>
    execFileSync('tmux', ['-L', server, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  t.after(() => {
    try {
      tmux('kill-server')
    } catch {}
  })
  tmux('new-session', '-d', '-s', 'st', '-x', String(width), '-y', String(height), cmd)
  return () => tmux('capture-pane', '-p', '-t', 'st')
}

test('full screen with --api: category rates, stage latency, pipeline health and last messages beside the table', async (t) => {
  resolveBinary('tmux')
  const home = await tmpDir(t, 'status-summary')
  const common = commonConfigSchema.parse({
    home,
    myhostname: 'mx0.summary.test',
    log_level: 'error',
    zmq: {
      inner: [innerSocket(home)],
      outer: `tcp://127.0.0.1:${await freePort()}`,
      snmp: `tcp://127.0.0.1:${await freePort()}`,
      events: eventsSocket(home),
    },
  })
  const collector = createCollector(common, collectorConfigSchema.parse({ http_listen: '127.0.0.1:0' }), {
    log: createLogger({ name: 'test', level: 'fatal' }),
  })
  await collector.start()
  t.after(() => collector.stop())
  const http = collector.internals.httpAddress!
  const now = Date.now() / 1000
  await collector.internals.inject('mx1', [`am.st 20 ${formatAbsTime(now - 3)} m 00020-01`])
  await collector.internals.inject('mx1', ['am.st 20 100 S 00020-01'])
  await collector.internals.inject('mx1', [`am.st 21 ${formatAbsTime(now - 9)} -`])
  // counters as the filters send them (deltas): clean mail arriving all the time
  const feed = setInterval(() => {
    void collector.internals.inject('mx1', ['am.snmp InMsgs C32 2', 'am.snmp ContentCleanMsgs C32 2'])
  }, 200)
  t.after(() => clearInterval(feed))
  const push = new Dealer({ linger: 0 })
  push.connect(common.zmq.events!)
  t.after(() => push.close())
  await push.send(
    JSON.stringify({
      '@timestamp': formatEventTimestamp(now),
      type: 'amavis',
      host: 'mx1',
      log_id: '00019-07',
      mail_id: 'SummaryMail1',
      mail_from: 'alice@example.org',
      rcpt_to: ['bob@example.net'],
      rcpt_num: 1,
      recipients: [],
      subject: 'hello \u001b[2J',
      content_type: 'Clean',
      action: ['PASS'],
      message: '00019-07 Passed CLEAN',
      time_unix: now.toFixed(3),
      elapsed: { Amavis: 0.2, SpamCheck: 0.15 },
      originating: false,
    }),
  )

  const dir = await tmpDir(t, 'status-summary-cfg')
  const cfg = join(dir, 'vigil.yaml')
  writeFileSync(cfg, 'status:\n  counters_interval_secs: 0.5\n')
  const screen = startTmux(
    t,
    `NCURSES_NO_UTF8_ACS=1 '${process.execPath}' '${BIN}' --tui -w 0.3 --config ${cfg} --api http://${http}; echo "EXITED-$?"; sleep 60`,
    160,
    40,
  )
  const full = await waitFor(
    () => {
      const s = screen()
      return /last messages/.test(s) && /00019-07/.test(s) && /spam_check/.test(s) && /Clean [1-9]\d*\.\d/.test(s)
        ? s
        : undefined
    },
    { timeoutMs: 30_000, intervalMs: 200 },
  )
  // the process table keeps its rows; the summary sits beside them
  assert.match(full, /^\s+20 mx1 +S +00020-01 +0:00:\d\d [=S:]+ +\| /m)
  assert.match(full, /^\s+21 mx1 +- /m)
  assert.match(full, /\| -- msgs\/min by content, last \d+s -+$/m)
  assert.match(full, /\| +spam_check +\d+ms +\d+ms +150ms {2}n=1$/m, 'p50 / p95 / mean of the one event')
  assert.match(full, /\| +\d\d:\d\d:\d\d 00019-07 Clean PASS alice@example\.org -> bob@example\.net$/m)
  assert.match(full, /msgs\/s: \d+\.\d {2}total: \d+/, 'the message rate is no longer `-`')
  // pipeline health is what /api/pipeline says
  await waitFor(
    async () => {
      const p = (await (await fetch(`http://${http}/api/pipeline`)).json()) as Record<string, number> & {
        backend: { kind: string; up: boolean }
      }
      const s = screen()
      return (
        s.includes(`${p.backend.kind} ${p.backend.up ? 'UP' : 'DOWN'}  queued ${p.queued}  in flight ${p.in_flight}`) &&
        s.includes(`indexed ${p.indexed} / produced ${p.produced}  dead letters ${p.dead_lettered}`) &&
        p.indexed >= 1
      )
    },
    { timeoutMs: 20_000, intervalMs: 300 },
  )
  assert.ok(!screen().includes('\u001b'), 'no escape sequence from event text reaches the terminal')
})

test('full screen on the bus alone: category rates from the responder, n/a for what only the API has', async (t) => {
  resolveBinary('tmux')
  const responder = `tcp://127.0.0.1:${await freePort()}`
  const rep = new Reply({ linger: 0 })
  await rep.bind(responder)
  let n = 0
  void (async () => {
    try {
      for await (const [req] of rep) {
        n++
        if (req.toString() !== 'am.snmp?') await rep.send('am.snmp ? ? ?')
        else
          await rep.send([
            `am.snmp InMsgs C32 ${10 * n}`,
            `am.snmp ContentCleanMsgs C32 ${8 * n}`,
            `am.snmp ContentSpamMsgs C32 ${2 * n}`,
            `am.snmp TimeElapsedSpamCheck C32 ${1500 * n}`,
          ])
      }
    } catch {}
  })()
  t.after(() => rep.close())
  const endpoint = `tcp://127.0.0.1:${await freePort()}`
  const pub = new Publisher({ linger: 0 })
  await pub.bind(endpoint)
  const now = Date.now() / 1000
  const timer = setInterval(() => {
    void pub.send(`am.st 101 ${formatAbsTime(now - 5)} m 00101-01`).then(() => pub.send('am.st 101 10 S 00101-01'))
  }, 100)
  t.after(() => {
    clearInterval(timer)
    pub.close()
  })
  const dir = await tmpDir(t, 'status-summary-bus')
  const cfg = join(dir, 'vigil.yaml')
  writeFileSync(cfg, `zmq:\n  snmp: ${responder}\nstatus:\n  counters_interval_secs: 0.5\n`)
  const screen = startTmux(
    t,
    `NCURSES_NO_UTF8_ACS=1 '${process.execPath}' '${BIN}' --tui -w 0.2 --config ${cfg} --connect ${endpoint}; echo "EXITED-$?"; sleep 60`,
    150,
    30,
  )
  const s = await waitFor(
    () => {
      const x = screen()
      return /^\s+101 S /m.test(x) && /Clean \d+\.\d/.test(x) && /spam +150ms/.test(x) ? x : undefined
    },
    { timeoutMs: 30_000, intervalMs: 200 },
  )
  assert.match(s, /\| +Clean \d+\.\d Spam \d+\.\d Virus 0\.0$/m, 'rates from the responder counters')
  assert.match(s, /-- stage latency {2}mean per msg \(counters\)/)
  assert.match(s, /-- pipeline -+\n.*\| +n\/a \(bus only; --api <collector URL> adds it\)$/m)
  assert.match(s, /-- last messages -+\n.*\| +n\/a \(bus only/m)
})
