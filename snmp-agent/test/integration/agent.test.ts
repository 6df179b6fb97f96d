// The agent against the real net-snmp snmpd as AgentX master (harness startSnmpd) and the real
// net-snmp client tools. Values come from a zeromq REP socket answering `am.snmp?`/`am.nanny?`
// with amavis-format replies: on the wire that is exactly an amavis-services snmp-responder.
import assert from 'node:assert/strict'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { Reply } from 'zeromq'
import { COUNTERS, commonConfigSchema, createLogger } from '@vigil/protocol'
import { createScope, startSnmpd, tmpDir, type SnmpdInstance } from '../../../test/harness/index.ts'
import { createSnmpAgent, type SnmpAgent } from '../../src/app.ts'
import { snmpAgentConfigSchema } from '../../src/config.ts'

const MIB = '1.3.6.1.4.1.15312.2.1'
const GOLDEN = new URL('../golden/walk.txt', import.meta.url)
const START = Math.floor(Date.now() / 1000) - 3600

/** A REP socket speaking the snmp-responder protocol (spec §2.7), with values the test can change. */
async function startResponder(scope: { after(fn: () => unknown): unknown }) {
  const rep = new Reply({ linger: 0 })
  await rep.bind('tcp://127.0.0.1:*')
  const endpoint = rep.lastEndpoint!
  const state = {
    values: new Map<string, [string, string]>(),
    queries: 0,
    silent: false,
  }
  const serve = async (s: Reply) => {
    try {
      for await (const [msg] of s) {
        state.queries++
        // Silent: answer only long after the agent's REQ timeout (its socket is gone by then, so
        // zeromq drops the late reply). The agent must time out, reset its socket and go on.
        if (state.silent) await new Promise((r) => setTimeout(r, 1500))
        const ch = msg.toString() === 'am.nanny?' ? 'am.nanny' : 'am.snmp'
        const frames = [...state.values]
          .filter(([k]) => (ch === 'am.nanny') === k.startsWith('Proc'))
          .map(([k, [type, value]]) => `${ch} ${k} ${type} ${value}`)
        await s.send(frames.length ? frames : [`${ch} sysServices INT 64`])
      }
    } catch {}
  }
  void serve(rep)
  scope.after(() => rep.close())
  return { endpoint, state }
}

function baseValues(): Map<string, [string, string]> {
  return new Map<string, [string, string]>([
    ['sysDescr', ['STR', 'amavis-2.13.0 (20230106)']],
    ['sysObjectID', ['OID', '1.3.6.1.4.1.15312.2']],
    ['sysUpTime', ['INT', String(START)]],
    ['sysContact', ['STR', 'postmaster@example.org']],
    ['sysName', ['STR', 'mx-Grüße.example']],
    ['sysLocation', ['STR', 'Grüße aus Köln']],
    ['sysServices', ['INT', '64']],
    ['InMsgs', ['C32', String(2 ** 32 + 7)]],
    ['InMsgsStatusAccepted', ['C32', '3']],
    ['InMsgsSize', ['C64', '9007199254740993']],
    ['OutMsgsSize', ['C64', '18446744073709551615']],
    ['ContentCleanMsgs', ['C32', '5']],
    ['TimeElapsedTotal', ['C32', '1954']],
    ['GenMailIdRetries', ['C32', '2']],
    ['virus.byname.Eicar-Test-Signature', ['C32', '1']],
    ['ProcAll', ['G32', '6']],
    ['ProcBusy', ['G32', '2']],
    ['ProcIdle', ['G32', '4']],
    ['ProcGone', ['C32', '1']],
    ['ProcBusy3', ['G32', '2']],
  ])
}

function makeSpool(dir: string) {
  const files: Record<string, string[]> = {
    maildrop: ['m1'],
    incoming: [],
    active: ['a1', 'a2'],
    deferred: ['A/d1', 'B/C/d2', 'B/d3'],
  }
  for (const [q, list] of Object.entries(files)) {
    mkdirSync(join(dir, q), { recursive: true })
    for (const f of list) {
      mkdirSync(join(dir, q, f, '..'), { recursive: true })
      writeFileSync(join(dir, q, f), '')
    }
  }
}

