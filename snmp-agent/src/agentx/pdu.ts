// AgentX PDU codec (RFC 2741 §5–§6). Pure: bytes in, typed PDUs out, and back. Both byte orders
// are decoded (the NETWORK_BYTE_ORDER flag of each header decides); PDUs we originate are encoded
// in network byte order, and a Response uses the byte order of the request it answers (§7.2.3).

export const PduType = {
  Open: 1,
  Close: 2,
  Register: 3,
  Unregister: 4,
  Get: 5,
  GetNext: 6,
  GetBulk: 7,
  TestSet: 8,
  CommitSet: 9,
  UndoSet: 10,
  CleanupSet: 11,
  Notify: 12,
  Ping: 13,
  IndexAllocate: 14,
  IndexDeallocate: 15,
  AddAgentCaps: 16,
  RemoveAgentCaps: 17,
  Response: 18,
} as const
export type PduTypeCode = (typeof PduType)[keyof typeof PduType]

export const PDU_TYPE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(PduType).map(([k, v]) => [v, k]),
)

export const Flags = {
  INSTANCE_REGISTRATION: 0x01,
  NEW_INDEX: 0x02,
  ANY_INDEX: 0x04,
  NON_DEFAULT_CONTEXT: 0x08,
  NETWORK_BYTE_ORDER: 0x10,
} as const

export const VarType = {
  Integer: 2,
  OctetString: 4,
  Null: 5,
  ObjectIdentifier: 6,
  IpAddress: 64,
  Counter32: 65,
  Gauge32: 66,
  TimeTicks: 67,
  Opaque: 68,
  Counter64: 70,
  NoSuchObject: 128,
  NoSuchInstance: 129,
  EndOfMibView: 130,
} as const
export type VarTypeCode = (typeof VarType)[keyof typeof VarType]

/** res.error values: SNMP errors (RFC 3416) and AgentX administrative errors (RFC 2741 §6.2.16). */
export const ResponseError = {
  noError: 0,
  genErr: 5,
  noAccess: 6,
  notWritable: 17,
  openFailed: 256,
  notOpen: 257,
  indexWrongType: 258,
  indexAlreadyAllocated: 259,
  indexNoneAvailable: 260,
  indexNotAllocated: 261,
  unsupportedContext: 262,
  duplicateRegistration: 263,
  unknownRegistration: 264,
  unknownAgentCaps: 265,
  parseError: 266,
  requestDenied: 267,
  processingError: 268,
} as const

export const CloseReason = {
  other: 1,
  parseError: 2,
  protocolError: 3,
  timeouts: 4,
  shutdown: 5,
  byManager: 6,
} as const

export const HEADER_BYTES = 20
/** A PDU payload larger than this is not something a master sends to a scalar subagent; the stream is treated as corrupt. */
export const MAX_PAYLOAD_BYTES = 1024 * 1024

export type Oid = readonly number[]

export interface Header {
  version: number
  type: number
  flags: number
  sessionId: number
  transactionId: number
  packetId: number
  payloadLength: number
}

export interface SearchRange {
  start: Oid
  include: boolean
  /** Exclusive upper bound; empty = unbounded. */
  end: Oid
}

export type VarBind =
  | {
      type: typeof VarType.Integer | typeof VarType.Counter32 | typeof VarType.Gauge32 | typeof VarType.TimeTicks
      oid: Oid
      value: number
    }
  | { type: typeof VarType.Counter64; oid: Oid; value: bigint }
  | { type: typeof VarType.OctetString | typeof VarType.Opaque | typeof VarType.IpAddress; oid: Oid; value: Buffer }
  | { type: typeof VarType.ObjectIdentifier; oid: Oid; value: Oid }
  | {
      type:
        typeof VarType.Null | typeof VarType.NoSuchObject | typeof VarType.NoSuchInstance | typeof VarType.EndOfMibView
      oid: Oid
      value: null
    }

