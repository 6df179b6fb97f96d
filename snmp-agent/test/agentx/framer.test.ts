import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createFramer } from '../../src/agentx/framer.ts'
import { encodePdu, PduType, type Pdu } from '../../src/agentx/pdu.ts'
import type { AgentxDecodeError } from '../../src/agentx/pdu.ts'

const ping = (packetId: number) =>
  encodePdu({ type: PduType.Ping }, { sessionId: 1, transactionId: packetId, packetId })
const getNext = (packetId: number, bigEndian: boolean) =>
  encodePdu(
    { type: PduType.GetNext, ranges: [{ start: [1, 3, 6, 1, 4, 1, 15312, 2, 1, 1], include: false, end: [] }] },
    { sessionId: 1, transactionId: packetId, packetId, bigEndian },
  )

function collect() {
  const pdus: Pdu[] = []
  const malformed: AgentxDecodeError[] = []
  const fatal: AgentxDecodeError[] = []
  const framer = createFramer({
    pdu: (p) => pdus.push(p),
    malformed: (e) => malformed.push(e),
    fatal: (e) => fatal.push(e),
  })
  return { framer, pdus, malformed, fatal }
}

describe('AgentX stream framer', () => {
  it('hands out every PDU when several arrive in one read', () => {
    const c = collect()
    c.framer.push(Buffer.concat([ping(1), getNext(2, true), getNext(3, false), ping(4)]))
    assert.deepEqual(
      c.pdus.map((p) => p.header.packetId),
      [1, 2, 3, 4],
    )
    assert.equal(c.framer.pending(), 0)
  })

  it('reassembles a PDU delivered one byte per read', () => {
    const c = collect()
    const bytes = Buffer.concat([getNext(7, false), ping(8)])
    for (const b of bytes) c.framer.push(Buffer.of(b))
    assert.deepEqual(
      c.pdus.map((p) => [p.type, p.header.packetId]),
      [
        [PduType.GetNext, 7],
        [PduType.Ping, 8],
      ],
    )
  })

  it('reports a PDU with a bad payload as malformed and keeps reading the stream', () => {
    const c = collect()
    const broken = Buffer.from(getNext(5, true))
    broken[20] = 200 // n_subid 200 > 128
    c.framer.push(Buffer.concat([broken, ping(6)]))
    assert.equal(c.malformed.length, 1)
    assert.equal(c.malformed[0].header?.packetId, 5)
    assert.deepEqual(
      c.pdus.map((p) => p.header.packetId),
      [6],
    )
    assert.equal(c.fatal.length, 0)
  })

  it('declares the stream lost on a bad header and ignores everything after it', () => {
    const c = collect()
    const bad = Buffer.from(ping(1))
    bad[0] = 9
    c.framer.push(Buffer.concat([bad, ping(2)]))
    c.framer.push(ping(3))
    assert.equal(c.fatal.length, 1)
    assert.equal(c.pdus.length, 0)
    c.framer.reset()
    c.framer.push(ping(4))
    assert.deepEqual(
      c.pdus.map((p) => p.header.packetId),
      [4],
    )
  })
})
