// ZeroMQ PUB and PUSH sockets written in JS: ZMTP 3.0 with the NULL mechanism
// (rfc.zeromq.org/spec/23) over node:net, for the worker's connections to the inner socket and to
// the collector's events socket (ipc:// and tcp://). PUB peers are any libzmq SUB/XSUB (amavis-services'
// msg-forwarder, Vigil's collector); PUSH peers a PULL. Same behaviour as a libzmq socket that
// connects: reconnects every `reconnectMs` (ZMQ_RECONNECT_IVL); PUB sends each message only to
// peers with a matching subscription (prefix of the first frame) and drops for a peer whose queue is
// over the high-water mark; PUSH hands messages to a ready peer with room (as ZMQ_IMMEDIATE) and
// tells the caller how many it took. DEALER (Vigil's acknowledged events channel, ADR 0015) sends
// as PUSH does, announces its Identity in READY and hands every message the ROUTER sends back to
// `onMessage`. Never blocks the caller.
// Why not zeromq.js here: every libzmq send is one N-API call plus a wake-up of libzmq's I/O thread,
// which then wakes again for the next record; a worker sends ~13 records per message. Here a burst
// of records is encoded into one buffer and written with one syscall (ADR 0004).
import { connect, type Socket } from 'node:net'

export interface ZmtpPublisherOptions {
  endpoints: string[]
  /** Pause before reconnecting a lost or refused connection (libzmq's default is 100 ms). */
  reconnectMs?: number
  /** Bytes queued for one peer beyond which messages to it are dropped (PUB high-water mark). */
  hwmBytes?: number
  onError?: (e: unknown) => void
  /** DEALER: the Identity property of READY (the ROUTER's routing id for this peer). */
  identity?: string
  /** DEALER: a message (all its frames) the peer sent. */
  onMessage?: (frames: Buffer[]) => void
  /** A peer finished the handshake (connected or reconnected). */
  onReady?: () => void
  /** A ready peer's connection was lost. */
  onLost?: () => void
}

export interface ZmtpPublisher {
  /** Sends messages (a string is a one-frame message) to every peer subscribed to them. */
  send(messages: readonly (string | readonly string[])[]): void
  /** Resolves when everything sent so far was written to the connected peers' sockets. */
  flush(): Promise<void>
  /** Closes every connection, after at most `lingerMs` for queued bytes to leave. */
  close(lingerMs: number): Promise<void>
  /** Messages dropped at the high-water mark so far. */
  readonly dropped: number
}

/** Endpoints this publisher can connect to; others need libzmq. */
export function zmtpSupports(endpoint: string): boolean {
  return parseEndpoint(endpoint) !== undefined
}

type Target = { path: string } | { host: string; port: number }

function parseEndpoint(ep: string): Target | undefined {
  if (ep.startsWith('ipc://')) {
    const p = ep.slice(6)
    if (!p) return undefined
    return { path: p.startsWith('@') ? '\0' + p.slice(1) : p }
  }
  const m = /^tcp:\/\/(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d+)$/.exec(ep)
  if (!m || m[2] === '*') return undefined
  return { host: m[1] ?? m[2], port: Number(m[3]) }
}

const SIGNATURE_AND_VERSION = [0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 3, 0]

function greeting(): Buffer {
  const g = Buffer.alloc(64)
  Buffer.from(SIGNATURE_AND_VERSION).copy(g, 0)
  g.write('NULL', 12, 'latin1') // mechanism, zero-padded to 20 octets; as-server 0; filler zeros
  return g
}

function readyCommand(socketType: string, identity?: string): Buffer {
  const props: [string, string][] = [['Socket-Type', socketType]]
  if (identity) props.push(['Identity', identity])
  const parts: Buffer[] = [Buffer.from([5]), Buffer.from('READY', 'latin1')]
  for (const [k, v] of props) {
    const len = Buffer.alloc(4)
    len.writeUInt32BE(Buffer.byteLength(v, 'latin1'))
    parts.push(Buffer.from([k.length]), Buffer.from(k, 'latin1'), len, Buffer.from(v, 'latin1'))
  }
  const body = Buffer.concat(parts)
  if (body.length > 255) throw new Error('READY command too long')
  return Buffer.concat([Buffer.from([0x04, body.length]), body])
}

type SocketType = 'PUB' | 'PUSH' | 'DEALER'
const hello = (type: SocketType, identity?: string) => Buffer.concat([greeting(), readyCommand(type, identity)])
const PEER_TYPES: Record<SocketType, string[]> = { PUB: ['SUB', 'XSUB'], PUSH: ['PULL'], DEALER: ['ROUTER', 'DEALER'] }

