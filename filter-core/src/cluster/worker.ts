// One pre-forked filter worker (an amavisd child): serves one connection at a time, publishes its
// process states and per-message counters over ZMQ, and exits after max_requests connections.
// The master hands it accepted sockets; this module holds the logic, worker-main.ts the process glue.
import type { Socket } from 'node:net'
import { join } from 'node:path'
import {
  eventsSocket,
  formatVigilStats,
  innerSocket,
  type CommonConfig,
  type Logger,
  type VigilStats,
} from '@vigil/protocol'
import type { FilterConfig, Listener } from '../config.ts'
import { runSmtpSession, type ProtocolErrorKind } from '../smtp/session.ts'
import { SmtpClient } from '../forward/client.ts'
import { createBusPublisher, createNullPublisher, type BusPublisher } from '../telemetry/publisher.ts'
import { createEventSink, type EventSink } from '../telemetry/events.ts'
import { processMessage, type ConnInfo } from '../pipeline/process.ts'
import { createSettingsLookup } from '../pipeline/settings.ts'
import type { Analyzers } from '../pipeline/analyzers.ts'
import { buildAnalyzers } from '../pipeline/real-analyzers.ts'
import { createLogCounter } from '../telemetry/log-counter.ts'
import { createAmpdpStats, runAmpdpSession } from '../ampdp/session.ts'

export interface WorkerConnection {
  socket: Socket
  listener: Listener
}

export interface Worker {
  /** Serves one connection to its end. */
  serve(conn: WorkerConnection): Promise<void>
  /** Connections served so far. */
  readonly served: number
  /** Publishes `exiting` and closes sockets. */
  close(): Promise<void>
}

export function resolveHome(common: CommonConfig, cfg: FilterConfig) {
  return {
    inner: common.zmq.inner.length ? common.zmq.inner : [innerSocket(common.home)],
    events: common.zmq.events ?? eventsSocket(common.home),
    tmp: cfg.tempbase || join(common.home, 'tmp'),
    quarantine: cfg.quarantine_dir || join(common.home, 'quarantine'),
    deadLetter: join(common.home, 'events-deadletter.ndjson'),
  }
}

const pad = (n: number, w: number) => String(n).padStart(w, '0')

