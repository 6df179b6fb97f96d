// Failure modes a real snmpd will not produce on demand: a master speaking broken AgentX, a
// master that stops answering Pings, requests for unknown sessions. The fake master here is a
// plain net.Server speaking (and mis-speaking) the protocol; the happy path against the real
// snmpd lives in test/integration/.
import assert from 'node:assert/strict'
import { createServer, type Server, type Socket } from 'node:net'
import { describe, it, type TestContext } from 'node:test'
import { createLogger } from '@vigil/protocol'
import { createFramer } from '../../src/agentx/framer.ts'
import { encodePdu, parseOid, PduType, ResponseError, VarType, type Pdu } from '../../src/agentx/pdu.ts'
import { createAgentxSession, type SubagentBackend } from '../../src/agentx/session.ts'
import { createMibBackend, SUBTREES } from '../../src/mib-view.ts'

const MIB = '1.3.6.1.4.1.15312.2.1'
type Response = Extract<Pdu, { type: typeof PduType.Response }>

interface FakeMaster {
  server: Server
  port: number
  opens: number
  registers: number
  conn?: Socket
  answerPings: boolean
  /** Next Response PDU the agent sends for a master-originated packetId. */
  response(packetId: number, ms?: number): Promise<Response>
  nextOpen(ms?: number): Promise<void>
}

async function startFakeMaster(t: TestContext, host = '127.0.0.1'): Promise<FakeMaster> {
  const responses = new Map<number, Response>()
  const waiters: Array<() => void> = []
  const wake = () => waiters.splice(0).forEach((w) => w())
  const m: FakeMaster = {
    server: createServer(),
    port: 0,
    opens: 0,
    registers: 0,
    answerPings: true,
    async response(packetId, ms = 3000) {
      const until = Date.now() + ms
      while (!responses.has(packetId)) {
        if (Date.now() > until) throw new Error(`no Response for packet ${packetId}`)
        await new Promise<void>((r) => {
          waiters.push(r)
          setTimeout(r, 50)
        })
      }
      return responses.get(packetId)!
    },
    async nextOpen(ms = 4000) {
      const want = m.opens + 1
      const until = Date.now() + ms
      while (m.opens < want || m.registers < want * SUBTREES.length) {
        if (Date.now() > until) throw new Error(`no re-open within ${ms} ms`)
        await new Promise((r) => setTimeout(r, 20))
      }
    },
  }
  const conns = new Set<Socket>()
  m.server.on('connection', (c) => {
    m.conn = c
    conns.add(c)
    c.on('close', () => conns.delete(c))
    const framer = createFramer({
      pdu: (pdu) => {
        const h = pdu.header
        const reply = (sessionId: number) =>
          c.write(
            encodePdu({ type: PduType.Response }, { sessionId, transactionId: h.transactionId, packetId: h.packetId }),
          )
        if (pdu.type === PduType.Open) {
          m.opens++
          reply(42)
        } else if (pdu.type === PduType.Register) {
          m.registers++
          reply(42)
        } else if (pdu.type === PduType.Ping) {
          if (m.answerPings) reply(42)
        } else if (pdu.type === PduType.Close) reply(42)
        else if (pdu.type === PduType.Response) {
          responses.set(h.packetId, pdu)
          wake()
        }
      },
      malformed: () => {},
      fatal: () => c.destroy(),
    })
    c.on('data', (d) => framer.push(d))
    c.on('error', () => {})
  })
  await new Promise<void>((resolve, reject) => {
    m.server.once('error', reject)
    m.server.listen(0, host, resolve)
  })
  m.port = (m.server.address() as { port: number }).port
  t.after(
    () =>
      new Promise<void>((r) => {
        m.server.close(() => r())
        for (const c of conns) c.destroy()
      }),
  )
  return m
}

