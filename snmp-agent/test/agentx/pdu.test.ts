import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  AgentxDecodeError,
  compareOid,
  decodePdu,
  encodePdu,
  encodeResponse,
  encodeVarBind,
  Flags,
  parseOid,
  PduType,
  VarType,
  type Pdu,
} from '../../src/agentx/pdu.ts'

// Vectors written out by hand from RFC 2741 §5/§6 (not produced by the encoder under test).
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex')

const OPEN_BE = hex(`
  01 01 10 00  00000000 00000001 00000001 0000001c
  00 000000
  03 04 00 00  00000001 00003bd0 00000002
  00000002 6162 0000`)
const OPEN_LE = hex(`
  01 01 00 00  00000000 01000000 01000000 1c000000
  00 000000
  03 04 00 00  01000000 d03b0000 02000000
  02000000 6162 0000`)

// Response: Counter64 2^53+1 at inMsgsSize.0 and the UTF-8 string "Grüße" (7 bytes + 1 pad) at sysName.0.
const RESPONSE_BE = hex(`
  01 12 10 00  00000005 00000007 00000009 0000006c
  00000064 0000 0000
  0046 0000  08 04 00 00  00000001 00003bd0 00000002 00000001 00000001 00000003 00000001 00000000
             0020000000000001
  0004 0000  08 04 00 00  00000001 00003bd0 00000002 00000001 00000001 00000001 00000005 00000000
             00000007 4772c3bcc39f6500`)
const RESPONSE_LE = hex(`
  01 12 00 00  05000000 07000000 09000000 6c000000
  64000000 0000 0000
  4600 0000  08 04 00 00  01000000 d03b0000 02000000 01000000 01000000 03000000 01000000 00000000
             0100000000002000
  0400 0000  08 04 00 00  01000000 d03b0000 02000000 01000000 01000000 01000000 05000000 00000000
             07000000 4772c3bcc39f6500`)

// GetNext from the master, little-endian: start …2.1.1 (include=1), end …2.1.2.
const GETNEXT_LE = hex(`
  01 06 00 00  05000000 0a000000 0b000000 30000000
  05 04 01 00  01000000 d03b0000 02000000 01000000 01000000
  05 04 00 00  01000000 d03b0000 02000000 01000000 02000000`)

// GetBulk, big-endian, non-default context "ctx": non_repeaters 1, max_repetitions 10, two ranges (2nd unbounded, no prefix).
const GETBULK_CTX_BE = hex(`
  01 07 18 00  00000005 0000000c 0000000d 0000002c
  00000003 63747800
  0001 000a
  01 04 00 00  00000001  00 00 00 00
  03 00 00 00  00000001 00000002 00000003  00 00 00 00`)

const MIB = '1.3.6.1.4.1.15312.2.1'

