// The msg-forwarder on libzmq proxies (zmq_proxy in zeromq.js worker threads):
//
//   local children PUB ─► XSUB A (local inner endpoints) ═proxy A═► XPUB A (inproc, XPUB_NODROP)
//                                                                    ├─► tap SUB ─► ingest (table, totals)
//   other hosts' PUB ─► JS SUB per host ─► ingest ─► PUB ─┐          │
//   minder (inject) ─────────────────── ingest ─► PUB ───┴─► XSUB B ◄┘ ═proxy B═► XPUB B (outer endpoint)
//
// XPUB A refuses to drop: if the tap falls behind, proxy A waits, so every message forwarded was
// also counted (and the children's own PUB HWM drops, as with amavis's forwarder). Messages are
// forwarded as received, malformed ones included (amavis's forwarder does the same; they are
// counted). Only two proxies exist whatever the number of hosts: each holds one libuv threadpool
// thread for its lifetime (main.ts raises UV_THREADPOOL_SIZE accordingly).
import { Proxy, Publisher, Subscriber, XPublisher, XSubscriber, type Socket } from 'zeromq'
import { batchReceiveLoop, createInnerSubscriber, type InnerSubscriber } from './inner-subscriber.ts'
import { createOuterPublisher } from './outer-publisher.ts'
import { bindOrThrow, closeNow, isTcp, needsIpv6 } from './sockets.ts'
import { outerInjectors, type Bus, type BusOptions } from './bus.ts'

let seq = 0
let threadsHeld = 0

/** libuv threadpool size this process started with (UV_THREADPOOL_SIZE, default 4). */
export function threadpoolSize(): number {
  const n = Number(process.env.UV_THREADPOOL_SIZE)
  return Number.isInteger(n) && n > 0 ? Math.min(n, 1024) : 4
}

/**
 * Reserves the two threadpool threads a native bus holds while running. Refuses when fewer than
 * two would be left for fs, dns and crypto work (which would then hang); the caller falls back to
 * the js forwarder.
 */
export function reserveProxyThreads(): boolean {
  if (threadpoolSize() - threadsHeld - 2 < 2) return false
  threadsHeld += 2
  return true
}
export function releaseProxyThreads(): void {
  threadsHeld = Math.max(0, threadsHeld - 2)
}

export function createNativeBus(o: BusOptions): Bus {
  const id = `${process.pid}-${++seq}`
  const localOut = `inproc://vigil-bus-local-${id}`
  const fwdIn = `inproc://vigil-bus-fwd-${id}`
  const [fast, ...others] = o.groups

  const xsubA = new XSubscriber({})
  const xpubA = new XPublisher({ noDrop: true })
  const tap = new Subscriber({})
  const xsubB = new XSubscriber({})
  const xpubB = new XPublisher({ noDrop: o.outerNodrop })
  // Proxy sockets are closed by the proxy thread at terminate(); they get LINGER 0 up front
  // because options cannot be changed while the proxy owns them.
  for (const s of [xsubA, xpubA, xsubB, xpubB] as Socket[]) s.linger = 0
  xsubA.receiveHighWaterMark = o.innerHwm
  xsubA.maxMessageSize = 16 * 1024 * 1024
  xpubA.sendHighWaterMark = o.innerHwm
  tap.receiveHighWaterMark = o.innerHwm
  tap.linger = 0
  xsubB.receiveHighWaterMark = o.innerHwm
  xpubB.sendHighWaterMark = o.outerHwm
  if (fast.endpoints.some(needsIpv6)) xsubA.ipv6 = true
  if (needsIpv6(o.outer)) xpubB.ipv6 = true
  if (o.curve && fast.endpoints.some(isTcp)) {
    xsubA.curveServer = true
    xsubA.curveSecretKey = o.curve.server_secret_key
  }
  if (o.curve && isTcp(o.outer)) {
    xpubB.curveServer = true
    xpubB.curveSecretKey = o.curve.server_secret_key
  }
  tap.subscribe('')
  const sender = createOuterPublisher({
    endpoint: fwdIn,
    mode: 'connect',
    hwm: o.innerHwm,
    nodrop: false,
    stats: o.stats,
    log: o.log,
  })
  const inners: InnerSubscriber[] = others.map((g) =>
    createInnerSubscriber({
      ...g,
      hwm: o.innerHwm,
      curve: o.curve,
      stats: o.stats,
      log: o.log,
      onMessage: (host, parts) => {
        if (o.ingest.handle(host, parts)) sender.send(parts)
      },
    }),
  )
  let proxyA: Proxy | undefined
  let proxyB: Proxy | undefined
  let runA: Promise<void> | undefined
  let runB: Promise<void> | undefined
  let tapLoop: Promise<void> | undefined
  let stopped = false

  const runTap = () =>
    batchReceiveLoop(
      tap,
      (parts) => {
        try {
          o.ingest.handle(fast.host, parts, false)
        } catch (err) {
          o.log.error('Message handler failed; message skipped.', { host: fast.host, err })
        }
        o.stats.messagesOut++
        o.stats.framesOut += parts.length
      },
      () => stopped,
      (err) => {
        o.stats.receiveErrors++
        o.log.warn('Tap receive failed.', { err })
      },
    )

  // stop() closes every socket, so a failed bind leaves them open until then.
  const bind = (sock: Socket, ep: string, what: string) => bindOrThrow(sock, ep, what, { keepOpen: true })

  const bus: Bus = {
    mode: 'native',
    async start() {
      try {
        await bind(xpubB, o.outer, 'outer')
        await bind(xsubB, fwdIn, 'forwarder')
        await bind(xpubA, localOut, 'tap')
        xsubB.connect(localOut)
        tap.connect(localOut)
        for (const ep of fast.endpoints) await bind(xsubA, ep, 'inner')
        await sender.start()
        proxyA = new Proxy(xsubA, xpubA)
        proxyB = new Proxy(xsubB, xpubB)
        runA = proxyA.run().catch((err) => o.log.error('Local proxy ended with an error.', { err }))
        runB = proxyB.run().catch((err) => o.log.error('Outer proxy ended with an error.', { err }))
        tapLoop = runTap()
        for (const i of inners) await i.start()
      } catch (err) {
        await bus.stop()
        throw err
      }
    },
    async stop() {
      if (stopped) return
      stopped = true
      for (const i of inners) await i.stop()
      await sender.stop()
      closeNow(tap)
      await tapLoop
      proxyA?.terminate()
      proxyB?.terminate()
      await runA
      await runB
      for (const s of [xsubA, xpubA, xsubB, xpubB]) closeNow(s)
      releaseProxyThreads()
    },
    ...outerInjectors(o, sender),
    describe() {
      return [
        `inner SUB (${fast.host}): ${fast.endpoints.join(', ')} (native proxy)`,
        ...others.map((g) => `inner SUB (${g.host}): ${g.endpoints.join(', ')}`),
        `outer PUB: ${o.outer}`,
      ]
    },
  }
  return bus
}
