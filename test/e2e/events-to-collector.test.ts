// Acceptance (collector): mail through the real filter reaches the collector on every channel:
// one JSON event per message on the events socket (→ /api/events, the daily NDJSON store and the
// per-stage histograms of /metrics), the am.snmp counters (→ responder totals = /metrics), and the
// workers' am.st states (→ /api/status). Real collector and filter in this process, Postfix
// smtp-source/smtp-sink from the harness.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Request } from 'zeromq'
import { runSmtpSource, waitFor } from '../harness/index.ts'
import { needs, startStack } from './stack.ts'

const N = 4

test('N messages through the filter show up as N events, N InMsgs and busy-then-idle workers in the collector', async (t) => {
  if (!needs(t, 'collector/src/app.ts', 'filter-core/src/app.ts')) return
  const stack = await startStack(t, {
    name: 'e2e-events',
    myhostname: 'events.e2e.test',
    collector: { http_listen: '127.0.0.1:0', nanny_interval_secs: 1 },
    maxServers: 2,
  })
  const { home, common, filterPort } = stack
  const http = stack.http!
  const sink = stack.sink!

  const src = await runSmtpSource({ port: filterPort, count: N, sessions: 2, sizeBytes: 1500, timeoutMs: 120_000 })
  assert.equal(src.code, 0, src.stderr)
  await sink.waitForMessages(N, 60_000)

  const events = await waitFor(
    async () => {
      const body = (await (await fetch(`http://${http}/api/events?limit=100`)).json()) as {
        events: Record<string, unknown>[]
      }
      return body.events.length >= N ? body.events : undefined
    },
    { timeoutMs: 20_000, what: `${N} events in /api/events` },
  )
  assert.equal(events.length, N, stack.logs)
  for (const e of events) {
    assert.equal(e.type, 'amavis')
    assert.equal(e.host, 'events.e2e.test')
    assert.match(String(e.log_id), /^\d{5}-\d{2}/)
    assert.equal(typeof (e.elapsed as Record<string, number>).Total, 'number')
  }

  // the embedded store: one NDJSON line per event, byte for byte (the sinks are written in turn,
  // the store a moment after the ring that serves /api/events)
  const storedLines = async () => {
    const files = (await readdir(join(home, 'events'))).filter((f) => /^\d{4}-\d{2}-\d{2}\.ndjson$/.test(f))
    return (await Promise.all(files.map((f) => readFile(join(home, 'events', f), 'utf8'))))
      .join('')
      .split('\n')
      .filter(Boolean)
  }
  const lines = await waitFor(async () => ((await storedLines()).length >= N ? storedLines() : undefined), {
    timeoutMs: 10_000,
    what: `${N} lines in the NDJSON store`,
  })
  assert.equal(lines.length, N)

  // the responder's totals, /metrics and the histograms agree
  const req = new Request({ linger: 0, receiveTimeout: 10_000 })
  req.connect(common.zmq.snmp)
  t.after(() => req.close())
  let inMsgs = 0
  await waitFor(
    async () => {
      await req.send('am.snmp?')
      const f = (await req.receive()).map((b) => b.toString()).find((x) => x.startsWith('am.snmp InMsgs '))
      inMsgs = f ? Number(f.split(' ')[3]) : 0
      return inMsgs >= N
    },
    { timeoutMs: 20_000, what: 'InMsgs in the responder' },
  )
  assert.equal(inMsgs, N)
  const metrics = await (await fetch(`http://${http}/metrics`)).text()
  assert.match(metrics, new RegExp(`^amavis_in_msgs_total ${N}$`, 'm'))
  assert.match(metrics, new RegExp(`^vigil_stage_duration_seconds_count\\{stage="total"\\} ${N}$`, 'm'))
  assert.match(metrics, new RegExp(`^vigil_events_received_total ${N}$`, 'm'))

  // the workers are in the process table, idle once the mail is done
  const status = await waitFor(
    async () => {
      const s = (await (await fetch(`http://${http}/api/status`)).json()) as {
        summary: { all: number; busy: number }
        processes: { host: string }[]
      }
      return s.summary.all >= 1 && s.summary.busy === 0 ? s : undefined
    },
    { timeoutMs: 20_000, what: 'idle workers in /api/status' },
  )
  assert.ok(status.processes.every((p) => p.host === 'events.e2e.test'))
})
