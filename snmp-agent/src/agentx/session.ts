// AgentX subagent session (RFC 2741): connects to the master (snmpd), opens a session, registers
// the subtrees, and answers Get/GetNext/GetBulk from a backend. Set requests are refused with
// notWritable. It reconnects every `reconnectMs` while the master is away and re-registers, pings
// an idle master to notice a dead peer, and survives malformed PDUs: a bad payload gets a
// parseError Response and is counted; a stream that cannot be re-framed is closed and reopened.
import { connect, type Socket } from 'node:net'
import { ErrorCode, type Logger } from '@vigil/protocol'
import { formatAgentxAddress, type AgentxAddress } from './address.ts'
import { createFramer } from './framer.ts'
import {
  AgentxDecodeError,
  CloseReason,
  encodePdu,
  encodeResponse,
  encodeVarBind,
  Flags,
  formatOid,
  PDU_TYPE_NAMES,
  PduType,
  ResponseError,
  type EncodablePdu,
  type Header,
  type Oid,
  type Pdu,
  type VarBind,
} from './pdu.ts'

export type RequestPdu = Extract<Pdu, { type: typeof PduType.Get | typeof PduType.GetNext | typeof PduType.GetBulk }>

export interface SubagentBackend {
  /**
   * Answers one read request; the varbinds are in request order (GetBulk: non-repeaters then rows).
   * Returns the varbinds directly when no data source has to be waited for.
   */
  answer(pdu: RequestPdu): VarBind[] | Promise<VarBind[]>
  /**
   * The same answer with every varbind already encoded (`encodeVarBind`) in the byte order asked
   * for; lets a backend cache encoded values. The session uses it instead of `answer` when present.
   */
  answerEncoded?(pdu: RequestPdu, bigEndian: boolean): Buffer[] | Promise<Buffer[]>
}

export interface SessionOptions {
  address: AgentxAddress
  /** Subtrees registered after every Open. */
  subtrees: readonly Oid[]
  backend: SubagentBackend
  log: Logger
  /** Open PDU id and description (amavis: 'amavis-agentx'). */
  id: Oid
  description: string
  reconnectMs: number
  /** Ping the master after this long without traffic; 0 disables. */
  pingIntervalMs: number
  /** How long we wait for the master's Response to our Open/Register/Ping/Close. */
  timeoutMs: number
  /** Deadline for answering one master request; past it the answer is genErr rather than never. */
  answerDeadlineMs: number
  /** Priority of the registrations (RFC 2741 default 127). */
  priority?: number
}

export type SessionState = 'idle' | 'connecting' | 'opening' | 'registered' | 'disconnected' | 'stopped'

export interface SessionStats {
  state: SessionState
  sessionId: number
  /** Completed Open+Register cycles. */
  sessions: number
  requests: number
  /** Requests answered synchronously (fresh caches), the ones the three timings below cover. */
  syncAnswers: number
  /** Time spent finding and encoding those answers, in ns (backend + Response encoding). */
  answerNs: number
  /** Time spent handing those Responses to the socket (Node stream + write syscall), in ns. */
  writeNs: number
  /** Time spent in the socket's data handler (framing, decoding, answering, writing), in ns: the
   * agent's whole processing of what the master sent, of which requests are nearly all during a walk. */
  receiveNs: number
  malformed: number
  /** Pings the master answered. */
  pings: number
  resets: number
  connectFailures: number
}

export interface AgentxSession {
  start(): void
  stop(): Promise<void>
  /** Resolves when the session is (again) registered; rejects after `ms`. */
  waitRegistered(ms: number): Promise<void>
  stats(): SessionStats
}

const NO_ERROR = Object.freeze({})

interface Pending {
  resolve(p: Extract<Pdu, { type: typeof PduType.Response }>): void
  reject(err: Error): void
  timer: NodeJS.Timeout
}

