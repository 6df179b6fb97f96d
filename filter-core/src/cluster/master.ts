// The filter master (amavisd's parent process): owns the listening sockets, pre-forks
// max_servers workers plus min_spare_servers warm spares, hands each accepted connection to an
// idle worker (one connection per worker at a time, at most max_servers at once, as
// Net::Server::PreFork children), starts a worker's replacement as soon as it has been handed its
// last (max_requests-th) connection, so the replacement is warm before the old one leaves,
// replaces workers that die (immediately, with a crash-loop backoff), and sends the cold-start
// `am.snmp FLUSH` / sys* / `am.st FLUSH` burst before the first worker starts.
import { fork, type ChildProcess } from 'node:child_process'
import { createServer, type Server, type Socket } from 'node:net'
import { mkdirSync, rmSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { AMAVIS_VERSION, formatSnmpFrame, type CommonConfig, type Logger, type LogLevel } from '@vigil/protocol'
import { normalizeListeners, type FilterConfig, type Listener } from '../config.ts'
import { createBusPublisher } from '../telemetry/publisher.ts'
import { resolveHome } from './worker.ts'
import { prepareWorkerEntry, unbundledEntry, type WorkerEntry } from './worker-bundle.ts'
import { buildAnalyzers } from '../pipeline/real-analyzers.ts'
import { parseSocketTarget } from '../checks/socket-target.ts'
import { parseDeliveryMethod } from '../forward/client.ts'
import { formatResponse } from '../ampdp/codec.ts'
import { failureResponse } from '../ampdp/replies.ts'

/**
 * Node options of every worker (measured with bench/filter-throughput.ts):
 * - One V8 platform thread (default 4): a worker serves one session at a time, and the extra
 *   compiler/GC threads only cost memory (peak RSS 82-83 MB instead of 92-96 MB).
 * - TurboFan only for functions under 8 KiB of bytecode (default 60 KiB). The big per-message
 *   functions (processMessage, the SMTP command handler) run once per message; V8 kept
 *   re-optimising them after every major GC (their optimised code embeds objects that die), and
 *   each compile of a function that size takes ~8 MB of compiler zone memory: peak RSS per worker
 *   72-73 MB instead of 80-82 MB, worker CPU per message the same within noise.
 */
const WORKER_NODE_ARGS = ['--v8-pool-size=1', '--max-optimized-bytecode-size=8192']

/** Connections waiting for an idle worker beyond this are refused with 421 (the MTA retries). */
const MAX_PENDING = 1000
import type { MasterToWorker, WorkerToMaster } from './protocol.ts'

interface WorkerSlot {
  child: ChildProcess
  state: 'starting' | 'ready' | 'retiring'
  startedAt: number
  /** Connections handed over and not finished yet (0 idle, 1 busy, 2 busy with one waiting). */
  inflight: number
  /** Connections handed over in total (a worker serves at most max_requests). */
  assigned: number
}

export interface BoundListener {
  listener: Listener
  /** Where it actually listens (the real port when 0 was configured). */
  address: string
}

export interface FilterMaster {
  start(): Promise<void>
  stop(): Promise<void>
  describe(): string[]
  /** Listening addresses after start(). */
  listeners(): BoundListener[]
  /** PIDs of the live workers. */
  workerPids(): number[]
}

/** The cold-start burst (spec §2.3.1): `am.snmp FLUSH`, the 7 sys* frames, then `am.st <pid> <abs> FLUSH`. */
export function coldStartFrames(common: CommonConfig, startSecs: number): string[][] {
  return [
    [formatSnmpFrame('am.snmp', 'FLUSH', '', '').trimEnd()],
    [
      formatSnmpFrame('am.snmp', 'sysDescr', 'STR', AMAVIS_VERSION),
      formatSnmpFrame('am.snmp', 'sysObjectID', 'OID', '1.3.6.1.4.1.15312.2'),
      formatSnmpFrame('am.snmp', 'sysUpTime', 'INT', Math.floor(startSecs)),
      formatSnmpFrame('am.snmp', 'sysContact', 'STR', common.snmp_contact),
      formatSnmpFrame('am.snmp', 'sysName', 'STR', common.myhostname),
      formatSnmpFrame('am.snmp', 'sysLocation', 'STR', common.snmp_location),
      formatSnmpFrame('am.snmp', 'sysServices', 'INT', 64),
    ],
  ]
}

export function createFilterMaster(common: CommonConfig, cfg: FilterConfig, deps: { log: Logger }): FilterMaster {
  const log = deps.log
  const wlog = log.child('worker')
  const paths = resolveHome(common, cfg)
  const listeners = normalizeListeners(cfg)
  const servers: { server: Server; listener: Listener; address: string }[] = []
  const workers = new Map<number, WorkerSlot>()
  const pending: { socket: Socket; listener: Listener }[] = []
  let stopping = false
  let started = false
  const crashTimes: number[] = []
  let respawnTimer: NodeJS.Timeout | undefined
  let backoffMs = 0
  let entry: WorkerEntry | undefined

  // An idle worker within its max_requests budget, while fewer than max_servers sessions run.
  // Connections wait here, not behind a busy worker, so the first worker to become free takes the
  // next one (as preforked amavisd children accepting from one listen queue). Workers can queue
  // (worker-main.ts), but measurements on a loaded box showed no gain from handing over early, so
  // it is not done. Of the idle workers the one closest to its max_requests is taken: retirements
  // come one at a time and the spares stay spare (warm) until one is needed.
  const pickWorker = (): WorkerSlot | undefined => {
    let busy = 0
    let best: WorkerSlot | undefined
    for (const w of workers.values()) {
      if (w.inflight > 0) busy++
      else if (w.state === 'ready' && w.assigned < cfg.max_requests && (!best || w.assigned > best.assigned)) best = w
    }
    return busy < cfg.max_servers ? best : undefined
  }

  // Workers that will still take connections (starting, or ready within their budget): kept at
  // max_servers + min_spare_servers. A worker handed its last connection no longer counts, so its
  // replacement starts while it serves that connection.
  const wanted = cfg.max_servers + cfg.min_spare_servers
  const topUp = () => {
    let fresh = 0
    for (const w of workers.values()) if (w.state !== 'retiring' && w.assigned < cfg.max_requests) fresh++
    for (; fresh < wanted && !stopping && !respawnTimer; fresh++) spawn()
  }

  const dispatch = () => {
    while (pending.length) {
      const slot = pickWorker()
      if (!slot) return
      const { socket, listener } = pending.shift()!
      if (socket.destroyed) continue
      slot.inflight++
      slot.assigned++
      if (slot.assigned >= cfg.max_requests) topUp()
      const msg: MasterToWorker = { type: 'conn', listener }
      try {
        slot.child.send(msg, socket, { keepOpen: false }, (err) => {
          if (err) {
            log.warn('Could not hand a connection to a worker; closing it.', { err })
            socket.destroy()
          }
        })
      } catch (err) {
        log.warn('Could not hand a connection to a worker; closing it.', { err: err as Error })
        socket.destroy()
      }
    }
  }

  const spawn = () => {
    if (stopping) return
    // The shared bundle lives in the temp directory; if it was cleaned away, run the unbundled entry.
    if (entry!.bundled && !existsSync(entry!.file)) entry = unbundledEntry()
    const child = fork(entry!.file, [], {
      // VIGIL_WORKER_NODE_ARGS: extra node options for workers (e.g. --cpu-prof), for profiling.
      execArgv: [
        ...entry!.execArgv,
        ...WORKER_NODE_ARGS,
        ...(process.env.VIGIL_WORKER_NODE_ARGS?.split(/\s+/).filter(Boolean) ?? []),
      ],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, NODE_NO_WARNINGS: '1' },
    })
    const slot: WorkerSlot = { child, state: 'starting', startedAt: Date.now(), inflight: 0, assigned: 0 }
    const pid = child.pid!
    workers.set(pid, slot)
    child.on('message', (m: WorkerToMaster) => {
      switch (m.type) {
        case 'ready':
          slot.state = 'ready'
          dispatch()
          break
        case 'done':
          slot.inflight = Math.max(0, slot.inflight - 1)
          dispatch()
          break
        case 'retiring':
          slot.state = 'retiring'
          break
        case 'log':
          wlog[m.level](m.msg, { ...(m.fields ?? {}), pid })
          break
      }
    })
    child.on('error', (err) => log.warn('Worker process error.', { pid, err }))
    child.on('exit', (code, signal) => {
      workers.delete(pid)
      if (stopping) return
      const ranMs = Date.now() - slot.startedAt
      const normal = code === 0 && slot.state === 'retiring'
      if (normal) {
        // Its replacement was started when it took its last connection (topUp is a no-op then).
        log.debug('Worker retired after max_requests.', { pid })
        backoffMs = 0
        topUp()
        return
      }
      log.warn('Worker died; starting a replacement.', { pid, code, signal })
      const now = Date.now()
      crashTimes.push(now)
      while (crashTimes.length && crashTimes[0] < now - 10_000) crashTimes.shift()
      if (ranMs < 2000 && crashTimes.length >= 3) {
        backoffMs = Math.min(Math.max(backoffMs * 2, 250), cfg.respawn_backoff_max_secs * 1000)
        log.warn('Workers keep crashing; backing off before the next start.', { delay_ms: backoffMs })
        respawnTimer = setTimeout(() => {
          respawnTimer = undefined
          topUp()
        }, backoffMs)
        return
      }
      topUp()
    })
    const init: MasterToWorker = { type: 'init', common, cfg, logLevel: common.log_level as LogLevel }
    child.send(init)
  }

  const listen = async (l: Listener): Promise<void> => {
    const server = createServer({ pauseOnConnect: true })
    server.on('connection', (socket) => {
      if (stopping) return void socket.destroy()
      if (pending.length >= MAX_PENDING) {
        const busy = 'Service busy, too many connections waiting; try again later'
        socket.end(l.protocol === 'ampdp' ? formatResponse(failureResponse(busy)) : `421 4.3.2 ${busy}\r\n`)
        return
      }
      pending.push({ socket, listener: l })
      socket.once('close', () => {
        const i = pending.findIndex((p) => p.socket === socket)
        if (i >= 0) pending.splice(i, 1)
      })
      dispatch()
    })
    const target = parseSocketTarget(l.address)
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      if ('path' in target) {
        if (existsSync(target.path)) rmSync(target.path, { force: true })
        server.listen({ path: target.path }, () => resolve())
      } else
        server.listen({ host: target.host, port: target.port, ipv6Only: target.host.includes(':') }, () => resolve())
    })
    server.on('error', (err) => log.error('Listener error.', { address: l.address, err }))
    const a = server.address()
    const address =
      typeof a === 'string' || !a
        ? l.address
        : a.family === 'IPv6'
          ? `[${a.address}]:${a.port}`
          : `${a.address}:${a.port}`
    servers.push({ server, listener: l, address: 'path' in target ? l.address : address })
  }

  return {
    async start() {
      if (started) return
      started = true
      // Validate what workers would only find out one by one (and crash-loop on): checker
      // addresses, banned rules, delivery methods. Throws a VigilError naming the problem.
      buildAnalyzers(cfg, { quarantineDir: paths.quarantine, myhostname: common.myhostname })
      for (const l of listeners)
        if (l.policy_bank && !cfg.policy_banks[l.policy_bank])
          log.warn('Listener names a policy bank that is not defined; ignored (as amavis does).', {
            listen: l.address,
            policy_bank: l.policy_bank,
          })
      parseDeliveryMethod(cfg.forward_method)
      parseDeliveryMethod(cfg.notify_method)
      mkdirSync(paths.tmp, { recursive: true })
      entry = await prepareWorkerEntry(tmpdir(), (err) =>
        log.warn('Worker bundle not built; workers run unbundled.', { err: err as Error }),
      )
      if (cfg.enable_zmq) {
        // Cold start: the master announces itself, then drops its socket before forking (as amavisd).
        const startSecs = Date.now() / 1000
        const pub = await createBusPublisher({
          endpoints: paths.inner,
          slowJoinerMs: cfg.zmq_slow_joiner_ms,
          transport: cfg.zmq_transport,
        })
        for (const frames of coldStartFrames(common, startSecs)) pub.send(frames)
        pub.state('FLUSH')
        // The cold-start burst must reach the bus (it resets every consumer): keep amavis's LINGER 2000.
        await pub.close({ lingerMs: 2000 })
      }
      try {
        for (const l of listeners) await listen(l)
      } catch (err) {
        for (const s of servers) s.server.close()
        servers.length = 0
        started = false
        throw err
      }
      topUp()
      log.info('Filter listening.', {
        listen: servers.map((s) => `${s.listener.protocol}:${s.address}`).join(','),
        workers: cfg.max_servers,
        spares: cfg.min_spare_servers,
      })
    },
    async stop() {
      if (stopping) return
      stopping = true
      if (respawnTimer) clearTimeout(respawnTimer)
      // close() stops accepting at once, but its callback waits until every socket handed to a
      // worker is closed there (net.Server tracks sockets sent to children): awaiting it before
      // the workers are told to stop would hang the shutdown for as long as a client keeps an
      // idle session open (up to smtpd_timeout). So: stop accepting, stop the workers, then await.
      const closed = servers.map((s) => new Promise<void>((r) => s.server.close(() => r())))
      for (const p of pending.splice(0)) p.socket.destroy()
      const exits = [...workers.values()].map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.child.exitCode !== null || w.child.signalCode !== null) return resolve()
            const t = setTimeout(() => {
              w.child.kill('SIGKILL')
            }, 5000)
            w.child.once('exit', () => {
              clearTimeout(t)
              resolve()
            })
            try {
              w.child.send({ type: 'shutdown' } satisfies MasterToWorker)
            } catch {
              w.child.kill('SIGTERM')
            }
          }),
      )
      await Promise.all(exits)
      await Promise.all(closed)
      workers.clear()
      for (const l of listeners) if (l.address.startsWith('unix:')) rmSync(l.address.slice(5), { force: true })
    },
    describe() {
      const where = servers.length
        ? servers.map((s) => `${s.listener.protocol}://${s.address}`)
        : listeners.map((l) => `${l.protocol}://${l.address}`)
      return [
        `filter: ${where.join(', ')} (${cfg.mode}, ${cfg.max_servers} workers + ${cfg.min_spare_servers} spare) -> ${cfg.forward_method}`,
      ]
    },
    listeners: () => servers.map((s) => ({ listener: s.listener, address: s.address })),
    workerPids: () => [...workers.keys()],
  }
}
