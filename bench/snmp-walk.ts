// Full-subtree walk cost through snmpd + Vigil's AgentX subagent: the median of 20 `snmpbulkwalk`s
// of AMAVIS-MIB (331 objects) against, as the floor measured in the same run, the median of 20
// single-OID `snmpget`s (same process start-up, one AgentX round trip). Target: walk ≤ 2 × get.
// For scale, in the same run: the GetNext `snmpwalk`, and snmpd walking 331 of its own (native,
// no AgentX) mib-2 objects with snmpwalk, which isolates the AgentX share of the cost.
// Real snmpd (harness), values from a REP responder.
//   node --import tsx bench/snmp-walk.ts [--runs 20] [--agentx tcp|unix]
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { Reply } from 'zeromq'
import { commonConfigSchema, COUNTERS, createLogger } from '@vigil/protocol'
import { createScope, startSnmpd, tmpDir } from '../test/harness/index.ts'
import { createSnmpAgent } from '../snmp-agent/src/app.ts'
import { snmpAgentConfigSchema } from '../snmp-agent/src/config.ts'

const { values } = parseArgs({ options: { runs: { type: 'string' }, agentx: { type: 'string' } } })
const AGENTX = values.agentx === 'unix' ? 'unix' : 'tcp'
const RUNS = Math.min(100, Math.max(5, Number(values.runs ?? 20)))
const MIB = '1.3.6.1.4.1.15312.2.1'

const scope = createScope()
try {
  const snmpd = await startSnmpd(scope, { agentx: AGENTX })
  console.log(`AgentX over ${AGENTX} (${snmpd.agentxAddress}); --agentx unix|tcp`)
  const rep = new Reply({ linger: 0 })
  await rep.bind('tcp://127.0.0.1:*')
  scope.after(() => rep.close())
  const frames = COUNTERS.filter((c) => c.source === 'snmp' && c.wireType === 'C32').map(
    (c, i) => `am.snmp ${c.name} C32 ${i * 7}`,
  )
  void (async () => {
    try {
      for await (const [m] of rep)
        await rep.send(m.toString() === 'am.nanny?' ? ['am.nanny ProcAll G32 4', 'am.nanny ProcBusy G32 1'] : frames)
    } catch {}
  })()
  const spool = await tmpDir(scope, 'bench-spool')
  for (const q of ['maildrop', 'incoming', 'active', 'deferred']) mkdirSync(join(spool, q))
  const agent = createSnmpAgent(
    commonConfigSchema.parse({ zmq: { snmp: rep.lastEndpoint! } }),
    snmpAgentConfigSchema.parse({ agentx_socket: snmpd.agentxAddress, postfix_queue_directory: spool }),
    { log: createLogger({ name: 'snmp-agent', level: 'warn', write: (l) => process.stderr.write(l + '\n') }) },
  )
  scope.after(() => agent.stop())
  await agent.start()
  await agent.waitRegistered(10_000)

  const time = async (fn: () => Promise<unknown>) => {
    const t0 = performance.now()
    await fn()
    return performance.now() - t0
  }
  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b)
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
  }
  // Warm-up: first walk fills the caches and the process page cache.
  const lines = (await snmpd.snmpbulkwalk(['-Cr50', MIB])).split('\n').filter((l) => l.startsWith('.')).length
  if (lines !== COUNTERS.length) throw new Error(`bulkwalk returned ${lines} objects, expected ${COUNTERS.length}`)
  // The 332nd native object ends a native walk of exactly 331 objects.
  const nativeList = (await snmpd.snmpbulkwalk(['-Cr50', '1.3.6.1.2.1'])).split('\n').filter((l) => l.startsWith('.'))
  const nativeEnd = nativeList[COUNTERS.length]?.split(' ')[0]
  // snmpbulkwalk has no end option, so the native baseline is a GetNext walk (snmpwalk -CE),
  // compared with the GetNext walk of AMAVIS-MIB.
  const nativeArgs = ['-CE', nativeEnd ?? '', '1.3.6.1.2.1']
  const nativeCount = nativeEnd
    ? (await snmpd.snmpwalk(nativeArgs)).split('\n').filter((l) => l.startsWith('.')).length
    : 0
  const get: number[] = []
  const bulk: number[] = []
  const walk: number[] = []
  const native: number[] = []
  const before = agent.stats().session
  for (let i = 0; i < RUNS; i++) {
    // Interleaved, so machine load affects both series alike.
    get.push(await time(() => snmpd.snmpget([`${MIB}.1.2.1.0`])))
    bulk.push(await time(() => snmpd.snmpbulkwalk(['-Cr50', MIB])))
    walk.push(await time(() => snmpd.snmpwalk([MIB])))
    if (nativeCount) native.push(await time(() => snmpd.snmpwalk(nativeArgs)))
  }
  const after = agent.stats().session
  const g = median(get)
  const b = median(bulk)
  const w = median(walk)
  console.log(`snmpget 1 OID (floor)          median ${g.toFixed(1)} ms over ${RUNS}`)
  console.log(
    `snmpbulkwalk ${COUNTERS.length} OIDs (-Cr50) median ${b.toFixed(1)} ms   ratio ${(b / g).toFixed(2)} × get (target ≤ 2)`,
  )
  console.log(
    `snmpwalk ${COUNTERS.length} OIDs (GetNext)  median ${w.toFixed(1)} ms   ratio ${(w / g).toFixed(2)} × get`,
  )
  if (nativeCount) {
    const n = median(native)
    console.log(
      `snmpwalk ${nativeCount} native snmpd OIDs (GetNext, no AgentX) median ${n.toFixed(1)} ms   ratio ${(n / g).toFixed(2)} × get; ` +
        `AgentX snmpwalk / native snmpwalk ${(w / n).toFixed(2)}`,
    )
  }
  const reqs = after.requests - before.requests
  const perReqUs = (after.answerNs - before.answerNs) / reqs / 1000
  const perWalk = reqs / (3 * RUNS)
  console.log(
    `agent: ${reqs} AgentX requests in ${3 * RUNS} runs (snmpd turns each GetBulk repetition into one AgentX GetNext); ` +
      `${perReqUs.toFixed(1)} µs inside the agent per request (answer + encode + write) ≈ ` +
      `${((perReqUs * COUNTERS.length) / 1000).toFixed(1)} ms of a ${COUNTERS.length}-object walk; ${after.malformed} malformed`,
  )
  void perWalk
} finally {
  await scope.close()
}