async function startAgent(
  scope: { after(fn: () => unknown): unknown },
  opts: { agentx: string; responder: string; spool: string; lines: string[]; extra?: Record<string, unknown> },
): Promise<SnmpAgent> {
  const common = commonConfigSchema.parse({ zmq: { snmp: opts.responder } })
  const cfg = snmpAgentConfigSchema.parse({
    enabled: true,
    agentx_socket: opts.agentx,
    postfix_queue_directory: opts.spool,
    stats_cache_ttl_secs: 0,
    proc_cache_ttl_secs: 0,
    mta_cache_ttl_secs: 0,
    fast_poll_extend_secs: 0,
    responder_timeout_ms: 500,
    refresh_wait_ms: 300,
    ...opts.extra,
  })
  const agent = createSnmpAgent(common, cfg, {
    log: createLogger({ name: 'snmp-agent', level: 'debug', write: (l) => opts.lines.push(l) }),
  })
  scope.after(() => agent.stop())
  await agent.start()
  await agent.waitRegistered(10_000)
  return agent
}

/** Output lines with the continuation lines of long Hex-STRINGs joined to their varbind. */
function logicalLines(out: string): string[] {
  const lines: string[] = []
  for (const l of out.split('\n')) {
    if (!l) continue
    if (l.startsWith('.') || lines.length === 0) lines.push(l)
    else lines[lines.length - 1] += ' ' + l.trim()
  }
  return lines
}

/** `snmpwalk -On` output with the values that vary from run to run replaced. */
function normaliseWalk(out: string): string {
  return logicalLines(out)
    .map((l) => l.replace(/^(\.1\.3\.6\.1\.4\.1\.15312\.2\.1\.1\.1\.3\.0 = Timeticks: ).*$/, '$1<ticks>'))
    .join('\n')
}

const TYPE_OF_SYNTAX: Record<string, string> = {
  Counter32: 'Counter32',
  Counter64: 'Counter64',
  Gauge32: 'Gauge32',
  Integer32: 'INTEGER',
  TimeInterval: 'INTEGER',
  TimeTicks: 'Timeticks',
  DisplayString: 'STRING|Hex-STRING|""',
  'OBJECT IDENTIFIER': 'OID',
}
const hexToUtf8 = (line: string) =>
  Buffer.from(line.replace(/^.*Hex-STRING: /, '').replace(/\s+/g, ''), 'hex').toString('utf8')
const valueOf = (out: string, oid: string) =>
  logicalLines(out)
    .find((l) => l.startsWith(`.${oid} = `))
    ?.slice(oid.length + 4)

