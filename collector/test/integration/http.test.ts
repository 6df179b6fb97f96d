// The HTTP side against real traffic: /api/status, /api/counters and /metrics agree with the
// responder; events pushed by a filter worker reach /api/events, the NDJSON store and the
// histograms; malformed events are dead-lettered; /api/stream delivers state changes.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile, readdir } from 'node:fs/promises'
import { request } from 'node:http'
import { join } from 'node:path'
import { encodeAmavisJson, formatAbsTime, num3 } from '@vigil/protocol'
import { busClients, collectorInTmp, eventsPusher, requester, text, waitFor } from '../helpers.ts'
import { parseOpenMetrics } from '../http/openmetrics-parser.ts'

const get = async (base: string, path: string) => {
  const r = await fetch(`http://${base}${path}`)
  return { status: r.status, type: r.headers.get('content-type'), body: await r.text() }
}

test('/api/status, /api/counters and /metrics agree with the responder', async (t) => {
  const { env, c } = await collectorInTmp(t, 'collector-http')
  const base = c.internals.httpAddress!
  const { pub } = await busClients(t, env)
  const abs = formatAbsTime(Date.now() / 1000)
  await pub.send(`am.st ${process.pid} ${abs} m ${process.pid}-01`)
  await pub.send(`am.st ${process.pid} 5 S ${process.pid}-01`)
  await pub.send(['am.snmp InMsgs C32 4', 'am.snmp InMsgsSize C64 9000', 'am.snmp TimeElapsedSpamCheck C32 1500'])
  await waitFor(() => c.internals.stats.messagesIn >= 4, 'messages ingested')
  await c.internals.minderRound()

  const status = JSON.parse((await get(base, '/api/status')).body)
  assert.deepEqual(status.summary, { all: 1, busy: 1, idle: 0 })
  const row = status.processes[0]
  assert.equal(row.host, 'mx-test')
  assert.equal(row.pid, process.pid)
  assert.equal(row.state, 'S')
  assert.equal(row.task_id, `${process.pid}-01`)
  assert.equal(row.busy, true)
  assert.equal(row.base_time, abs)
  assert.ok(row.elapsed_secs >= 0 && row.elapsed_secs < 30)

  const req = requester(t, env.common.zmq.snmp)
  await req.send('am.snmp?')
  const snmp = new Map(text(await req.receive()).map((f) => [f.split(' ')[1], f.split(' ')[3]]))
  await req.send('am.nanny?')
  const nanny = new Map(text(await req.receive()).map((f) => [f.split(' ')[1], f.split(' ')[3]]))

  const counters = JSON.parse((await get(base, '/api/counters')).body).counters
  assert.deepEqual(counters.InMsgs, { type: 'C32', value: Number(snmp.get('InMsgs')) })
  assert.deepEqual(counters.ProcBusy, { type: 'G32', value: Number(nanny.get('ProcBusy')) })
  assert.deepEqual(counters.sysObjectID, { type: 'OID', value: '1.3.6.1.4.1.15312.2' })

  const m = await get(base, '/metrics')
  assert.equal(m.status, 200)
  assert.equal(m.type, 'application/openmetrics-text; version=1.0.0; charset=utf-8')
  const fams = parseOpenMetrics(m.body)
  const v = (fam: string, labels: Record<string, string> = {}) =>
    fams.get(fam)!.samples.find((s) => Object.entries(labels).every(([k, x]) => s.labels[k] === x))!.value
  assert.equal(v('amavis_in_msgs'), Number(snmp.get('InMsgs')))
  assert.equal(v('amavis_in_msgs_size_bytes'), Number(snmp.get('InMsgsSize')))
  assert.equal(
    v('amavis_time_elapsed_seconds', { section: 'spam_check' }),
    Number(snmp.get('TimeElapsedSpamCheck')) / 1000,
  )
  assert.equal(v('amavis_proc_busy'), Number(nanny.get('ProcBusy')))
  assert.equal(v('amavis_proc_busy_transfer'), 0)
  assert.equal(v('amavis_proc_busy_spam'), 1)
  assert.equal(v('vigil_processes', { host: 'mx-test', activity: 'spam' }), 1)
  // the minder's FLUSH (1 s after start) may land between the scrape and this line
  const received = v('vigil_bus_messages_received')
  assert.ok(received >= 4 && received <= c.internals.stats.messagesIn, `messages received ${received}`)
  assert.equal(v('vigil_responder_requests'), 2)
})

function event(logId: string, total: number) {
  return encodeAmavisJson({
    '@timestamp': '2024-01-01T10:00:00.123Z',
    type: 'amavis',
    host: 'mx1.example.net',
    log_id: logId,
    message: `${logId} PASS Clean a@example.com -> b@example.net`,
    action: ['PASS'],
    content_type: 'Clean',
    elapsed: { Amavis: num3(0.01), SpamCheck: num3(total - 0.01), Total: num3(total) },
  } as never)
}