export function createAgentxSession(o: SessionOptions): AgentxSession {
  const log = o.log
  const where = formatAgentxAddress(o.address)
  let sock: Socket | undefined
  let sessionId = 0
  let nextPacketId = 1
  let stopped = false
  let reconnectTimer: NodeJS.Timeout | undefined
  let pingTimer: NodeJS.Timeout | undefined
  let lastRx = Date.now()
  let everRegistered = false
  let downLogged = false
  const pending = new Map<number, Pending>()
  const waiters = new Set<() => void>()
  const st: SessionStats = {
    state: 'idle',
    sessionId: 0,
    sessions: 0,
    requests: 0,
    syncAnswers: 0,
    answerNs: 0,
    writeNs: 0,
    receiveNs: 0,
    malformed: 0,
    pings: 0,
    resets: 0,
    connectFailures: 0,
  }
  let malformedLoggedAt = 0

  const setState = (s: SessionState) => {
    st.state = s
    if (s === 'registered') for (const w of [...waiters]) w()
  }

  const write = (s: Socket, buf: Buffer) => {
    if (!s.destroyed && s.writable) s.write(buf)
  }

  const failPending = (why: string) => {
    for (const [id, p] of pending) {
      clearTimeout(p.timer)
      p.reject(new Error(why))
      pending.delete(id)
    }
  }

  /** Sends one of our own PDUs and resolves with the master's Response. */
  const request = (s: Socket, pdu: EncodablePdu, flags = 0) =>
    new Promise<Extract<Pdu, { type: typeof PduType.Response }>>((resolve, reject) => {
      const packetId = nextPacketId
      nextPacketId = (nextPacketId % 0x7ffffff0) + 1
      const timer = setTimeout(() => {
        pending.delete(packetId)
        reject(new Error(`no Response to ${PDU_TYPE_NAMES[pdu.type]} within ${o.timeoutMs} ms`))
      }, o.timeoutMs)
      pending.set(packetId, { resolve, reject, timer })
      write(s, encodePdu(pdu, { sessionId, transactionId: packetId, packetId, flags }))
    })

  const respond = (
    s: Socket,
    h: Header,
    body: Omit<Extract<EncodablePdu, { type: typeof PduType.Response }>, 'type'>,
  ) => {
    write(
      s,
      encodePdu(
        { type: PduType.Response, ...body },
        {
          sessionId: h.sessionId,
          transactionId: h.transactionId,
          packetId: h.packetId,
          bigEndian: (h.flags & Flags.NETWORK_BYTE_ORDER) !== 0,
        },
      ),
    )
  }

  const drop = (s: Socket, reason: string, closeReason?: number) => {
    if (s !== sock) return
    st.resets++
    log.warn('AgentX session reset.', { master: where, reason })
    if (closeReason !== undefined && sessionId) {
      try {
        write(
          s,
          encodePdu(
            { type: PduType.Close, reason: closeReason },
            { sessionId, transactionId: 0, packetId: nextPacketId++ },
          ),
        )
      } catch {}
    }
    s.destroy()
  }

  const noteMalformed = (err: AgentxDecodeError) => {
    st.malformed++
    const t = Date.now()
    // Rate-limit the log, never the counter: a broken master could send thousands per second.
    if (t - malformedLoggedAt > 10_000) {
      malformedLoggedAt = t
      log.warn('Malformed AgentX PDU from the master.', {
        code: ErrorCode.AGENTX_PROTOCOL,
        master: where,
        err: err.message,
        total: st.malformed,
      })
    }
  }

  const answerEncoded = (pdu: RequestPdu, be: boolean): Buffer[] | Promise<Buffer[]> => {
    if (o.backend.answerEncoded) return o.backend.answerEncoded(pdu, be)
    const vbs = o.backend.answer(pdu)
    const enc = (list: VarBind[]) => list.map((vb) => encodeVarBind(vb, be))
    return vbs instanceof Promise ? vbs.then(enc) : enc(vbs)
  }

  const respondEncoded = (s: Socket, h: Header, varbinds: readonly Buffer[]) => {
    write(
      s,
      encodeResponse(
        {
          sessionId: h.sessionId,
          transactionId: h.transactionId,
          packetId: h.packetId,
          bigEndian: (h.flags & Flags.NETWORK_BYTE_ORDER) !== 0,
        },
        NO_ERROR,
        varbinds,
      ),
    )
  }

  const handleRequest = (s: Socket, pdu: RequestPdu): void => {
    st.requests++
    if (pdu.context) {
      respond(s, pdu.header, { error: ResponseError.unsupportedContext })
      return
    }
    let direct: Buffer[] | Promise<Buffer[]>
    const t0 = process.hrtime.bigint()
    try {
      direct = answerEncoded(pdu, (pdu.header.flags & Flags.NETWORK_BYTE_ORDER) !== 0)
    } catch (err) {
      log.warn('AgentX request could not be answered; replied genErr.', { err })
      respond(s, pdu.header, { error: ResponseError.genErr, index: 1 })
      return
    }
    // Fresh caches answer synchronously (the hot path of a walk: no promise, no timer, one write).
    if (!(direct instanceof Promise)) {
      const h = pdu.header
      const buf = encodeResponse(
        {
          sessionId: h.sessionId,
          transactionId: h.transactionId,
          packetId: h.packetId,
          bigEndian: (h.flags & Flags.NETWORK_BYTE_ORDER) !== 0,
        },
        NO_ERROR,
        direct,
      )
      const t1 = process.hrtime.bigint()
      write(s, buf)
      st.writeNs += Number(process.hrtime.bigint() - t1)
      st.answerNs += Number(t1 - t0)
      st.syncAnswers++
    } else void answerLater(s, pdu, direct)
  }

  const answerLater = async (s: Socket, pdu: RequestPdu, pending: Promise<Buffer[]>) => {
    let timer: NodeJS.Timeout | undefined
    try {
      const varbinds = await Promise.race([
        pending,
        new Promise<never>((_, rej) => {
          timer = setTimeout(
            () => rej(new Error(`answer deadline ${o.answerDeadlineMs} ms passed`)),
            o.answerDeadlineMs,
          )
        }),
      ])
      respondEncoded(s, pdu.header, varbinds)
    } catch (err) {
      log.warn('AgentX request could not be answered; replied genErr.', { err })
      respond(s, pdu.header, { error: ResponseError.genErr, index: 1 })
    } finally {
      clearTimeout(timer)
    }
  }

  const onPdu = (s: Socket, pdu: Pdu) => {
    if (pdu.type === PduType.Response) {
      const p = pending.get(pdu.header.packetId)
      if (p) {
        pending.delete(pdu.header.packetId)
        clearTimeout(p.timer)
        p.resolve(pdu)
      }
      return
    }
    const h = pdu.header
    if (sessionId === 0 || h.sessionId !== sessionId) {
      if (pdu.type !== PduType.CleanupSet) respond(s, h, { error: ResponseError.notOpen })
      return
    }
    switch (pdu.type) {
      case PduType.Get:
      case PduType.GetNext:
      case PduType.GetBulk:
        handleRequest(s, pdu)
        return
      case PduType.TestSet:
        // Every object of AMAVIS-MIB is read-only.
        respond(s, h, { error: ResponseError.notWritable, index: 1 })
        return
      case PduType.CommitSet:
        respond(s, h, { error: 14 /* commitFailed */ })
        return
      case PduType.UndoSet:
        respond(s, h, { error: 15 /* undoFailed */ })
        return
      case PduType.CleanupSet:
        return // RFC 2741 §7.2.4.4: no response
      case PduType.Ping:
        respond(s, h, {})
        return
      case PduType.Close:
        log.warn('AgentX master closed our session.', { master: where, reason: pdu.reason })
        s.destroy()
        return
      default:
        noteMalformed(new AgentxDecodeError(`unexpected PDU type ${h.type} from the master`, false, h))
        respond(s, h, { error: ResponseError.parseError })
    }
  }

  const handshake = async (s: Socket) => {
    setState('opening')
    const open = await request(s, { type: PduType.Open, timeout: 0, id: o.id, descr: o.description })
    if (open.error !== 0) throw new Error(`Open refused with error ${open.error}`)
    sessionId = open.header.sessionId
    st.sessionId = sessionId
    const results = await Promise.all(
      o.subtrees.map((subtree) =>
        request(s, { type: PduType.Register, subtree, priority: o.priority ?? 127, timeout: 0 }),
      ),
    )
    results.forEach((r, i) => {
      if (r.error !== 0)
        log.error('AgentX master refused a registration.', {
          code: ErrorCode.AGENTX_PROTOCOL,
          subtree: formatOid(o.subtrees[i]),
          error: r.error === ResponseError.duplicateRegistration ? 'duplicateRegistration' : r.error,
        })
    })
    st.sessions++
    setState('registered')
    log.info(
      everRegistered
        ? 'AgentX session re-established; subtrees registered again.'
        : 'AgentX session open; subtrees registered.',
      {
        master: where,
        sessionId,
        subtrees: o.subtrees.map(formatOid).join(','),
      },
    )
    everRegistered = true
    downLogged = false
  }

  const scheduleReconnect = () => {
    if (stopped || reconnectTimer) return
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined
      connectOnce()
    }, o.reconnectMs)
  }

  const connectOnce = () => {
    if (stopped) return
    setState('connecting')
    sessionId = 0
    const s =
      o.address.kind === 'unix'
        ? connect({ path: o.address.path })
        : connect({
            // tcp6:localhost means the IPv6 loopback; many /etc/hosts map localhost to 127.0.0.1 only.
            host: o.address.family === 6 && o.address.host === 'localhost' ? '::1' : o.address.host,
            port: o.address.port,
            family: o.address.family || undefined,
          })
    sock = s
    s.setNoDelay(true)
    const framer = createFramer({
      pdu: (pdu) => {
        try {
          onPdu(s, pdu)
        } catch (err) {
          noteMalformed(new AgentxDecodeError(`handler failed: ${(err as Error).message}`, false))
        }
      },
      malformed: (err) => {
        noteMalformed(err)
        const h = err.header
        if (h && h.type !== PduType.Response && h.type !== PduType.CleanupSet)
          respond(s, h, { error: ResponseError.parseError })
      },
      fatal: (err) => {
        noteMalformed(err)
        drop(s, `unrecoverable stream: ${err.message}`, CloseReason.parseError)
      },
    })
    s.on('data', (chunk: Buffer) => {
      const t0 = process.hrtime.bigint()
      lastRx = Date.now()
      framer.push(chunk)
      st.receiveNs += Number(process.hrtime.bigint() - t0)
    })
    s.on('connect', () => {
      lastRx = Date.now()
      handshake(s).catch((err: Error) => {
        if (s === sock) drop(s, `session setup failed: ${err.message}`)
      })
    })
    s.on('error', (err: NodeJS.ErrnoException) => {
      if (st.state === 'connecting') {
        st.connectFailures++
        if (!downLogged) {
          downLogged = true
          log.warn('AgentX master unreachable; retrying.', {
            code: ErrorCode.AGENTX_CONNECT,
            master: where,
            err,
            retrySecs: o.reconnectMs / 1000,
          })
        }
      } else log.debug('AgentX socket error.', { err })
    })
    s.on('close', () => {
      if (s !== sock) return
      sock = undefined
      failPending('connection closed')
      sessionId = 0
      if (stopped) return
      if (st.state === 'registered') {
        log.warn('AgentX master connection lost; reconnecting.', { master: where, retrySecs: o.reconnectMs / 1000 })
        downLogged = true
      }
      setState('disconnected')
      scheduleReconnect()
    })
  }

  let pingInFlight = false
  const ping = () => {
    const s = sock
    if (!s || st.state !== 'registered' || pingInFlight) return
    if (Date.now() - lastRx < o.pingIntervalMs) return
    pingInFlight = true
    request(s, { type: PduType.Ping })
      .then(() => {
        st.pings++
      })
      .catch((err: Error) => {
        if (s === sock && !stopped) drop(s, `master did not answer Ping: ${err.message}`)
      })
      .finally(() => {
        pingInFlight = false
      })
  }

  return {
    start() {
      if (pingTimer || stopped) return
      connectOnce()
      if (o.pingIntervalMs > 0) {
        pingTimer = setInterval(ping, Math.max(100, Math.floor(o.pingIntervalMs / 2)))
        pingTimer.unref()
      }
    },
    async stop() {
      stopped = true
      clearTimeout(reconnectTimer)
      clearInterval(pingTimer)
      reconnectTimer = undefined
      pingTimer = undefined
      const s = sock
      if (s && !s.destroyed) {
        if (st.state === 'registered' && sessionId) {
          // Tell the master we are going so it unregisters at once instead of timing out requests.
          let t: NodeJS.Timeout | undefined
          await Promise.race([
            request(s, { type: PduType.Close, reason: CloseReason.shutdown }).catch(() => undefined),
            new Promise((r) => (t = setTimeout(r, Math.min(o.timeoutMs, 1000)))),
          ])
          clearTimeout(t)
        }
        s.destroy()
      }
      sock = undefined
      failPending('stopped')
      setState('stopped')
      for (const w of [...waiters]) w()
    },
    waitRegistered(ms) {
      if (st.state === 'registered') return Promise.resolve()
      return new Promise((resolve, reject) => {
        const done = () => {
          clearTimeout(timer)
          waiters.delete(done)
          if (st.state === 'registered') resolve()
          else reject(new Error(`AgentX session ${st.state}`))
        }
        const timer = setTimeout(() => {
          waiters.delete(done)
          reject(new Error(`AgentX session not registered within ${ms} ms (state ${st.state})`))
        }, ms)
        waiters.add(done)
      })
    },
    stats: () => ({ ...st }),
  }
}