describe('snmp-agent with a real snmpd master', () => {
  const scope = createScope()
  let snmpd: SnmpdInstance
  let responder: Awaited<ReturnType<typeof startResponder>>
  let agent: SnmpAgent
  const lines: string[] = []

  before(async () => {
    snmpd = await startSnmpd(scope)
    responder = await startResponder(scope)
    responder.state.values = baseValues()
    const spool = await tmpDir(scope, 'spool')
    makeSpool(spool)
    agent = await startAgent(scope, { agentx: snmpd.agentxAddress, responder: responder.endpoint, spool, lines })
  })
  after(() => scope.close())

  it('walks every AMAVIS-MIB object in OID order with its SYNTAX (snmpwalk v2c), as pinned in golden/walk.txt', async () => {
    const out = await snmpd.snmpwalk([MIB])
    const walk = normaliseWalk(out).split('\n')
    assert.equal(walk.length, COUNTERS.length)
    walk.forEach((l, i) => {
      const c = COUNTERS[i]
      assert.ok(l.startsWith(`.${c.oid} = `), `line ${i}: ${l} (want ${c.oid})`)
      assert.match(l.slice(c.oid.length + 4), new RegExp(`^(${TYPE_OF_SYNTAX[c.syntax]})`), `${c.name}: ${l}`)
    })
    if (process.env.VIGIL_UPDATE_GOLDEN === '1') writeFileSync(GOLDEN, walk.join('\n') + '\n')
    assert.equal(walk.join('\n') + '\n', readFileSync(GOLDEN, 'utf8'))
  })

  it('gives the same answer to snmpbulkwalk (v2c) and to snmpbulkwalk over SNMPv3 authPriv', async () => {
    const walk = normaliseWalk(await snmpd.snmpwalk([MIB]))
    assert.equal(normaliseWalk(await snmpd.snmpbulkwalk(['-Cr25', MIB])), walk)
    assert.equal(normaliseWalk(await snmpd.v3.snmpbulkwalk(['-Cr50', MIB])), walk)
  })

  it('serves wrapped Counter32, exact Counter64 above 2^53, centisecond TimeElapsed and UTF-8 strings intact', async () => {
    const out = await snmpd.snmpget([
      `${MIB}.1.2.1.0`,
      `${MIB}.1.3.1.0`,
      `${MIB}.1.7.1.0`,
      `${MIB}.1.16.1.0`,
      `${MIB}.1.1.5.0`,
      `${MIB}.1.1.6.0`,
      `${MIB}.1.2.7.0`,
      `${MIB}.1.19.1.0`,
      `${MIB}.1.1.3.0`,
    ])
    assert.equal(valueOf(out, `${MIB}.1.2.1.0`), 'Counter32: 7')
    assert.equal(valueOf(out, `${MIB}.1.3.1.0`), 'Counter64: 9007199254740993')
    assert.equal(valueOf(out, `${MIB}.1.7.1.0`), 'Counter64: 18446744073709551615')
    assert.equal(valueOf(out, `${MIB}.1.16.1.0`), 'INTEGER: 195')
    assert.equal(hexToUtf8(valueOf(out, `${MIB}.1.1.5.0`)!), 'mx-Grüße.example')
    assert.equal(hexToUtf8(valueOf(out, `${MIB}.1.1.6.0`)!), 'Grüße aus Köln')
    // One amavis name, two OIDs.
    assert.equal(valueOf(out, `${MIB}.1.2.7.0`), 'Counter32: 3')
    assert.equal(valueOf(out, `${MIB}.1.19.1.0`), 'Counter32: 3')
    const ticks = Number(/Timeticks: \((\d+)\)/.exec(valueOf(out, `${MIB}.1.1.3.0`)!)![1])
    assert.ok(ticks >= 360000 && ticks < 360000 + 60 * 100, `sysUpTime ${ticks}`)
  })

  it('serves process gauges from am.nanny and Postfix queue entries counted in the spool', async () => {
    const out = await snmpd.snmpget([
      `${MIB}.2.1.1.0`,
      `${MIB}.2.1.2.0`,
      `${MIB}.2.1.4.0`,
      `${MIB}.2.2.4.0`,
      ...[1, 2, 3, 4].map((i) => `${MIB}.3.1.${i}.0`),
    ])
    assert.deepEqual(
      logicalLines(out).map((l) => l.split(' = ')[1]),
      [
        'Counter32: 1',
        'Gauge32: 6',
        'Gauge32: 2',
        'Gauge32: 2',
        'Gauge32: 1',
        'Gauge32: 0',
        'Gauge32: 2',
        'Gauge32: 3',
      ],
    )
  })

  it('answers unknown instances with noSuchObject/noSuchInstance and refuses SET', async () => {
    const out = await snmpd.snmpget([`${MIB}.1.2.99.0`, `${MIB}.1.2.1.5`])
    assert.match(valueOf(out, `${MIB}.1.2.99.0`)!, /No Such Object/)
    assert.match(valueOf(out, `${MIB}.1.2.1.5`)!, /No Such Instance/)
    const set = await snmpd.run('snmpset', [
      '-v2c',
      '-c',
      'public',
      '-On',
      '-t',
      '3',
      '-r',
      '0',
      `127.0.0.1:${snmpd.udpPort}`,
      `${MIB}.1.1.7.0`,
      'i',
      '1',
    ])
    assert.notEqual(set.code, 0)
    assert.match(set.stderr + set.stdout, /notWritable|noAccess|noCreation|not writable/i)
  })

  it('follows new responder totals on the next request once the TTL has passed, and keeps values a reply omits', async () => {
    responder.state.values.set('InMsgs', ['C32', '12'])
    responder.state.values.set('ProcBusy', ['G32', '5'])
    responder.state.values.delete('ContentCleanMsgs')
    const out = await snmpd.snmpget([`${MIB}.1.2.1.0`, `${MIB}.2.1.4.0`, `${MIB}.1.10.1.1.0`])
    assert.equal(valueOf(out, `${MIB}.1.2.1.0`), 'Counter32: 12')
    assert.equal(valueOf(out, `${MIB}.2.1.4.0`), 'Gauge32: 5')
    // amavis's subagent does not reset a value missing from a reply; neither do we.
    assert.equal(valueOf(out, `${MIB}.1.10.1.1.0`), 'Counter32: 5')
  })

  it('keeps 8 parallel bulk walks complete and identical', async () => {
    const walks = await Promise.all(Array.from({ length: 8 }, () => snmpd.snmpbulkwalk(['-Cr20', MIB])))
    const norm = walks.map(normaliseWalk)
    for (const w of norm) {
      assert.equal(w.split('\n').length, COUNTERS.length)
      assert.equal(w, norm[0])
    }
  })

  it('answers from its last cache when the responder stops answering, within agentXTimeout, and logs staleness', async () => {
    responder.state.silent = true
    const began = Date.now()
    const out = await snmpd.snmpget([`${MIB}.1.2.1.0`, `${MIB}.2.1.4.0`])
    const ms = Date.now() - began
    assert.ok(ms < 4000, `snmpget took ${ms} ms (agentXTimeout 2 s × 2 tries)`)
    assert.equal(valueOf(out, `${MIB}.1.2.1.0`), 'Counter32: 12')
    // A whole walk while the responder is silent still completes quickly.
    const w = await snmpd.snmpbulkwalk([MIB])
    assert.equal(normaliseWalk(w).split('\n').length, COUNTERS.length)
    assert.ok(Date.now() - began < 15000)
    assert.ok(
      lines.some((l) => /stale cache|refresh failed/.test(l)),
      lines.slice(-5).join('\n'),
    )
    responder.state.silent = false
    responder.state.values.set('InMsgs', ['C32', '13'])
    const until = Date.now() + 10000
    let v: string | undefined
    while (Date.now() < until) {
      v = valueOf(await snmpd.snmpget([`${MIB}.1.2.1.0`]), `${MIB}.1.2.1.0`)
      if (v === 'Counter32: 13') break
      await new Promise((r) => setTimeout(r, 200))
    }
    assert.equal(v, 'Counter32: 13')
    assert.ok(agent.stats().sources['am.snmp'].failures >= 1)
  })
})