/** Messages as ZMTP frames in one buffer, with where each message and its first frame's body lie. */
function encode(messages: readonly (string | readonly string[])[]) {
  let total = 0
  const lens: number[][] = []
  for (const m of messages) {
    const frames = typeof m === 'string' ? [m] : m
    const l = frames.map((f) => Buffer.byteLength(f))
    lens.push(l)
    for (const n of l) total += (n > 255 ? 9 : 2) + n
  }
  const buf = Buffer.allocUnsafe(total)
  const bounds: [number, number, number, number][] = [] // message start, end, first frame body start, end
  let o = 0
  messages.forEach((m, i) => {
    const frames = typeof m === 'string' ? [m] : m
    const start = o
    let fb = 0
    let fe = 0
    frames.forEach((f, j) => {
      const n = lens[i][j]
      const more = j < frames.length - 1 ? 0x01 : 0
      if (n > 255) {
        buf[o] = 0x02 | more
        buf.writeBigUInt64BE(BigInt(n), o + 1)
        o += 9
      } else {
        buf[o] = more
        buf[o + 1] = n
        o += 2
      }
      if (j === 0) fb = o
      o += buf.write(f, o, 'utf8')
      if (j === 0) fe = o
    })
    bounds.push([start, o, fb, fe])
  })
  return { buf, bounds }
}

/** Metadata of a READY command body (after the command name). */
function readyProperties(b: Buffer): Map<string, string> {
  const out = new Map<string, string>()
  let o = 0
  while (o < b.length) {
    const nl = b[o++]
    const name = b.toString('latin1', o, o + nl)
    o += nl
    if (o + 4 > b.length) break
    const vl = b.readUInt32BE(o)
    o += 4
    out.set(name.toLowerCase(), b.toString('latin1', o, o + vl))
    o += vl
  }
  return out
}

interface Peer {
  endpoint: string
  target: Target
  sock?: Socket
  inbuf: Buffer
  greeted: boolean
  ready: boolean
  /** Subscribed prefixes (latin1 keys) with their counts; '' matches everything. */
  subs: Map<string, number>
  timer?: NodeJS.Timeout
  /** DEALER: frames of an incoming message received so far. */
  parts: Buffer[]
}

export function createZmtpPublisher(opts: ZmtpPublisherOptions): ZmtpPublisher {
  return createZmtpSocket('PUB', opts)
}

export interface ZmtpPusher {
  /** Hands messages, in order, to a connected peer with room; returns how many it took (0: none ready). */
  push(messages: readonly (string | readonly string[])[]): number
  flush(): Promise<void>
  close(lingerMs: number): Promise<void>
}

export function createZmtpPusher(opts: ZmtpPublisherOptions): ZmtpPusher {
  return createZmtpSocket('PUSH', opts)
}

/** A DEALER: sends as a PUSH does; what the ROUTER answers goes to `opts.onMessage`. */
export function createZmtpDealer(opts: ZmtpPublisherOptions): ZmtpPusher {
  return createZmtpSocket('DEALER', opts)
}