test('stores pushed events in the ring, the daily NDJSON file and the histograms; dead-letters bad ones', async (t) => {
  const { dir, env, c } = await collectorInTmp(t, 'collector-http')
  const base = c.internals.httpAddress!
  const push = eventsPusher(t, env.common.zmq.events!)
  const good = [event('01234-01', 0.5), event('01234-02', 2), event('01234-03', 0.004)]
  for (const e of good) await push.send(e)
  await push.send('{"truncated":')
  await push.send(Buffer.from([0xff, 0xfe, 0x7b]))
  await push.send('[1,2,3]')
  await waitFor(
    () => c.internals.stats.eventsReceived === 3 && c.internals.stats.eventsMalformed === 3,
    'events counted',
  )

  const body = (await get(base, '/api/events?limit=2')).body
  assert.equal(
    body,
    `{"events":[${good[2]},${good[1]}]}`,
    'events as received, newest first, amavis number formatting kept',
  )
  assert.deepEqual(
    JSON.parse(body).events.map((e: { log_id: string }) => e.log_id),
    ['01234-03', '01234-02'],
  )
  assert.equal((await get(base, '/api/events?limit=zero')).status, 400)

  const file = join(dir, 'events', '2024-01-01.ndjson')
  const lines = await waitFor(async () => {
    const s = await readFile(file, 'utf8').catch(() => '')
    return s.split('\n').filter(Boolean).length === 3 ? s.split('\n').filter(Boolean) : undefined
  }, 'ndjson file')
  assert.deepEqual(lines, good, 'stored byte for byte as received')
  const dead = await waitFor(async () => {
    const s = await readFile(join(dir, 'events', 'dead-letter.ndjson'), 'utf8').catch(() => '')
    const l = s.split('\n').filter(Boolean)
    return l.length === 3 ? l.map((x) => JSON.parse(x)) : undefined
  }, 'dead letters')
  assert.equal(dead[0].raw, '{"truncated":')
  assert.match(dead[0].error, /invalid JSON/)
  assert.equal(dead[1].raw_base64, Buffer.from([0xff, 0xfe, 0x7b]).toString('base64'))
  assert.match(dead[2].error, /not a JSON object/)
  assert.deepEqual((await readdir(join(dir, 'events'))).sort(), ['2024-01-01.ndjson', 'dead-letter.ndjson'])

  const fams = parseOpenMetrics((await get(base, '/metrics')).body)
  const total = fams.get('vigil_stage_duration_seconds')!.samples.filter((s) => s.labels.stage === 'total')
  assert.equal(total.find((s) => s.name.endsWith('_count'))!.value, 3)
  assert.equal(total.find((s) => s.labels.le === '0.005')!.value, 1)
  assert.equal(total.find((s) => s.labels.le === '0.5')!.value, 2)
  assert.equal(fams.get('vigil_events_malformed')!.samples[0].value, 3)
})

test('/api/stream sends a hello, coalesced state changes and summaries as server-sent events', async (t) => {
  const { c } = await collectorInTmp(t, 'collector-http', {}, { stream_summary_interval_secs: 0.2 })
  const [host, port] = c.internals.httpAddress!.split(':')
  const chunks: string[] = []
  const res = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
    const r = request({ host, port: Number(port), path: '/api/stream' }, resolve)
    r.on('error', reject)
    r.end()
  })
  t.after(() => res.destroy())
  assert.equal(res.headers['content-type'], 'text/event-stream; charset=utf-8')
  res.setEncoding('utf8')
  res.on('data', (d: string) => chunks.push(d))
  await waitFor(() => chunks.join('').includes('event: hello'), 'hello')
  await c.internals.inject('mx-test', [`am.st ${process.pid} ${formatAbsTime(Date.now() / 1000)} A`])
  const states = await waitFor(() => {
    const m = /event: states\ndata: (.*)\n\n/.exec(chunks.join(''))
    return m ? JSON.parse(m[1]) : undefined
  }, 'states event')
  assert.deepEqual(
    states.map((s: { pid: number; state: string }) => [s.pid, s.state]),
    [[process.pid, 'A']],
  )
  // summaries come every 0.2 s; wait for one taken after the state change
  const summary = await waitFor(() => {
    const all = [...chunks.join('').matchAll(/event: summary\ndata: (.*)\n\n/g)].map((m) => JSON.parse(m[1]))
    return all.find((x) => x.processes.all === 1)
  }, 'summary event')
  assert.deepEqual(summary.processes, { all: 1, busy: 1, idle: 0 })
})