describe('snmp-agent reconnection', () => {
  it('registers again within 5 s after snmpd restarts, and serves again', async (t) => {
    const lines: string[] = []
    const snmpd = await startSnmpd(t)
    const responder = await startResponder(t)
    responder.state.values = baseValues()
    const spool = await tmpDir(t, 'spool')
    const agent = await startAgent(t, { agentx: snmpd.agentxAddress, responder: responder.endpoint, spool, lines })
    assert.match(await snmpd.snmpget([`${MIB}.1.2.1.0`]), /Counter32: 7/)
    const before = agent.stats().session.sessions
    await snmpd.restart()
    const restartedAt = Date.now()
    await agent.waitRegistered(5000)
    while (agent.stats().session.sessions === before && Date.now() - restartedAt < 5000)
      await new Promise((r) => setTimeout(r, 50))
    assert.equal(agent.stats().session.sessions, before + 1, lines.join('\n'))
    assert.ok(Date.now() - restartedAt <= 5000)
    assert.match(await snmpd.snmpget([`${MIB}.1.2.1.0`]), /Counter32: 7/)
    assert.ok(lines.some((l) => l.includes('re-established')))
  })

  it('connects to a unix-socket master (agentXSocket unix:/path) and keeps the idle session alive with Pings snmpd answers', async (t) => {
    const snmpd = await startSnmpd(t, { agentx: 'unix' })
    const responder = await startResponder(t)
    responder.state.values = baseValues()
    const spool = await tmpDir(t, 'spool')
    const agent = await startAgent(t, {
      agentx: snmpd.agentxAddress,
      responder: responder.endpoint,
      spool,
      lines: [],
      extra: { ping_interval_secs: 0.2, agentx_timeout_secs: 3 },
    })
    assert.match(await snmpd.snmpget([`${MIB}.2.1.2.0`]), /Gauge32: 6/)
    await new Promise((r) => setTimeout(r, 1500))
    const s = agent.stats().session
    assert.deepEqual([s.state, s.sessions, s.resets], ['registered', 1, 0])
    assert.ok(s.pings >= 3, `snmpd answered ${s.pings} Pings`)
    assert.match(await snmpd.snmpget([`${MIB}.2.1.2.0`]), /Gauge32: 6/)
  })
})
