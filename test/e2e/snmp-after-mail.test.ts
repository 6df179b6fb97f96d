// Acceptance: after N messages through the filter, AMAVIS-MIB read through a real snmpd master
// shows inMsgs and the content-category counters moved by exactly N, and the process gauges
// agree with what amavis-status shows. Real collector (bus, minder, snmp-responder) and filter
// in this process, the Vigil AgentX subagent, the harness snmpd, Postfix smtp-source/smtp-sink.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { COUNTERS_BY_NAME, CONTENT_CATS } from '@vigil/protocol'
import { runSmtpSource, startSnmpd, tmpDir, waitFor } from '../harness/index.ts'
import { needs, ROOT, startStack } from './stack.ts'

const BIN = join(ROOT, 'bin/amavis-status.mjs')
const N = 6
const oid = (name: string) => COUNTERS_BY_NAME.get(name)![0].oid

function parseGet(out: string): Map<string, bigint> {
  const m = new Map<string, bigint>()
  for (const l of out.split('\n')) {
    const x = /^\.([\d.]+) = (?:Counter32|Counter64|Gauge32|INTEGER): (\d+)$/.exec(l)
    if (x) m.set(x[1], BigInt(x[2]))
  }
  return m
}

test('after N messages through the filter, SNMP inMsgs and the content counters moved by exactly N and the process gauges match amavis-status', async (t) => {
  if (!needs(t, 'collector/src/app.ts', 'filter-core/src/app.ts', 'snmp-agent/src/app.ts')) return
  const { createSnmpAgent } = await import('@vigil/snmp-agent/app.ts')
  const { snmpAgentConfigSchema } = await import('@vigil/snmp-agent/config.ts')

  const spool = await tmpDir(t, 'e2e-spool')
  const snmpd = await startSnmpd(t)
  const stack = await startStack(t, {
    name: 'e2e-snmp',
    myhostname: 'snmp.e2e.test',
    common: { snmp_location: 'Grüße aus Köln' },
    maxServers: 2,
  })
  const { common, log, outer, filterPort } = stack
  const sink = stack.sink!
  const agent = createSnmpAgent(
    common,
    snmpAgentConfigSchema.parse({
      enabled: true,
      agentx_socket: snmpd.agentxAddress,
      postfix_queue_directory: spool,
      stats_cache_ttl_secs: 0,
      proc_cache_ttl_secs: 0,
      fast_poll_extend_secs: 0,
    }),
    { log: log.child('snmp-agent') },
  )
  await agent.start()
  t.after(() => agent.stop())
  await agent.waitRegistered(10_000)

  const watched = ['InMsgs', 'InMsgsRecips', ...CONTENT_CATS.map((c) => `Content${c}Msgs`)]
  const read = async () => parseGet(await snmpd.snmpget(watched.map(oid)))
  const before = await read()
  assert.equal(before.size, watched.length, 'every watched counter answered')

  const src = await runSmtpSource({ port: filterPort, count: N, sessions: 2, sizeBytes: 1500, timeoutMs: 120_000 })
  assert.equal(src.code, 0, src.stderr)
  await sink.waitForMessages(N, 60_000)

  let after = before
  await waitFor(
    async () => {
      after = await read()
      return after.get(oid('InMsgs'))! - before.get(oid('InMsgs'))! >= BigInt(N)
    },
    { timeoutMs: 20_000, what: `inMsgs to move by ${N}` },
  )
  // Settle: nothing more may arrive (exactly N, not at least N).
  await new Promise((r) => setTimeout(r, 1500))
  after = await read()
  const delta = (name: string) => after.get(oid(name))! - before.get(oid(name))!
  assert.equal(delta('InMsgs'), BigInt(N), stack.logs)
  assert.equal(delta('InMsgsRecips'), BigInt(N))
  const perCat = CONTENT_CATS.map((c) => delta(`Content${c}Msgs`))
  assert.equal(
    perCat.reduce((a, b) => a + b, 0n),
    BigInt(N),
    `each message counts in exactly one major category: ${perCat.join(',')}`,
  )
  assert.equal(delta('ContentCleanMsgs'), BigInt(N), 'smtp-source mail is clean')

  // The filter's cold-start burst travelled filter → collector responder → agent → snmpd intact.
  const sys = await snmpd.snmpget(['sysDescr', 'sysName', 'sysLocation'].map(oid))
  const flat = sys.replace(/\n(?!\.)/g, ' ')
  const str = (name: string) => {
    const m = new RegExp(
      `^\\.${oid(name).replace(/\./g, '\\.')} = (STRING: "(.*)"|Hex-STRING: ([0-9A-F ]+))\\s*$`,
      'm',
    ).exec(flat)
    assert.ok(m, `${name} in ${sys}`)
    return m[2] ?? Buffer.from(m[3].replace(/\s+/g, ''), 'hex').toString('utf8')
  }
  assert.equal(str('sysDescr'), 'amavis-2.13.0 (20230106)')
  assert.equal(str('sysName'), 'snmp.e2e.test')
  assert.equal(str('sysLocation'), 'Grüße aus Köln')

  // Process gauges vs amavis-status, once the workers are idle again.
  const statusCounts = async (): Promise<[number, number]> => {
    const child = spawn(process.execPath, [BIN, '-c', '2', '-w', '1', '--connect', outer], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, VIGIL_CONFIG: '' },
    })
    let err = ''
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d))
    const code = await new Promise<number | null>((r) => child.on('close', r))
    assert.equal(code, 0, err)
    const all = [...err.matchAll(/^(\d+) active, (\d+) idling processes$/gm)]
    const last = all[all.length - 1]
    assert.ok(last, err)
    return [Number(last[1]), Number(last[2])]
  }
  const procOids = ['ProcBusy', 'ProcIdle', 'ProcAll'].map(oid)
  let snmpProcs: bigint[] = []
  let status: [number, number] = [-1, -1]
  await waitFor(
    async () => {
      status = await statusCounts()
      const g = parseGet(await snmpd.snmpget(procOids))
      snmpProcs = procOids.map((o) => g.get(o)!)
      return snmpProcs[0] === BigInt(status[0]) && snmpProcs[1] === BigInt(status[1])
    },
    { timeoutMs: 30_000, what: 'ProcBusy/ProcIdle to match amavis-status' },
  ).catch((err: Error) =>
    assert.fail(`${err.message}: snmp ${snmpProcs.join('/')} vs amavis-status ${status.join('/')}`),
  )
  assert.equal(snmpProcs[2], snmpProcs[0] + snmpProcs[1], 'ProcAll = ProcBusy + ProcIdle')
  assert.ok(snmpProcs[2] >= 2n, `the ${2} workers are counted`)
})