interface Base {
  header: Header
  /** Present when NON_DEFAULT_CONTEXT is set. */
  context?: Buffer
}
export type Pdu =
  | (Base & { type: typeof PduType.Open; timeout: number; id: Oid; descr: Buffer })
  | (Base & { type: typeof PduType.Close; reason: number })
  | (Base & {
      type: typeof PduType.Register | typeof PduType.Unregister
      timeout: number
      priority: number
      rangeSubid: number
      subtree: Oid
      upperBound?: number
    })
  | (Base & { type: typeof PduType.Get | typeof PduType.GetNext; ranges: SearchRange[] })
  | (Base & { type: typeof PduType.GetBulk; nonRepeaters: number; maxRepetitions: number; ranges: SearchRange[] })
  | (Base & { type: typeof PduType.TestSet; varbinds: VarBind[] })
  | (Base & { type: typeof PduType.CommitSet | typeof PduType.UndoSet | typeof PduType.CleanupSet })
  | (Base & { type: typeof PduType.Ping })
  | (Base & { type: typeof PduType.Response; sysUpTime: number; error: number; index: number; varbinds: VarBind[] })
  | (Base & { type: 'other'; code: number; payload: Buffer })

/** A decoding failure. `fatal` means the stream framing itself is lost and the session must be reset. */
export class AgentxDecodeError extends Error {
  readonly fatal: boolean
  readonly header: Header | undefined
  constructor(message: string, fatal: boolean, header?: Header) {
    super(message)
    this.name = 'AgentxDecodeError'
    this.fatal = fatal
    this.header = header
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding

class Reader {
  readonly buf: Buffer
  readonly be: boolean
  pos: number
  readonly end: number
  readonly header: Header
  constructor(buf: Buffer, start: number, end: number, be: boolean, header: Header) {
    this.buf = buf
    this.pos = start
    this.end = end
    this.be = be
    this.header = header
  }
  need(n: number, what: string, part = ''): void {
    if (this.pos + n > this.end)
      throw new AgentxDecodeError(
        `truncated ${what}${part}: need ${n} bytes at offset ${this.pos}, payload ends at ${this.end}`,
        false,
        this.header,
      )
  }
  u8(what: string): number {
    this.need(1, what)
    return this.buf[this.pos++]
  }
  u16(what: string): number {
    this.need(2, what)
    const v = this.be ? this.buf.readUInt16BE(this.pos) : this.buf.readUInt16LE(this.pos)
    this.pos += 2
    return v
  }
  u32(what: string): number {
    this.need(4, what)
    const v = this.be ? this.buf.readUInt32BE(this.pos) : this.buf.readUInt32LE(this.pos)
    this.pos += 4
    return v
  }
  u64(what: string): bigint {
    this.need(8, what)
    const v = this.be ? this.buf.readBigUInt64BE(this.pos) : this.buf.readBigUInt64LE(this.pos)
    this.pos += 8
    return v
  }
  octets(what: string): Buffer {
    const len = this.u32(`${what} length`)
    const padded = len + ((4 - (len % 4)) % 4)
    if (len > this.end - this.pos)
      throw new AgentxDecodeError(`${what} length ${len} exceeds the payload`, false, this.header)
    this.need(padded, what)
    const v = Buffer.from(this.buf.subarray(this.pos, this.pos + len))
    this.pos += padded
    return v
  }
  oid(what: string): { oid: number[]; include: boolean } {
    // The hot path of every request (two OIDs per search range): one bounds check per OID and
    // no per-field message strings; those are built only when something is wrong.
    this.need(4, what, ' header')
    const b = this.buf
    const n = b[this.pos]
    const prefix = b[this.pos + 1]
    const include = b[this.pos + 2]
    this.pos += 4
    if (n > 128) throw new AgentxDecodeError(`${what} has ${n} sub-identifiers (max 128)`, false, this.header)
    this.need(4 * n, what, ' sub-identifiers')
    const oid: number[] = prefix !== 0 ? [1, 3, 6, 1, prefix] : []
    let p = this.pos
    if (this.be) for (let i = 0; i < n; i++, p += 4) oid.push(b.readUInt32BE(p))
    else for (let i = 0; i < n; i++, p += 4) oid.push(b.readUInt32LE(p))
    this.pos = p
    if (include > 1) throw new AgentxDecodeError(`${what} include field is ${include}`, false, this.header)
    return { oid, include: include === 1 }
  }
  ranges(): SearchRange[] {
    const out: SearchRange[] = []
    while (this.pos < this.end) {
      const s = this.oid('search range start')
      const e = this.oid('search range end')
      out.push({ start: s.oid, include: s.include, end: e.oid })
    }
    return out
  }
  varbind(): VarBind {
    const type = this.u16('varbind type')
    this.u16('varbind reserved')
    const { oid } = this.oid('varbind name')
    switch (type) {
      case VarType.Integer:
      case VarType.Counter32:
      case VarType.Gauge32:
      case VarType.TimeTicks: {
        let v = this.u32('varbind value')
        if (type === VarType.Integer && v >= 0x80000000) v -= 0x100000000
        return { type, oid, value: v }
      }
      case VarType.Counter64:
        return { type, oid, value: this.u64('varbind value') }
      case VarType.OctetString:
      case VarType.Opaque:
      case VarType.IpAddress:
        return { type, oid, value: this.octets('varbind value') }
      case VarType.ObjectIdentifier:
        return { type, oid, value: this.oid('varbind value').oid }
      case VarType.Null:
      case VarType.NoSuchObject:
      case VarType.NoSuchInstance:
      case VarType.EndOfMibView:
        return { type, oid, value: null }
      default:
        throw new AgentxDecodeError(`unknown varbind type ${type}`, false, this.header)
    }
  }
  varbinds(): VarBind[] {
    const out: VarBind[] = []
    while (this.pos < this.end) out.push(this.varbind())
    return out
  }
}

/** Reads the 20-byte header at `off`. Throws a fatal AgentxDecodeError when it cannot be a header. */
export function decodeHeader(buf: Buffer, off = 0): Header {
  if (buf.length - off < HEADER_BYTES) throw new AgentxDecodeError('short header', true)
  const version = buf[off]
  const type = buf[off + 1]
  const flags = buf[off + 2]
  const be = (flags & Flags.NETWORK_BYTE_ORDER) !== 0
  const header: Header = {
    version,
    type,
    flags,
    sessionId: be ? buf.readUInt32BE(off + 4) : buf.readUInt32LE(off + 4),
    transactionId: be ? buf.readUInt32BE(off + 8) : buf.readUInt32LE(off + 8),
    packetId: be ? buf.readUInt32BE(off + 12) : buf.readUInt32LE(off + 12),
    payloadLength: be ? buf.readUInt32BE(off + 16) : buf.readUInt32LE(off + 16),
  }
  if (version !== 1) throw new AgentxDecodeError(`unsupported AgentX version ${version}`, true, header)
  if (header.payloadLength % 4 !== 0)
    throw new AgentxDecodeError(`payload length ${header.payloadLength} is not a multiple of 4`, true, header)
  if (header.payloadLength > MAX_PAYLOAD_BYTES)
    throw new AgentxDecodeError(`payload length ${header.payloadLength} exceeds ${MAX_PAYLOAD_BYTES}`, true, header)
  return header
}

/**
 * Decodes one complete PDU (header + payload). Throws AgentxDecodeError: fatal for a bad header,
 * non-fatal (the header is attached, so a parseError Response can be sent) for a bad payload.
 */
export function decodePdu(buf: Buffer): Pdu {
  const header = decodeHeader(buf, 0)
  if (buf.length < HEADER_BYTES + header.payloadLength) throw new AgentxDecodeError('truncated payload', true, header)
  const be = (header.flags & Flags.NETWORK_BYTE_ORDER) !== 0
  const r = new Reader(buf, HEADER_BYTES, HEADER_BYTES + header.payloadLength, be, header)
  const hasContext = (header.flags & Flags.NON_DEFAULT_CONTEXT) !== 0
  let pdu: Pdu
  switch (header.type) {
    case PduType.Open: {
      const timeout = r.u8('open timeout')
      r.need(3, 'open reserved')
      r.pos += 3
      const id = r.oid('open id').oid
      const descr = r.octets('open descr')
      pdu = { type: PduType.Open, header, timeout, id, descr }
      break
    }
    case PduType.Close: {
      const reason = r.u8('close reason')
      r.need(3, 'close reserved')
      r.pos += 3
      pdu = { type: PduType.Close, header, reason }
      break
    }
    case PduType.Register:
    case PduType.Unregister: {
      const context = hasContext ? r.octets('context') : undefined
      const timeout = r.u8('register timeout')
      const priority = r.u8('register priority')
      const rangeSubid = r.u8('register range_subid')
      r.u8('register reserved')
      const subtree = r.oid('register subtree').oid
      const upperBound = rangeSubid !== 0 ? r.u32('register upper_bound') : undefined
      pdu = { type: header.type, header, context, timeout, priority, rangeSubid, subtree, upperBound }
      break
    }
    case PduType.Get:
    case PduType.GetNext: {
      const context = hasContext ? r.octets('context') : undefined
      pdu = { type: header.type, header, context, ranges: r.ranges() }
      break
    }
    case PduType.GetBulk: {
      const context = hasContext ? r.octets('context') : undefined
      const nonRepeaters = r.u16('getbulk non_repeaters')
      const maxRepetitions = r.u16('getbulk max_repetitions')
      pdu = { type: PduType.GetBulk, header, context, nonRepeaters, maxRepetitions, ranges: r.ranges() }
      break
    }
    case PduType.TestSet: {
      const context = hasContext ? r.octets('context') : undefined
      pdu = { type: PduType.TestSet, header, context, varbinds: r.varbinds() }
      break
    }
    case PduType.CommitSet:
    case PduType.UndoSet:
    case PduType.CleanupSet:
      pdu = { type: header.type, header }
      r.pos = r.end
      break
    case PduType.Ping: {
      const context = hasContext ? r.octets('context') : undefined
      pdu = { type: PduType.Ping, header, context }
      break
    }
    case PduType.Response: {
      const sysUpTime = r.u32('response sysUpTime')
      const error = r.u16('response error')
      const index = r.u16('response index')
      pdu = { type: PduType.Response, header, sysUpTime, error, index, varbinds: r.varbinds() }
      break
    }
    default:
      pdu = { type: 'other', code: header.type, header, payload: Buffer.from(buf.subarray(HEADER_BYTES, r.end)) }
      r.pos = r.end
  }
  if (r.pos !== r.end)
    throw new AgentxDecodeError(`${r.end - r.pos} trailing bytes in ${PDU_TYPE_NAMES[header.type]} PDU`, false, header)
  return pdu
}

// ---------------------------------------------------------------------------------------------
// Encoding

class Writer {
  readonly be: boolean
  private buf: Buffer
  pos: number
  constructor(be: boolean, start: number) {
    this.be = be
    this.buf = Buffer.allocUnsafe(256)
    this.pos = start
  }
  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.pos + n) size *= 2
    const b = Buffer.allocUnsafe(size)
    this.buf.copy(b, 0, 0, this.pos)
    this.buf = b
  }
  u8(v: number): void {
    this.ensure(1)
    this.buf[this.pos++] = v & 0xff
  }
  u16(v: number): void {
    this.ensure(2)
    if (this.be) this.buf.writeUInt16BE(v, this.pos)
    else this.buf.writeUInt16LE(v, this.pos)
    this.pos += 2
  }
  u32(v: number): void {
    this.ensure(4)
    if (this.be) this.buf.writeUInt32BE(v >>> 0, this.pos)
    else this.buf.writeUInt32LE(v >>> 0, this.pos)
    this.pos += 4
  }
  u64(v: bigint): void {
    this.ensure(8)
    if (this.be) this.buf.writeBigUInt64BE(v, this.pos)
    else this.buf.writeBigUInt64LE(v, this.pos)
    this.pos += 8
  }
  octets(v: Buffer): void {
    const pad = (4 - (v.length % 4)) % 4
    this.u32(v.length)
    this.ensure(v.length + pad)
    v.copy(this.buf, this.pos)
    this.pos += v.length
    for (let i = 0; i < pad; i++) this.buf[this.pos++] = 0
  }
  /** OID with RFC 2741 §5.1 prefix compression of 1.3.6.1.<x> (x in 1..255). */
  oid(oid: Oid, include = false): void {
    let prefix = 0
    let from = 0
    if (
      oid.length >= 5 &&
      oid[0] === 1 &&
      oid[1] === 3 &&
      oid[2] === 6 &&
      oid[3] === 1 &&
      oid[4] > 0 &&
      oid[4] <= 255
    ) {
      prefix = oid[4]
      from = 5
    }
    this.ensure(4 + 4 * (oid.length - from))
    this.u8(oid.length - from)
    this.u8(prefix)
    this.u8(include ? 1 : 0)
    this.u8(0)
    for (let i = from; i < oid.length; i++) this.u32(oid[i])
  }
  varbind(vb: VarBind): void {
    this.u16(vb.type)
    this.u16(0)
    this.oid(vb.oid)
    switch (vb.type) {
      case VarType.Integer:
        this.u32(vb.value < 0 ? vb.value + 0x100000000 : vb.value)
        break
      case VarType.Counter32:
      case VarType.Gauge32:
      case VarType.TimeTicks:
        this.u32(vb.value)
        break
      case VarType.Counter64:
        this.u64(BigInt.asUintN(64, vb.value))
        break
      case VarType.OctetString:
      case VarType.Opaque:
      case VarType.IpAddress:
        this.octets(vb.value)
        break
      case VarType.ObjectIdentifier:
        this.oid(vb.value)
        break
      default:
        break
    }
  }
  /** The bytes written so far, the header slot included. */
  done(): Buffer {
    return this.buf.subarray(0, this.pos)
  }
}