describe('AgentX PDU codec', () => {
  it('encodes an Open PDU byte for byte in network byte order, with 1.3.6.1.4 prefix compression and padded descr', () => {
    const buf = encodePdu(
      { type: PduType.Open, timeout: 0, id: parseOid('1.3.6.1.4.1.15312.2'), descr: 'ab' },
      { sessionId: 0, transactionId: 1, packetId: 1 },
    )
    assert.equal(buf.toString('hex'), OPEN_BE.toString('hex'))
  })

  it('encodes the same Open PDU in little-endian order when asked', () => {
    const buf = encodePdu(
      { type: PduType.Open, timeout: 0, id: parseOid('1.3.6.1.4.1.15312.2'), descr: 'ab' },
      { sessionId: 0, transactionId: 1, packetId: 1, bigEndian: false },
    )
    assert.equal(buf.toString('hex'), OPEN_LE.toString('hex'))
  })

  for (const [order, bytes] of [
    ['big-endian', RESPONSE_BE],
    ['little-endian', RESPONSE_LE],
  ] as const) {
    it(`decodes a ${order} Response with an exact Counter64 above 2^53 and a UTF-8 OctetString`, () => {
      const pdu = decodePdu(bytes)
      assert.equal(pdu.type, PduType.Response)
      if (pdu.type !== PduType.Response) return
      assert.deepEqual(
        [pdu.header.sessionId, pdu.header.transactionId, pdu.header.packetId, pdu.sysUpTime],
        [5, 7, 9, 100],
      )
      assert.equal(pdu.varbinds.length, 2)
      assert.deepEqual(pdu.varbinds[0], {
        type: VarType.Counter64,
        oid: parseOid(`${MIB}.1.3.1.0`),
        value: 2n ** 53n + 1n,
      })
      assert.equal(pdu.varbinds[1].type, VarType.OctetString)
      assert.equal((pdu.varbinds[1].value as Buffer).toString('utf8'), 'Grüße')
    })

    it(`encodes that Response back to the identical ${order} bytes`, () => {
      const pdu = decodePdu(bytes) as Extract<Pdu, { type: typeof PduType.Response }>
      const again = encodePdu(
        { type: PduType.Response, sysUpTime: pdu.sysUpTime, varbinds: pdu.varbinds },
        { sessionId: 5, transactionId: 7, packetId: 9, bigEndian: order === 'big-endian' },
      )
      assert.equal(again.toString('hex'), bytes.toString('hex'))
    })

    it(`joins separately encoded ${order} varbinds into the identical Response bytes`, () => {
      const pdu = decodePdu(bytes) as Extract<Pdu, { type: typeof PduType.Response }>
      const be = order === 'big-endian'
      const joined = encodeResponse(
        { sessionId: 5, transactionId: 7, packetId: 9, bigEndian: be },
        { sysUpTime: pdu.sysUpTime },
        pdu.varbinds.map((vb) => encodeVarBind(vb, be)),
      )
      assert.equal(joined.toString('hex'), bytes.toString('hex'))
    })
  }

  it('encodes an error Response from pre-encoded parts as encodePdu does', () => {
    const h = { sessionId: 1, transactionId: 2, packetId: 3, bigEndian: false }
    assert.deepEqual(
      encodeResponse(h, { error: 5, index: 1 }, []),
      encodePdu({ type: PduType.Response, error: 5, index: 1 }, h),
    )
  })

  it('decodes a little-endian GetNext search range with the include flag and its end', () => {
    const pdu = decodePdu(GETNEXT_LE)
    assert.equal(pdu.type, PduType.GetNext)
    if (pdu.type !== PduType.GetNext) return
    assert.equal(pdu.header.flags & Flags.NETWORK_BYTE_ORDER, 0)
    assert.deepEqual(pdu.ranges, [{ start: parseOid(`${MIB}.1`), include: true, end: parseOid(`${MIB}.2`) }])
  })

  it('decodes a GetBulk with a non-default context, an unprefixed OID and a null end', () => {
    const pdu = decodePdu(GETBULK_CTX_BE)
    assert.equal(pdu.type, PduType.GetBulk)
    if (pdu.type !== PduType.GetBulk) return
    assert.equal(pdu.context?.toString(), 'ctx')
    assert.equal(pdu.nonRepeaters, 1)
    assert.equal(pdu.maxRepetitions, 10)
    assert.deepEqual(pdu.ranges, [
      { start: [1, 3, 6, 1, 4, 1], include: false, end: [] },
      { start: [1, 2, 3], include: false, end: [] },
    ])
  })

  it('round-trips every varbind type, including negative Integer32 and Counter64 2^64-1', () => {
    const oid = parseOid(`${MIB}.1.1.1.0`)
    const varbinds = [
      { type: VarType.Integer, oid, value: -5 },
      { type: VarType.Counter32, oid, value: 0xffffffff },
      { type: VarType.Gauge32, oid, value: 7 },
      { type: VarType.TimeTicks, oid, value: 12345 },
      { type: VarType.Counter64, oid, value: 2n ** 64n - 1n },
      { type: VarType.OctetString, oid, value: Buffer.from('') },
      { type: VarType.ObjectIdentifier, oid, value: parseOid('1.3.6.1.4.1.15312.2') },
      { type: VarType.ObjectIdentifier, oid, value: [] },
      { type: VarType.NoSuchObject, oid, value: null },
      { type: VarType.NoSuchInstance, oid, value: null },
      { type: VarType.EndOfMibView, oid, value: null },
    ] as const
    for (const be of [true, false]) {
      const buf = encodePdu(
        { type: PduType.Response, varbinds: [...varbinds] },
        { sessionId: 1, transactionId: 2, packetId: 3, bigEndian: be },
      )
      const pdu = decodePdu(buf)
      assert.equal(pdu.type, PduType.Response)
      if (pdu.type === PduType.Response) assert.deepEqual(pdu.varbinds, varbinds)
    }
  })

  it('encodes a Register PDU with priority 127 and the subtree prefix-compressed', () => {
    const buf = encodePdu(
      { type: PduType.Register, subtree: parseOid(`${MIB}.2`) },
      { sessionId: 5, transactionId: 2, packetId: 2 },
    )
    assert.equal(
      buf.toString('hex'),
      hex(
        `01 03 10 00 00000005 00000002 00000002 0000001c  00 7f 00 00  05 04 00 00 00000001 00003bd0 00000002 00000001 00000002`,
      ).toString('hex'),
    )
  })

  const bad: Array<[string, Buffer, boolean]> = [
    ['an unsupported version is fatal', hex('02 05 10 00 00000001 00000001 00000001 00000000'), true],
    [
      'a payload length that is not a multiple of 4 is fatal',
      hex('01 05 10 00 00000001 00000001 00000001 00000003 000000'),
      true,
    ],
    ['a payload length above 1 MiB is fatal', hex('01 05 10 00 00000001 00000001 00000001 7fff0000'), true],
    [
      'a search range cut short is recoverable',
      hex('01 05 10 00 00000001 00000001 00000001 00000008  04 04 00 00 00000001'),
      false,
    ],
    [
      'an octet string longer than the payload is recoverable',
      hex('01 12 10 00 00000001 00000001 00000001 00000014  00000000 0000 0000  0004 0000 00 00 00 00  0000ffff'),
      false,
    ],
    [
      'an unknown varbind type is recoverable',
      hex('01 12 10 00 00000001 00000001 00000001 00000010  00000000 0000 0000  0063 0000 00 00 00 00'),
      false,
    ],
    [
      'a sub-identifier count above 128 is recoverable',
      hex('01 05 10 00 00000001 00000001 00000001 00000004  ff 00 00 00'),
      false,
    ],
  ]
  for (const [name, bytes, fatal] of bad) {
    it(`rejects malformed input: ${name}`, () => {
      assert.throws(
        () => decodePdu(bytes),
        (err: unknown) =>
          err instanceof AgentxDecodeError && err.fatal === fatal && (fatal || err.header !== undefined),
      )
    })
  }

  it('orders OIDs lexicographically by sub-identifier', () => {
    const sorted = [
      '1.3.6.1.4.1.15312.2.1.1.2.10.0',
      '1.3.6.1.4.1.15312.2.1.1.2.9.0',
      '1.3.6.1.4.1.15312.2.1.1.2',
      '1.3.6.1.4.1.15312.2.1.1.10.1.1.0',
    ]
      .map(parseOid)
      .sort(compareOid)
      .map((o) => o.join('.'))
    assert.deepEqual(sorted, [
      '1.3.6.1.4.1.15312.2.1.1.2',
      '1.3.6.1.4.1.15312.2.1.1.2.9.0',
      '1.3.6.1.4.1.15312.2.1.1.2.10.0',
      '1.3.6.1.4.1.15312.2.1.1.10.1.1.0',
    ])
  })
})
