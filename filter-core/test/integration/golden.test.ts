// Golden wire test: what a ZMQ subscriber on the inner socket sees for a filter cold start and
// one clean message (embedded defaults: no clamd/spamd), parsed by the protocol codec, with pids,
// times, task ids and timing values normalised. UPDATE_GOLDEN=1 rewrites the file.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseMessage } from '@vigil/protocol'
import { sendMail, startSmtpSink } from '../../../test/harness/index.ts'
import { startFilterStack } from '../helpers.ts'

const GOLDEN = fileURLToPath(new URL('../golden/clean-message.txt', import.meta.url))
const GOLDEN_EVENT = fileURLToPath(new URL('../golden/clean-message-event.json', import.meta.url))

/** The event with run-dependent values replaced (ids, times, ports, sizes that include our Received line). */
function normaliseEvent(json: string): string {
  return json
    .replace(/"@timestamp":"[^"]+"/, '"@timestamp":"T"')
    .replace(/"time_unix":[\d.]+/, '"time_unix":0.000')
    .replace(/"time_iso_week_date":"[^"]+"/, '"time_iso_week_date":"W"')
    .replace(/"elapsed":\{[^}]*\}/, (m) => m.replace(/:\d+\.\d{3}/g, ':0.000'))
    .replace(/"mail_id":"[\w-]{12}"/, '"mail_id":"MAILID"')
    .replace(/\d{5}-01/g, 'PID-01')
    .replace(/"dst_port":\d+/, '"dst_port":PORT')
    .replace(/\[127\.0\.0\.1\]:\d+/g, '[127.0.0.1]:PORT')
    .replace(/"(src_ip|dst_ip)":"127\.0\.0\.1"/g, '"$1":"127.0.0.1"')
}

const MESSAGE =
  'From: Alice <alice@example.com>\r\nTo: bob@example.test\r\nSubject: golden\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n' +
  'Message-ID: <golden@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nHello Bob.\r\n'

test('a subscriber sees the cold-start burst, the state sequence and one counter message as amavis sends them', async (t) => {
  const sink = await startSmtpSink(t)
  const { bus, pull, ...f } = await startFilterStack(t, {
    events: true,
    forwardPort: sink.port,
    // One process, as amavisd with $max_servers 1 and no spare child: the exact sequence one child sends.
    filter: { max_servers: 1, min_spare_servers: 0, local_domains_maps: ['example.test'] },
  })
  const r = await sendMail({
    port: f.port,
    from: 'alice@example.com',
    to: ['bob@example.test'],
    data: MESSAGE,
    xforward: { ADDR: '192.0.2.10', PORT: '41831', NAME: 'mx.example.com', HELO: 'mx.example.com', PROTO: 'ESMTP' },
  })
  assert.equal(r.finalCode, 250)
  const workerPid = String(f.filter.workerPids()[0])
  await bus.waitFor(
    (m) => m.filter((x) => x[0] === `am.st ${workerPid} ${x[0].split(' ')[2]} -`).length >= 2,
    10000,
    'idle after the session',
  )

  const lines: string[] = []
  // vigil.stats (Vigil's own counts, e.g. events_produced after each session) is a topic no amavis
  // peer subscribes to: not part of what amavis sends.
  for (const msg of bus.messages.filter((m) => !m[0].startsWith('vigil.stats '))) {
    const { frames, errors } = parseMessage(msg)
    assert.deepEqual(errors, [], `every frame parses: ${msg.join(' | ')}`)
    assert.equal(frames.length, msg.length)
    const topics = new Set(msg.map((p) => p.split(' ')[0]))
    assert.equal(topics.size, 1, 'one topic per multi-part message')
    lines.push(`--- message (${msg.length} frame${msg.length > 1 ? 's' : ''})`)
    for (const fr of msg) {
      const p = fr.split(' ')
      if (p[0] === 'am.st') {
        const who = p[1] === workerPid ? 'WORKER' : 'MASTER'
        const time = Number(p[2]) > 1e9 ? 'ABS' : 'REL'
        lines.push(['am.st', who, time, p[3], ...(p[4] ? [p[4].replace(/^\d{5}-/, 'PID-')] : [])].join(' '))
      } else if (p[0] === 'am.snmp') {
        const name = p[1]
        let value = p.slice(3).join(' ')
        if (/^TimeElapsed|^sysUpTime$|^OutMsgsSize/.test(name)) value = 'N'
        lines.push(`am.snmp ${name} ${p[2] ?? ''} ${value}`.trimEnd())
      } else lines.push(fr)
    }
  }
  const got = lines.join('\n') + '\n'
  if (process.env.UPDATE_GOLDEN) writeFileSync(GOLDEN, got)
  assert.equal(got, readFileSync(GOLDEN, 'utf8'))

  // The JSON event: sorted keys, %.3f numbers, amavis field set (spec §5.3–5.5).
  await pull.waitFor(1)
  const ev = normaliseEvent(pull.raw[0]) + '\n'
  if (process.env.UPDATE_GOLDEN) writeFileSync(GOLDEN_EVENT, ev)
  assert.equal(ev, readFileSync(GOLDEN_EVENT, 'utf8'))
})