export async function createWorker(
  common: CommonConfig,
  cfg: FilterConfig,
  deps: { log: Logger; analyzers?: Analyzers; publisher?: BusPublisher; events?: EventSink; pid?: number },
): Promise<Worker> {
  const pid = deps.pid ?? process.pid
  const paths = resolveHome(common, cfg)
  // Every entry this worker writes is counted (LogLines/LogEntries*) with the next message's am.snmp.
  const logCounter = createLogCounter(deps.log)
  const log = logCounter.log
  const publisher =
    deps.publisher ??
    (cfg.enable_zmq
      ? await createBusPublisher({
          endpoints: paths.inner,
          slowJoinerMs: cfg.zmq_slow_joiner_ms,
          batchMs: cfg.zmq_batch_ms,
          transport: cfg.zmq_transport,
          pid,
          onError: (e) => log.debug('ZMQ send failed.', { err: e as Error }),
        })
      : createNullPublisher())
  const events =
    deps.events ??
    (cfg.enable_events
      ? createEventSink({
          common,
          eventsEndpoint: paths.events,
          deadLetterPath: paths.deadLetter,
          queueLimit: cfg.events_queue_limit,
          batchMs: cfg.zmq_batch_ms,
          transport: cfg.zmq_transport,
          log,
        })
      : undefined)
  const analyzers =
    deps.analyzers ?? buildAnalyzers(cfg, { quarantineDir: paths.quarantine, myhostname: common.myhostname })
  const settings = createSettingsLookup(cfg)
  publisher.state('-')
  process.title = 'amavisd (ch0-avail)'
  let served = 0
  let lastEventStats = { deadLettered: 0, trimmed: 0, produced: 0, resent: 0, spooled: 0 }
  // The connection to forward_method is cached across sessions, as amavis's SMTP connection
  // cache does; it is closed after a quiet period and when the worker exits.
  let forwarder: SmtpClient | undefined
  let idleTimer: NodeJS.Timeout | undefined
  const CACHE_IDLE_MS = 5000
  const errorCounts: Partial<Record<ProtocolErrorKind, number>> = {}
  const ampdpStats = createAmpdpStats()

  const serve = async ({ socket, listener }: WorkerConnection): Promise<void> => {
    served++
    process.title = `amavisd (ch${served}-accept)`
    socket.setNoDelay(true)
    const base = `${pad(pid, 5)}-${pad(served, 2)}`
    publisher.state('A')
    publisher.state('b')
    const conn: ConnInfo = {
      srcIp: socket.remoteAddress,
      srcPort: socket.remotePort,
      dstIp: socket.localAddress,
      dstPort: socket.localPort,
      listener,
    }
    if (listener.protocol === 'ampdp') {
      // AM.PDP (release/requeue) is served by workers like SMTP, as amavisd children do: bounded
      // by max_servers, counted in max_requests, and a failure never touches the master.
      const before = { ...ampdpStats }
      await runAmpdpSession(socket, {
        common,
        cfg,
        log,
        taskId: base,
        timeoutSecs: cfg.smtpd_timeout_secs,
        stats: ampdpStats,
        quarantine: analyzers.quarantine,
        quarantineDir: paths.quarantine,
      })
      const delta = Object.fromEntries(
        Object.entries(ampdpStats).map(([k, v]) => [k, v - before[k as keyof typeof before]]),
      )
      log.info(`(${base}) AM.PDP session done.`, { ampdp: delta })
      publisher.state('-')
      process.title = `amavisd (ch${served}-avail)`
      return
    }
    if (idleTimer) clearTimeout(idleTimer)
    let notifier: SmtpClient | undefined
    const sessionErrors: Partial<Record<ProtocolErrorKind, number>> = {}
    const pipelineDeps = {
      cfg,
      common,
      log,
      logCounter,
      analyzers,
      settings,
      publisher,
      events,
      forwarder: () => (forwarder ??= new SmtpClient(cfg.forward_method, { heloName: common.myhostname })),
      notifier: () => (notifier ??= new SmtpClient(cfg.notify_method, { heloName: common.myhostname })),
    }
    await runSmtpSession(
      socket,
      {
        protocol: listener.protocol,
        hostname: common.myhostname,
        maxSizeBytes: cfg.smtpd_message_size_limit,
        spoolThresholdBytes: cfg.spool_threshold_bytes,
        spoolDir: paths.tmp,
        maxLineBytes: cfg.smtp_max_command_line_bytes,
        maxErrors: cfg.smtp_max_errors,
        timeoutSecs: cfg.smtpd_timeout_secs,
      },
      {
        onMail(seq) {
          const id = seq === 1 ? base : `${base}-${seq}`
          process.title = `amavisd (${id})`
          publisher.state('m', id)
          return id
        },
        onData(id) {
          publisher.state('d', id)
        },
        async onMessage(tx) {
          try {
            const out = await processMessage(tx, conn, pipelineDeps)
            return out.replies
          } catch (e) {
            log.error(`(${tx.taskId}) TROUBLE in check_mail; message tempfailed.`, { err: e as Error })
            publisher.state('.', tx.taskId)
            return [`451 4.5.0 Error in processing, id=${tx.taskId}, ${(e as Error).message}`.slice(0, 500)]
          }
        },
        onProtocolError(kind, detail) {
          sessionErrors[kind] = (sessionErrors[kind] ?? 0) + 1
          errorCounts[kind] = (errorCounts[kind] ?? 0) + 1
          log.debug(`(${base}) SMTP protocol error.`, { kind, detail })
        },
      },
    )
    await notifier?.close()
    if (forwarder?.isOpen) {
      idleTimer = setTimeout(() => void forwarder?.close(), CACHE_IDLE_MS)
      idleTimer.unref()
    }
    const es = events?.stats()
    const evDelta = es
      ? {
          deadLettered: es.deadLettered - lastEventStats.deadLettered,
          trimmed: es.trimmed - lastEventStats.trimmed,
          produced: es.produced - lastEventStats.produced,
          resent: (es.resent ?? 0) - lastEventStats.resent,
          spooled: (es.spooled ?? 0) - lastEventStats.spooled,
        }
      : { deadLettered: 0, trimmed: 0, produced: 0, resent: 0, spooled: 0 }
    if (es)
      lastEventStats = {
        deadLettered: es.deadLettered,
        trimmed: es.trimmed,
        produced: es.produced,
        resent: es.resent ?? 0,
        spooled: es.spooled ?? 0,
      }
    if (
      Object.keys(sessionErrors).length ||
      evDelta.deadLettered ||
      evDelta.trimmed ||
      evDelta.produced ||
      evDelta.resent ||
      evDelta.spooled
    ) {
      // Vigil-only counts (deltas; not amavis wire names) on Vigil's own topic; amavis peers never subscribe to it.
      const stats: VigilStats = { pid }
      if (Object.keys(sessionErrors).length) stats.smtp_protocol_errors = sessionErrors
      if (evDelta.deadLettered) stats.events_dead_lettered = evDelta.deadLettered
      if (evDelta.trimmed) stats.events_trimmed = evDelta.trimmed
      if (evDelta.produced) stats.events_produced = evDelta.produced
      if (evDelta.resent) stats.events_resent = evDelta.resent
      if (evDelta.spooled) stats.events_spooled = evDelta.spooled
      publisher.send(formatVigilStats(stats))
      if (stats.smtp_protocol_errors)
        log.info(`(${base}) Session had SMTP protocol errors.`, { smtp_protocol_errors: sessionErrors })
    }
    publisher.state('-')
    process.title = `amavisd (ch${served}-avail)`
  }

  return {
    serve,
    get served() {
      return served
    },
    async close() {
      if (idleTimer) clearTimeout(idleTimer)
      await forwarder?.close()
      process.title = `amavisd (ch${served}-finish)`
      publisher.state('exiting')
      await events?.close()
      await publisher.close()
    },
  }
}
