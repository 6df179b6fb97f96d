import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { COUNTERS, createLogger } from '@vigil/protocol'
import { encodeVarBind, parseOid, PduType, VarType, type Header, type VarBind } from '../src/agentx/pdu.ts'
import { createCachedSource } from '../src/cached-source.ts'
import type { RequestPdu } from '../src/agentx/session.ts'
import { createMibBackend, MIB_ENTRIES, SUBTREES } from '../src/mib-view.ts'

const header: Header = {
  version: 1,
  type: 6,
  flags: 0x10,
  sessionId: 1,
  transactionId: 1,
  packetId: 1,
  payloadLength: 0,
}
const TYPE: Record<string, number> = {
  Counter32: VarType.Counter32,
  Counter64: VarType.Counter64,
  Gauge32: VarType.Gauge32,
  Integer32: VarType.Integer,
  TimeInterval: VarType.Integer,
  TimeTicks: VarType.TimeTicks,
  DisplayString: VarType.OctetString,
  'OBJECT IDENTIFIER': VarType.ObjectIdentifier,
}

describe('MIB backend', () => {
  it('serves the 331 catalogue objects in OID order under the three registered subtrees', () => {
    assert.equal(MIB_ENTRIES.length, 331)
    assert.deepEqual(
      SUBTREES.map((s) => s.join('.')),
      ['1.3.6.1.4.1.15312.2.1.1', '1.3.6.1.4.1.15312.2.1.2', '1.3.6.1.4.1.15312.2.1.3'],
    )
    for (const e of MIB_ENTRIES) assert.ok(SUBTREES.some((s) => e.oid.slice(0, s.length).join('.') === s.join('.')))
  })

  it('walks every object by GetNext with the SYNTAX of the catalogue, never-seen values as zero', async () => {
    const backend = createMibBackend({ stores: { get: () => undefined }, sourceFor: () => undefined })
    let start: readonly number[] = parseOid('1.3.6.1.4.1.15312.2.1')
    const seen: VarBind[] = []
    for (;;) {
      const [vb] = await backend.answer({ type: PduType.GetNext, header, ranges: [{ start, include: false, end: [] }] })
      if (vb.type === VarType.EndOfMibView) break
      seen.push(vb)
      start = vb.oid
    }
    assert.equal(seen.length, COUNTERS.length)
    seen.forEach((vb, i) => {
      assert.equal(vb.oid.join('.'), COUNTERS[i].oid)
      assert.equal(vb.type, TYPE[COUNTERS[i].syntax], COUNTERS[i].name)
      if (typeof vb.value === 'number' || typeof vb.value === 'bigint') assert.equal(BigInt(vb.value), 0n)
    })
  })

  it('refreshes a stale source before answering, once per request, and answers synchronously when fresh', async () => {
    let refreshes = 0
    const store = new Map<string, { type: string; value: string }>()
    const src = createCachedSource({
      name: 'am.snmp',
      ttlMs: 60_000,
      waitMs: 500,
      log: createLogger({ name: 't', write: () => {} }),
      refresh: async () => {
        refreshes++
        store.set('InMsgs', { type: 'C32', value: '42' })
      },
    })
    const backend = createMibBackend({
      stores: { get: (_s, n) => store.get(n) },
      sourceFor: (d) => (d.source === 'snmp' ? src : undefined),
    })
    const req = {
      type: PduType.Get,
      header,
      ranges: ['1.2.1.0', '1.2.2.0', '1.3.1.0'].map((r) => ({
        start: parseOid(`1.3.6.1.4.1.15312.2.1.${r}`),
        include: false,
        end: [],
      })),
    } as const
    const first = backend.answer(req)
    assert.ok(first instanceof Promise)
    assert.equal((await first)[0].value, 42)
    assert.equal(refreshes, 1)
    const second = backend.answer(req)
    assert.ok(!(second instanceof Promise))
    assert.equal(refreshes, 1)
  })

  it('answers with pre-encoded varbinds identical to encoding its plain answer, in both byte orders', async () => {
    const store = new Map<string, { type: string; value: string }>([
      ['InMsgs', { type: 'C32', value: String(2 ** 32 + 7) }],
      ['InMsgsSize', { type: 'C64', value: '18446744073709551615' }],
      ['sysName', { type: 'STR', value: 'mx-Grüße.example' }],
    ])
    const backend = createMibBackend({ stores: { get: (_s, n) => store.get(n) }, sourceFor: () => undefined })
    let start: readonly number[] = parseOid('1.3.6.1.4.1.15312.2.1')
    for (let n = 0; n <= COUNTERS.length; n++) {
      const pdu = { type: PduType.GetNext, header, ranges: [{ start, include: false, end: [] }] } satisfies RequestPdu
      const plain = (await backend.answer(pdu))[0]
      for (const be of [true, false])
        assert.deepEqual(await backend.answerEncoded!(pdu, be), [encodeVarBind(plain, be)], plain.oid.join('.'))
      start = plain.oid
    }
  })

  it('re-encodes an object when its stored value changes and serves sysUpTime from the clock', () => {
    const store = new Map<string, { type: string; value: string }>([
      ['InMsgs', { type: 'C32', value: '1' }],
      ['sysUpTime', { type: 'INT', value: '1000' }],
    ])
    let now = 1_000_000
    const backend = createMibBackend({
      stores: { get: (_s, n) => store.get(n) },
      sourceFor: () => undefined,
      now: () => now,
    })
    const get = (oid: string) =>
      backend.answerEncoded!(
        {
          type: PduType.Get,
          header,
          ranges: [{ start: parseOid(`1.3.6.1.4.1.15312.2.1.${oid}`), include: false, end: [] }],
        },
        true,
      ) as Buffer[]
    const value = (b: Buffer) => b.readUInt32BE(b.length - 4)
    assert.equal(value(get('1.2.1.0')[0]), 1)
    assert.equal(value(get('1.2.1.0')[0]), 1)
    store.set('InMsgs', { type: 'C32', value: String(2 ** 32 + 9) })
    assert.equal(value(get('1.2.1.0')[0]), 9)
    assert.equal(value(get('1.1.3.0')[0]), 0) // sysUpTime: started at 1000 s, now 1000 s
    now += 12_340
    assert.equal(value(get('1.1.3.0')[0]), 1234)
  })
})