export interface EncodeHeader {
  sessionId: number
  transactionId: number
  packetId: number
  /** Extra flags (INSTANCE_REGISTRATION…); NETWORK_BYTE_ORDER is derived from `bigEndian`. */
  flags?: number
  /** Defaults to true (network byte order). */
  bigEndian?: boolean
}

export type EncodablePdu =
  | { type: typeof PduType.Open; timeout: number; id: Oid; descr: string | Buffer }
  | { type: typeof PduType.Close; reason: number }
  | {
      type: typeof PduType.Register | typeof PduType.Unregister
      timeout?: number
      priority?: number
      subtree: Oid
      rangeSubid?: number
      upperBound?: number
      context?: Buffer
    }
  | { type: typeof PduType.Get | typeof PduType.GetNext; ranges: SearchRange[]; context?: Buffer }
  | {
      type: typeof PduType.GetBulk
      nonRepeaters: number
      maxRepetitions: number
      ranges: SearchRange[]
      context?: Buffer
    }
  | { type: typeof PduType.TestSet; varbinds: VarBind[]; context?: Buffer }
  | { type: typeof PduType.CommitSet | typeof PduType.UndoSet | typeof PduType.CleanupSet }
  | { type: typeof PduType.Ping; context?: Buffer }
  | { type: typeof PduType.Response; sysUpTime?: number; error?: number; index?: number; varbinds?: VarBind[] }