function startAgent(
  t: TestContext,
  port: number,
  opts: { pingIntervalMs?: number; host?: string; family?: 0 | 4 | 6; backend?: SubagentBackend } = {},
) {
  const lines: string[] = []
  const store = new Map([['InMsgs', { type: 'C32', value: '7' }]])
  const session = createAgentxSession({
    address: { kind: 'tcp', host: opts.host ?? '127.0.0.1', port, family: opts.family ?? 0 },
    subtrees: SUBTREES,
    backend:
      opts.backend ?? createMibBackend({ stores: { get: (_s, name) => store.get(name) }, sourceFor: () => undefined }),
    log: createLogger({ name: 'agent', write: (l) => lines.push(l) }),
    id: parseOid('1.3.6.1.4.1.15312.2'),
    description: 'test',
    reconnectMs: 200,
    pingIntervalMs: opts.pingIntervalMs ?? 0,
    timeoutMs: 500,
    answerDeadlineMs: 500,
  })
  session.start()
  t.after(() => session.stop())
  return { session, lines }
}

const get = (packetId: number, oid: string, sessionId = 42) =>
  encodePdu(
    { type: PduType.Get, ranges: [{ start: parseOid(oid), include: false, end: [] }] },
    { sessionId, transactionId: packetId, packetId },
  )