function createZmtpSocket(type: SocketType, opts: ZmtpPublisherOptions): ZmtpPublisher & ZmtpPusher {
  const reconnectMs = opts.reconnectMs ?? 100
  const hwmBytes = opts.hwmBytes ?? 1024 * 1024
  const HELLO = hello(type, opts.identity)
  const onError = (e: unknown) => opts.onError?.(e)
  let closed = false
  let dropped = 0
  let nextPeer = 0
  let pendingWrites = 0
  const idleWaiters: (() => void)[] = []
  const writeDone = () => {
    if (--pendingWrites === 0) for (const w of idleWaiters.splice(0)) w()
  }

  const peers: Peer[] = opts.endpoints.map((endpoint) => {
    const target = parseEndpoint(endpoint)
    if (!target) throw new Error(`ZMTP publisher cannot connect to ${endpoint}`)
    return { endpoint, target, inbuf: Buffer.alloc(0), greeted: false, ready: false, subs: new Map(), parts: [] }
  })

  const lost = (p: Peer, why?: unknown) => {
    if (why) onError(why)
    const s = p.sock
    const wasReady = p.ready
    p.sock = undefined
    p.ready = false
    p.parts = []
    p.greeted = false
    p.subs.clear()
    p.inbuf = Buffer.alloc(0)
    s?.destroy()
    if (wasReady) opts.onLost?.()
    if (!closed && !p.timer) {
      p.timer = setTimeout(() => {
        p.timer = undefined
        open(p)
      }, reconnectMs)
      p.timer.unref()
    }
  }

  const onFrame = (p: Peer, flags: number, body: Buffer) => {
    if (flags & 0x04) {
      // Command: READY after the greeting; SUBSCRIBE/CANCEL from ZMTP 3.1 peers; ERROR ends it.
      const name = body.toString('latin1', 1, 1 + body[0])
      const rest = body.subarray(1 + body[0])
      if (name === 'READY') {
        const peerType = readyProperties(rest).get('socket-type') ?? '?'
        if (!PEER_TYPES[type].includes(peerType)) throw new Error(`peer socket type ${peerType} cannot talk to ${type}`)
        p.ready = true
        opts.onReady?.()
      } else if (name === 'SUBSCRIBE') subscribe(p, rest, true)
      else if (name === 'CANCEL') subscribe(p, rest, false)
      else if (name === 'ERROR') throw new Error(`peer error: ${rest.toString('latin1', 1, 1 + rest[0])}`)
      return
    }
    if (type === 'DEALER') {
      p.parts.push(Buffer.from(body))
      if (!(flags & 0x01)) opts.onMessage?.(p.parts.splice(0))
      return
    }
    // ZMTP 3.0 subscriptions: a one-frame message, 1 = subscribe / 0 = cancel, then the prefix.
    if (type === 'PUB' && !(flags & 0x01) && body.length >= 1 && (body[0] === 1 || body[0] === 0))
      subscribe(p, body.subarray(1), body[0] === 1)
  }

  const subscribe = (p: Peer, topic: Buffer, on: boolean) => {
    const k = topic.toString('latin1')
    const n = (p.subs.get(k) ?? 0) + (on ? 1 : -1)
    if (n > 0) p.subs.set(k, n)
    else p.subs.delete(k)
  }

  const onData = (p: Peer, chunk: Buffer) => {
    let b = p.inbuf.length ? Buffer.concat([p.inbuf, chunk]) : chunk
    if (!p.greeted) {
      if (b.length < 64) {
        p.inbuf = b
        return
      }
      if (b[0] !== 0xff || b[9] !== 0x7f || b[10] < 3) throw new Error('peer does not speak ZMTP 3')
      if (b.toString('latin1', 12, 16) !== 'NULL') throw new Error('peer wants a security mechanism other than NULL')
      p.greeted = true
      b = b.subarray(64)
    }
    for (;;) {
      if (b.length < 2) break
      const flags = b[0]
      const long = (flags & 0x02) !== 0
      const head = long ? 9 : 2
      if (b.length < head) break
      const size = long ? Number(b.readBigUInt64BE(1)) : b[1]
      if (size > 1024 * 1024) throw new Error(`peer sent a frame of ${size} bytes`)
      if (b.length < head + size) break
      onFrame(p, flags, b.subarray(head, head + size))
      b = b.subarray(head + size)
    }
    p.inbuf = b.length ? Buffer.from(b) : Buffer.alloc(0)
  }

  const open = (p: Peer) => {
    if (closed) return
    const s = 'path' in p.target ? connect(p.target.path) : connect(p.target.port, p.target.host)
    p.sock = s
    s.setNoDelay(true)
    let connected = false
    s.on('connect', () => {
      connected = true
      s.write(HELLO)
    })
    s.on('data', (c: Buffer) => {
      if (p.sock !== s) return
      try {
        onData(p, c)
      } catch (e) {
        lost(p, e)
      }
    })
    // A refused or dropped connection is normal (the peer is not up yet, or restarts): retry quietly.
    s.on('error', () => {})
    s.on('close', () => {
      if (p.sock !== s) return
      // A peer that hangs up before READY refused us (wrong socket type, mechanism, version).
      lost(
        p,
        connected && !p.ready
          ? new Error(`${p.endpoint}: peer closed the connection during the ZMTP handshake`)
          : undefined,
      )
    })
  }
  for (const p of peers) open(p)

  const matches = (p: Peer, first: Buffer, start: number, end: number): boolean => {
    if (p.subs.has('')) return true
    for (const k of p.subs.keys()) {
      if (k.length > end - start) continue
      if (first.toString('latin1', start, start + k.length) === k) return true
    }
    return false
  }

  return {
    get dropped() {
      return dropped
    },
    send(messages) {
      if (closed || !messages.length) return
      const live = peers.filter((p) => p.ready && p.sock && p.subs.size)
      if (!live.length) return // as a PUB with no subscriber: nothing is queued
      const { buf, bounds } = encode(messages)
      for (const p of live) {
        const s = p.sock!
        if (s.writableLength > hwmBytes) {
          dropped += messages.length
          continue
        }
        let out: Buffer
        if (p.subs.has('')) out = buf
        else {
          const parts = bounds.filter(([, , fb, fe]) => matches(p, buf, fb, fe)).map(([a, b]) => buf.subarray(a, b))
          if (!parts.length) continue
          out = parts.length === bounds.length ? buf : Buffer.concat(parts)
        }
        pendingWrites++
        s.write(out, writeDone)
      }
    },
    push(messages) {
      if (closed || !messages.length) return 0
      // Round robin over ready peers with room; all of this batch goes to one of them.
      for (let i = 0; i < peers.length; i++) {
        const p = peers[(nextPeer + i) % peers.length]
        if (!p.ready || !p.sock || p.sock.writableLength > hwmBytes) continue
        nextPeer = (nextPeer + i + 1) % peers.length
        pendingWrites++
        p.sock.write(encode(messages).buf, writeDone)
        return messages.length
      }
      return 0
    },
    flush() {
      if (pendingWrites === 0) return Promise.resolve()
      return new Promise<void>((r) => idleWaiters.push(r))
    },
    async close(lingerMs) {
      if (closed) return
      closed = true
      for (const p of peers) if (p.timer) clearTimeout(p.timer)
      if (lingerMs > 0 && pendingWrites > 0)
        await Promise.race([this.flush(), new Promise((r) => setTimeout(r, lingerMs).unref())])
      for (const p of peers) {
        p.sock?.destroy()
        p.sock = undefined
      }
      for (const w of idleWaiters.splice(0)) w()
    },
  }
}