/** Encodes one PDU with its header. Values out of their type's range are a programming error and throw RangeError. */
export function encodePdu(pdu: EncodablePdu, h: EncodeHeader): Buffer {
  const be = h.bigEndian ?? true
  const w = new Writer(be, HEADER_BYTES)
  let flags = (h.flags ?? 0) & ~Flags.NETWORK_BYTE_ORDER
  const context = 'context' in pdu ? pdu.context : undefined
  if (context) {
    flags |= Flags.NON_DEFAULT_CONTEXT
    w.octets(context)
  }
  switch (pdu.type) {
    case PduType.Open:
      w.u8(pdu.timeout)
      w.u8(0)
      w.u8(0)
      w.u8(0)
      w.oid(pdu.id)
      w.octets(Buffer.isBuffer(pdu.descr) ? pdu.descr : Buffer.from(pdu.descr, 'utf8'))
      break
    case PduType.Close:
      w.u8(pdu.reason)
      w.u8(0)
      w.u8(0)
      w.u8(0)
      break
    case PduType.Register:
    case PduType.Unregister:
      w.u8(pdu.timeout ?? 0)
      w.u8(pdu.priority ?? 127)
      w.u8(pdu.rangeSubid ?? 0)
      w.u8(0)
      w.oid(pdu.subtree)
      if (pdu.rangeSubid) w.u32(pdu.upperBound ?? 0)
      break
    case PduType.Get:
    case PduType.GetNext:
      for (const r of pdu.ranges) {
        w.oid(r.start, r.include)
        w.oid(r.end)
      }
      break
    case PduType.GetBulk:
      w.u16(pdu.nonRepeaters)
      w.u16(pdu.maxRepetitions)
      for (const r of pdu.ranges) {
        w.oid(r.start, r.include)
        w.oid(r.end)
      }
      break
    case PduType.TestSet:
      for (const vb of pdu.varbinds) w.varbind(vb)
      break
    case PduType.CommitSet:
    case PduType.UndoSet:
    case PduType.CleanupSet:
    case PduType.Ping:
      break
    case PduType.Response:
      w.u32(pdu.sysUpTime ?? 0)
      w.u16(pdu.error ?? 0)
      w.u16(pdu.index ?? 0)
      for (const vb of pdu.varbinds ?? []) w.varbind(vb)
      break
  }
  const out = w.done()
  const payloadLength = out.length - HEADER_BYTES
  out[0] = 1
  out[1] = pdu.type
  out[2] = flags | (be ? Flags.NETWORK_BYTE_ORDER : 0)
  out[3] = 0
  const put = (v: number, o: number) => (be ? out.writeUInt32BE(v >>> 0, o) : out.writeUInt32LE(v >>> 0, o))
  put(h.sessionId, 4)
  put(h.transactionId, 8)
  put(h.packetId, 12)
  put(payloadLength, 16)
  return out
}