describe('AgentX session against a misbehaving master', () => {
  it('answers a corrupt request with parseError and keeps serving the same stream correctly', async (t) => {
    const m = await startFakeMaster(t)
    const a = startAgent(t, m.port)
    await a.session.waitRegistered(3000)
    const broken = Buffer.from(get(100, `${MIB}.1.2.1.0`))
    broken[20] = 200 // sub-identifier count 200
    const unknownType = Buffer.from(get(101, `${MIB}.1.2.1.0`))
    unknownType[1] = 99
    // All in one write: the agent must frame them itself.
    m.conn!.write(Buffer.concat([broken, unknownType, get(102, `${MIB}.1.2.1.0`)]))
    assert.equal((await m.response(100)).error, ResponseError.parseError)
    assert.equal((await m.response(101)).error, ResponseError.parseError)
    const ok = await m.response(102)
    assert.equal(ok.error, 0)
    assert.deepEqual(ok.varbinds, [{ type: VarType.Counter32, oid: parseOid(`${MIB}.1.2.1.0`), value: 7 }])
    assert.equal(a.session.stats().malformed, 2)
    assert.equal(a.session.stats().sessions, 1)
  })

  it('answers in the byte order of each request and counts the synchronous answers and their cost', async (t) => {
    const m = await startFakeMaster(t)
    const a = startAgent(t, m.port)
    await a.session.waitRegistered(3000)
    const before = a.session.stats()
    const le = encodePdu(
      { type: PduType.Get, ranges: [{ start: parseOid(`${MIB}.1.2.1.0`), include: false, end: [] }] },
      { sessionId: 42, transactionId: 150, packetId: 150, bigEndian: false },
    )
    m.conn!.write(Buffer.concat([le, get(151, `${MIB}.1.2.1.0`)]))
    for (const id of [150, 151]) {
      const r = await m.response(id)
      assert.equal(r.header.flags & 0x10, id === 150 ? 0 : 0x10)
      assert.deepEqual(r.varbinds, [{ type: VarType.Counter32, oid: parseOid(`${MIB}.1.2.1.0`), value: 7 }])
    }
    const after = a.session.stats()
    assert.equal(after.requests - before.requests, 2)
    assert.equal(after.syncAnswers - before.syncAnswers, 2)
    assert.ok(after.answerNs > before.answerNs && after.writeNs > before.writeNs)
    assert.ok(after.receiveNs - before.receiveNs >= after.answerNs - before.answerNs)
  })

  it('answers through a backend that returns plain varbinds, at once or after a wait', async (t) => {
    const m = await startFakeMaster(t)
    let calls = 0
    const backend: SubagentBackend = {
      answer: (pdu) => {
        const vbs = pdu.ranges.map((r) => ({ type: VarType.Gauge32, oid: r.start, value: 5 }) as const)
        return ++calls % 2 ? vbs : new Promise((r) => setTimeout(() => r(vbs), 20))
      },
    }
    const a = startAgent(t, m.port, { backend })
    await a.session.waitRegistered(3000)
    m.conn!.write(Buffer.concat([get(160, `${MIB}.1.2.1.0`), get(161, `${MIB}.1.2.2.0`)]))
    assert.deepEqual((await m.response(160)).varbinds, [
      { type: VarType.Gauge32, oid: parseOid(`${MIB}.1.2.1.0`), value: 5 },
    ])
    assert.deepEqual((await m.response(161)).varbinds, [
      { type: VarType.Gauge32, oid: parseOid(`${MIB}.1.2.2.0`), value: 5 },
    ])
    assert.equal(a.session.stats().syncAnswers, 1)
  })

  it('refuses Set requests with notWritable and requests for another session with notOpen', async (t) => {
    const m = await startFakeMaster(t)
    const a = startAgent(t, m.port)
    await a.session.waitRegistered(3000)
    const oid = parseOid(`${MIB}.1.2.1.0`)
    m.conn!.write(
      Buffer.concat([
        encodePdu(
          { type: PduType.TestSet, varbinds: [{ type: VarType.Counter32, oid, value: 1 }] },
          { sessionId: 42, transactionId: 200, packetId: 200 },
        ),
        get(201, `${MIB}.1.2.1.0`, 99),
      ]),
    )
    const set = await m.response(200)
    assert.equal(set.error, ResponseError.notWritable)
    assert.equal(set.index, 1)
    assert.equal((await m.response(201)).error, ResponseError.notOpen)
  })

  it('drops a stream with a corrupt header, reconnects and registers again', async (t) => {
    const m = await startFakeMaster(t)
    const a = startAgent(t, m.port)
    await a.session.waitRegistered(3000)
    const garbage = Buffer.alloc(20, 0xee)
    m.conn!.write(garbage)
    await m.nextOpen()
    await a.session.waitRegistered(3000)
    assert.equal(a.session.stats().sessions, 2)
    assert.ok(a.lines.some((l) => l.includes('AgentX session reset.') && l.includes('unrecoverable')))
    m.conn!.write(get(300, `${MIB}.1.2.1.0`))
    assert.equal((await m.response(300)).varbinds[0].value, 7)
  })

  it('notices a master that stops answering Pings and reconnects', async (t) => {
    const m = await startFakeMaster(t)
    const a = startAgent(t, m.port, { pingIntervalMs: 200 })
    await a.session.waitRegistered(3000)
    m.answerPings = false
    const opens = m.opens
    const until = Date.now() + 5000
    while (a.session.stats().resets === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50))
    assert.ok(
      a.lines.some((l) => l.includes('did not answer Ping')),
      a.lines.join('\n'),
    )
    m.answerPings = true
    while (m.opens === opens && Date.now() < until) await new Promise((r) => setTimeout(r, 50))
    assert.ok(m.opens > opens)
  })

  it("reaches a master on tcp6:localhost (amavis's default transport) over IPv6 loopback", async (t) => {
    let m: FakeMaster
    try {
      m = await startFakeMaster(t, '::1')
    } catch (err) {
      t.skip(`no IPv6 loopback here: ${(err as Error).message}`)
      return
    }
    const a = startAgent(t, m.port, { host: 'localhost', family: 6 })
    await a.session.waitRegistered(3000)
    assert.equal(m.conn!.remoteAddress, '::1')
  })

  it('keeps retrying every reconnect interval while no master listens, then registers', async (t) => {
    const probe = createServer()
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r))
    const port = (probe.address() as { port: number }).port
    await new Promise<void>((r) => probe.close(() => r()))
    const a = startAgent(t, port)
    const until = Date.now() + 5000
    while (a.session.stats().connectFailures < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 50))
    assert.ok(a.session.stats().connectFailures >= 2)
    assert.equal(a.lines.filter((l) => l.includes('unreachable')).length, 1)
    const conns = new Set<Socket>()
    const m = createServer((c) => {
      conns.add(c)
      const framer = createFramer({
        pdu: (pdu) =>
          c.write(
            encodePdu(
              { type: PduType.Response },
              { sessionId: 7, transactionId: pdu.header.transactionId, packetId: pdu.header.packetId },
            ),
          ),
        malformed: () => {},
        fatal: () => {},
      })
      c.on('data', (d) => framer.push(d))
    })
    await new Promise<void>((r) => m.listen(port, '127.0.0.1', r))
    t.after(
      () =>
        new Promise<void>((r) => {
          m.close(() => r())
          for (const c of conns) c.destroy()
        }),
    )
    await a.session.waitRegistered(3000)
    assert.equal(a.session.stats().sessionId, 7)
    await a.session.stop()
  })
})
