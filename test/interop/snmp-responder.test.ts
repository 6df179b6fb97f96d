// Interop: the REAL amavis-services snmp-responder (Debian amavisd-new 2.13, on the test-only
// ZMQ::LibZMQ3 shim, see README.md) subscribed to Vigil's collector outer PUB, fed by Vigil's
// filter-core under smtp-source traffic. Vigil's snmp-agent responder client then reads the real
// responder's totals: InMsgs equals the messages sent, and every counter (C32/C64) agrees with
// the totals of Vigil's own responder, which saw the same stream.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Publisher } from 'zeromq'
import { createLogger } from '@vigil/protocol'
import { createResponderClient, type ResponderClient } from '@vigil/snmp-agent/responder-client.ts'
import { runSmtpSource, sleep, tmpDir, waitFor } from '../harness/index.ts'
import { needs, startStack } from '../e2e/stack.ts'
import { assertAmavisInstalled, privateAmavisServices, startAmavisTask } from './amavis.ts'

const N = 5

test('the real amavis snmp-responder counts what Vigil filter-core publishes: InMsgs = N, counters agree with Vigil', async (t) => {
  if (!needs(t, 'collector/src/app.ts', 'filter-core/src/app.ts', 'snmp-agent/src/responder-client.ts')) return
  assertAmavisInstalled()
  const stack = await startStack(t, { name: 'interop-rsp', myhostname: 'interop.test', maxServers: 2 })
  const dir = await tmpDir(t, 'interop-amavis-rsp')
  const amavis = await privateAmavisServices(dir, stack.outer)
  await startAmavisTask(t, amavis, 'snmp-responder')

  const log = createLogger({ name: 'interop', level: 'warn', write: () => {} })
  const clients: ResponderClient[] = []
  const client = (endpoint: string) => {
    const c = createResponderClient({ endpoint, timeoutMs: 10_000, log })
    clients.push(c)
    return c
  }
  t.after(() => clients.forEach((c) => c.close()))
  const real = client(amavis.snmp)
  const vigil = client(stack.common.zmq.snmp)

  // PUB/SUB slow joiner: publish a probe counter into the collector's inner socket until the real
  // responder (SUB on the collector's outer PUB) has it, so no message counter can be missed.
  const probe = new Publisher({ linger: 0 })
  t.after(() => probe.close())
  probe.connect(stack.common.zmq.inner[0])
  await waitFor(
    async () => {
      await probe.send('am.snmp InteropProbe C32 1')
      const r = await real.query('am.snmp')
      return r.values.has('InteropProbe')
    },
    { timeoutMs: 60_000, intervalMs: 300, what: "the real snmp-responder's subscription to Vigil's outer socket" },
  )
  probe.close()
  const before = (await vigil.query('am.snmp')).values.get('InMsgs')
  assert.equal(before, undefined, 'no message was processed before the traffic')

  const src = await runSmtpSource({
    port: stack.filterPort,
    count: N,
    sessions: 2,
    sizeBytes: 1500,
    timeoutMs: 120_000,
  })
  assert.equal(src.code, 0, src.stderr)
  await stack.sink!.waitForMessages(N, 60_000)

  const inMsgs = async (c: ResponderClient) => Number((await c.query('am.snmp')).values.get('InMsgs')?.value ?? 0)
  await waitFor(async () => (await inMsgs(real)) >= N && (await inMsgs(vigil)) >= N, {
    timeoutMs: 60_000,
    intervalMs: 250,
    what: `InMsgs = ${N} in both responders`,
  })
  await sleep(300) // nothing more may arrive: N messages, N counter batches
  const realValues = (await real.query('am.snmp')).values
  const vigilValues = (await vigil.query('am.snmp')).values
  assert.deepEqual(realValues.get('InMsgs'), { type: 'C32', value: String(N) })
  assert.equal(realValues.get('OutMsgs')?.value, String(N), 'OutMsgs, each message was forwarded')

  const counters = (m: Map<string, { type: string; value: string }>) =>
    Object.fromEntries(
      [...m]
        .filter(([name, v]) => (v.type === 'C32' || v.type === 'C64') && name !== 'InteropProbe')
        .sort(([a], [b]) => (a < b ? -1 : 1)),
    )
  const realCounters = counters(realValues)
  if (process.env.VIGIL_SHOW_OUTPUT) console.error(realCounters)
  assert.ok(Object.keys(realCounters).length >= 10, `few counters: ${JSON.stringify(realCounters)}`)
  // Counters the filter touched per message only (no start-up values), so both totals are the same sums.
  assert.deepEqual(realCounters, counters(vigilValues), 'the real responder and Vigil agree on every counter')
})