/** Encodes one varbind on its own (§5.4), to be cached and later joined by `encodeResponse`. */
export function encodeVarBind(vb: VarBind, bigEndian: boolean): Buffer {
  const w = new Writer(bigEndian, 0)
  w.varbind(vb)
  return Buffer.from(w.done())
}

export interface ResponseFields {
  sysUpTime?: number
  error?: number
  index?: number
}

/**
 * Encodes a Response whose varbinds are already encoded (by `encodeVarBind`, in the byte order
 * `h.bigEndian`) into one buffer, byte for byte what `encodePdu` makes of the same varbinds.
 */
export function encodeResponse(h: EncodeHeader, fields: ResponseFields, varbinds: readonly Buffer[]): Buffer {
  const be = h.bigEndian ?? true
  let payloadLength = 8
  for (let i = 0; i < varbinds.length; i++) payloadLength += varbinds[i].length
  const out = Buffer.allocUnsafe(HEADER_BYTES + payloadLength)
  out[0] = 1
  out[1] = PduType.Response
  out[2] = ((h.flags ?? 0) & ~Flags.NETWORK_BYTE_ORDER) | (be ? Flags.NETWORK_BYTE_ORDER : 0)
  out[3] = 0
  if (be) {
    out.writeUInt32BE(h.sessionId >>> 0, 4)
    out.writeUInt32BE(h.transactionId >>> 0, 8)
    out.writeUInt32BE(h.packetId >>> 0, 12)
    out.writeUInt32BE(payloadLength, 16)
    out.writeUInt32BE((fields.sysUpTime ?? 0) >>> 0, 20)
    out.writeUInt16BE(fields.error ?? 0, 24)
    out.writeUInt16BE(fields.index ?? 0, 26)
  } else {
    out.writeUInt32LE(h.sessionId >>> 0, 4)
    out.writeUInt32LE(h.transactionId >>> 0, 8)
    out.writeUInt32LE(h.packetId >>> 0, 12)
    out.writeUInt32LE(payloadLength, 16)
    out.writeUInt32LE((fields.sysUpTime ?? 0) >>> 0, 20)
    out.writeUInt16LE(fields.error ?? 0, 24)
    out.writeUInt16LE(fields.index ?? 0, 26)
  }
  let pos = HEADER_BYTES + 8
  for (let i = 0; i < varbinds.length; i++) pos += varbinds[i].copy(out, pos)
  return out
}

// ---------------------------------------------------------------------------------------------
// OID helpers

export function parseOid(s: string): number[] {
  const t = s.startsWith('.') ? s.slice(1) : s
  if (t === '') return []
  return t.split('.').map((x) => {
    if (!/^\d+$/.test(x)) throw new RangeError(`bad OID ${JSON.stringify(s)}`)
    const n = Number(x)
    if (n > 0xffffffff) throw new RangeError(`sub-identifier ${x} out of range in ${s}`)
    return n
  })
}

export function formatOid(oid: Oid): string {
  return oid.join('.')
}

/** SNMP lexicographic order of numeric OIDs. */
export function compareOid(a: Oid, b: Oid): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i]
  return a.length - b.length
}

export function oidStartsWith(oid: Oid, prefix: Oid): boolean {
  if (oid.length < prefix.length) return false
  for (let i = 0; i < prefix.length; i++) if (oid[i] !== prefix[i]) return false
  return true
}
