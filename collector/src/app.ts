// The collector: amavis-services msg-forwarder + childproc-minder + snmp-responder in one process,
// plus the events sink and the HTTP side. createCollector wires the siblings; nothing here runs
// until start(). Component contract: { start, stop, describe }.
import { join } from 'node:path'
import {
  formatAbsTime,
  innerSocket,
  eventsSocket,
  activityOf,
  isIdle,
  ErrorCode,
  VigilError,
  unexpectedErrorCounts,
  type CommonConfig,
  type Logger,
} from '@vigil/protocol'
import type { CollectorConfig } from './config.ts'
import { createBusStats, type BusStats } from './bus/stats.ts'
import type { Bus, BusOptions, HostGroup } from './bus/bus.ts'
import { createJsBus } from './bus/js-bus.ts'
import { createNativeBus, reserveProxyThreads, threadpoolSize } from './bus/native-bus.ts'
import { isTcp } from './bus/sockets.ts'
import { createTotals, formatValue, type Totals } from './counters/totals.ts'
import { createResponder } from './counters/responder.ts'
import { createFileTotalsStore, createRedisTotalsStore, type TotalsStore } from './counters/persistence.ts'
import { createProcessTable, type ProcRow, type ProcessTable, type TableChange } from './procs/process-table.ts'
import { createIngest } from './ingest.ts'
import { createEventsReceiver } from './events/receiver.ts'
import { createRingSink } from './sinks/ring.ts'
import { createNdjsonFileSink } from './sinks/ndjson-file.ts'
import { createDeadLetter } from './sinks/dead-letter.ts'
import type { EventSink, StoredEvent } from './sinks/sink.ts'
import { createStageHistograms } from './http/stage-histograms.ts'
import { stageLatencyJson } from './http/stage-latency.ts'
import { formatMetrics } from './http/metrics.ts'
import { buildHttpApp, parseListen } from './http/server.ts'
import type { FastifyInstance } from 'fastify'
import { createPipeline, type Pipeline } from './pipeline/pipeline.ts'
import { registerSearchRoutes } from './http/search-routes.ts'
import { pipelineAccount } from './pipeline/accounting.ts'
import { createHistory } from './history/history.ts'
import { tiersOf } from './history/plan.ts'
import { registerHistoryRoutes } from './http/history-routes.ts'

export interface Collector {
  start(): Promise<void>
  stop(): Promise<void>
  describe(): string[]
}

export interface CollectorDeps {
  log: Logger
  /** Clock in Unix seconds (tests). */
  now?: () => number
  /** Extra sinks (e.g. a search index); each receives every accepted event. */
  sinks?: EventSink[]
}

/** Internals exposed for tests and the benchmark; not part of the component contract. */
export interface CollectorInternals {
  readonly table: ProcessTable
  readonly totals: Totals
  readonly stats: BusStats
  /** Publishes a message as if it arrived from `host`'s inner socket (the minder's path). */
  inject(host: string, parts: string[]): Promise<void>
  /** Runs one minder round now. */
  minderRound(): Promise<void>
  saveTotals(): Promise<void>
  readonly httpAddress: string | undefined
}

export function processRowJson(r: ProcRow, now: number) {
  const busy = !isIdle(r.state, r.taskId)
  return {
    host: r.host,
    pid: r.pid,
    state: r.state === ' ' ? '-' : r.state,
    task_id: r.taskId ?? null,
    busy,
    activity: busy ? activityOf(r.state).toLowerCase() : 'idle',
    elapsed_secs: Math.max(0, Math.round((now - r.baseTs) * 1000) / 1000),
    base_time: formatAbsTime(r.baseTs),
    last_time: formatAbsTime(r.ts),
    last_heard_secs: Math.max(0, Math.round((now - r.tick) * 1000) / 1000),
  }
}

export function createCollector(
  common: CommonConfig,
  cfg: CollectorConfig,
  deps: CollectorDeps,
): Collector & { internals: CollectorInternals } {
  const log = deps.log
  const now = deps.now ?? (() => Date.now() / 1000)
  // A remote host named like this host would be treated as local: its PIDs would be probed and
  // (with kill_overdue) signalled here. Refuse it.
  const clash = cfg.hosts.find((h) => h.name === common.myhostname)
  if (clash)
    throw new VigilError(
      ErrorCode.CONFIG_INVALID,
      `collector.hosts: "${clash.name}" is this host's myhostname; remote hosts need their own names.`,
    )
  const startSecs = now()
  const localHost = common.myhostname
  const stats = createBusStats()
  const table = createProcessTable({ isLocalHost: (h) => h === localHost })
  const totals = createTotals({ localHost, startSecs })
  const histograms = createStageHistograms()

  // --- stream (SSE) fan-out; state changes are coalesced every 250 ms -------------------------
  const streamClients = new Set<(event: string, data: unknown) => void>()
  const pendingStates = new Map<string, unknown>()
  const broadcast = (event: string, data: unknown) => {
    for (const c of streamClients) c(event, data)
  }
  const onChange = (c: TableChange) => {
    if (streamClients.size === 0) return
    if (c.kind === 'update') pendingStates.set(`${c.row.host}\u0000${c.row.pid}`, processRowJson(c.row, now()))
    else if (c.kind === 'remove')
      pendingStates.set(`${c.host}\u0000${c.pid}`, { host: c.host, pid: c.pid, removed: c.reason })
    else {
      // pending rows of that host predate the flush: they must not reach clients after it
      for (const k of pendingStates.keys()) if (k.startsWith(`${c.host}\u0000`)) pendingStates.delete(k)
      broadcast('flush', { host: c.host, removed: c.removed })
    }
  }

  // --- bus -------------------------------------------------------------------------------------
  let malformedLogged = 0
  const ingest = createIngest({
    table,
    totals,
    stats,
    now,
    onChange,
    onMalformed(host, error, frame) {
      // Logged at most 10 times per minute; all are counted in vigil_bus_malformed_frames_total.
      if (malformedLogged++ < 10) log.warn('Malformed frame counted.', { host, error, frame })
    },
  })
  const localEndpoints = common.zmq.inner.length > 0 ? common.zmq.inner : [innerSocket(common.home)]
  const groups: HostGroup[] = []
  const localIpc = localEndpoints.filter((e) => !isTcp(e))
  const localTcp = localEndpoints.filter(isTcp)
  if (localIpc.length) groups.push({ host: localHost, endpoints: localIpc })
  if (localTcp.length) groups.push({ host: localHost, endpoints: localTcp })
  for (const h of cfg.hosts) groups.push({ host: h.name, endpoints: [h.endpoint] })
  const busOptions: BusOptions = {
    groups,
    outer: common.zmq.outer,
    outerHwm: cfg.outer_hwm,
    outerNodrop: cfg.outer_nodrop,
    innerHwm: cfg.inner_hwm,
    curve: cfg.curve,
    stats,
    ingest,
    log: log.child('bus'),
  }
  let bus: Bus
  if (cfg.forwarder === 'js') bus = createJsBus(busOptions)
  else if (reserveProxyThreads()) bus = createNativeBus(busOptions)
  else {
    log.warn(
      'Not enough libuv threadpool threads for the native forwarder; using the js forwarder. Raise UV_THREADPOOL_SIZE.',
      {
        uv_threadpool_size: threadpoolSize(),
      },
    )
    bus = createJsBus(busOptions)
  }
  const inject = (host: string, parts: string[]) => bus.inject(host, parts)

  // --- responder and persistence --------------------------------------------------------------
  const responder = createResponder({ endpoint: common.zmq.snmp, totals, stats, log: log.child('responder') })
  const stores: TotalsStore[] = [createFileTotalsStore(cfg.totals_file || join(common.home, 'collector-totals.json'))]
  const dsn = common.storage_redis_dsn[0]
  if (dsn)
    stores.push(
      createRedisTotalsStore({
        server: dsn.server,
        db: dsn.db_id,
        password: dsn.password,
        key: cfg.redis_totals_key,
        log,
      }),
    )
  // Counter history (graphs): sampled on a timer, stored by its own worker thread.
  const history = cfg.history.enabled
    ? createHistory({
        path: cfg.history.path || join(common.home, 'history.db'),
        tiers: tiersOf(cfg.history),
        totals,
        postfixQueueDirectory: cfg.history.postfix_queue_directory,
        log: log.child('history'),
      })
    : undefined
  let savedGeneration = -1
  let saveChain: Promise<void> = Promise.resolve()
  const saveTotals = (force = false): Promise<void> => {
    saveChain = saveChain.then(async () => {
      if (!force && totals.generation === savedGeneration) return
      const gen = totals.generation
      const snap = totals.snapshot(now())
      let ok = true
      for (const s of stores) {
        try {
          await s.save(snap)
        } catch (err) {
          ok = false
          log.warn('Saving the totals failed; will retry.', { store: s.name, err })
        }
      }
      if (ok) savedGeneration = gen
    })
    return saveChain
  }

  // --- events ---------------------------------------------------------------------------------
  const eventsDir = cfg.events_dir || join(common.home, 'events')
  const ring = createRingSink(cfg.events_ring_size)
  // The ring, the stage histograms and the live stream see every event, whichever way it came:
  // over ZMQ (the receiver) or through Redis (the pipeline's shipper, once stored).
  const observe = (e: StoredEvent) => {
    ring.push(e)
    histograms.observeElapsed(e.event.elapsed)
    if (streamClients.size > 0)
      broadcast('event', {
        log_id: e.event.log_id ?? null,
        action: e.event.action ?? null,
        content_type: e.event.content_type ?? null,
        message: e.event.message ?? null,
        received_at: e.receivedAt,
      })
  }
  const pipeline: Pipeline = createPipeline({
    common,
    cfg,
    log: log.child('pipeline'),
    onIndexed(events) {
      const at = now()
      for (const e of events) {
        try {
          observe({ raw: e.raw, event: e.summary, receivedAt: at })
        } catch (err) {
          log.error('Event observer failed.', { err })
        }
      }
    },
    onStored: (tokens) => events.stored(tokens),
  })
  let pipelineReady: Promise<void> | undefined
  const events = createEventsReceiver({
    endpoint: common.zmq.events ?? eventsSocket(common.home),
    sinks: [createNdjsonFileSink(eventsDir), pipeline.sink, ...(deps.sinks ?? [])],
    deadLetter: createDeadLetter(eventsDir),
    stats,
    log: log.child('events'),
    now,
    onEvent: observe,
  })

  // --- minder ---------------------------------------------------------------------------------
  const probe = (pid: number): boolean => {
    try {
      process.kill(pid, 0)
      return true
    } catch (err) {
      return (err as NodeJS.ErrnoException).code !== 'ESRCH'
    }
  }
  const minderLog = log.child('minder')
  const minderRound = async (): Promise<void> => {
    const t = now()
    const actions = table.supervise(t, {
      idleTtlSecs: cfg.idle_ttl_secs,
      activeTtlSecs: cfg.active_ttl_secs,
      killOverdue: cfg.kill_overdue,
      remoteIdleTtlSecs: cfg.remote_idle_ttl_secs,
      remoteBusyTtlSecs: cfg.remote_busy_ttl_secs,
      probe,
      signal(pid, sig) {
        stats.signalsSent++
        try {
          process.kill(pid, sig)
        } catch (err) {
          minderLog.warn('Signal failed.', { pid, sig, err })
        }
      },
    })
    for (const a of actions) {
      if (a.kind === 'purged') {
        stats.purged++
        if (a.gone) minderLog.error(`PID ${a.pid} went away.`, { host: a.host, detail: a.detail })
        else minderLog.info(`PID ${a.pid} purged.`, { host: a.host, detail: a.detail })
        await inject(a.host, [`am.st ${a.pid} ${formatAbsTime(t)} purged`])
      } else if (a.kind === 'overdue') minderLog.warn(`PID ${a.pid} is overdue.`, { host: a.host, detail: a.detail })
      else minderLog.warn(`PID ${a.pid}: ${a.kind}.`, { host: a.host, detail: a.detail })
    }
    const round = table.roundMessages(t)
    await inject(localHost, round.nanny)
    await inject(localHost, [round.busy])
    await inject(localHost, [round.idle])
    stats.nannyRounds++
  }

  // --- HTTP -----------------------------------------------------------------------------------
  const processCounts = () => {
    const m = new Map<string, number>()
    for (const r of table.rows()) {
      const act = isIdle(r.state, r.taskId) ? 'idle' : activityOf(r.state).toLowerCase()
      const k = `${r.host}\u0000${act}`
      m.set(k, (m.get(k) ?? 0) + 1)
    }
    return [...m].map(([k, count]) => {
      const [host, activity] = k.split('\u0000')
      return { host, activity, count }
    })
  }
  const statusJson = () => {
    const t = now()
    const rows = table.rows().map((r) => processRowJson(r, t))
    const busy = rows.filter((r) => r.busy).length
    return {
      host: localHost,
      time: t,
      summary: { all: rows.length, busy, idle: rows.length - busy },
      processes: rows,
      pipeline: lastAccount ?? null,
    }
  }
  const countersJson = () => {
    const out: Record<string, { type: string; value: string | number | null }> = {}
    for (const [name, v] of totals.aggregate()) {
      const s = formatValue(v.value)
      // numbers for numeric wire types (as JSON numbers), strings for STR/OID, null for undefined
      const numeric = v.type !== 'STR' && v.type !== 'OID' && s !== undefined && s !== '' && Number.isFinite(Number(s))
      out[name] = { type: v.type, value: s === undefined ? null : numeric ? Number(s) : s }
    }
    return { time: now(), hosts: totals.hosts(), counters: out }
  }
  /** The log pipeline's accounting (GET /api/pipeline, /metrics, `vigil pipeline`). */
  let lastAccount: ReturnType<typeof pipelineAccount> | undefined
  const account = async () => {
    await pipelineReady
    lastAccount = pipelineAccount(await pipeline.status(), stats, pipeline.ships)
    return lastAccount
  }
  let http: FastifyInstance | undefined
  let httpAddress: string | undefined
  let timers: NodeJS.Timeout[] = []
  let started = false
  let stopping: Promise<void> | undefined

  const collector: Collector & { internals: CollectorInternals } = {
    internals: {
      table,
      totals,
      stats,
      inject,
      minderRound,
      saveTotals: () => saveTotals(true),
      get httpAddress() {
        return httpAddress
      },
    },
    async start() {
      // Restore totals: the newest snapshot of all stores wins.
      let best: { savedAt: number } | undefined
      for (const s of stores) {
        try {
          const snap = await s.load()
          if (snap && (!best || snap.savedAt > best.savedAt)) {
            if (totals.restore(snap)) best = snap
            else log.warn('Ignoring an invalid totals snapshot.', { store: s.name })
          }
        } catch (err) {
          log.warn('Cannot load saved totals.', { store: s.name, err })
        }
      }
      if (best) log.info('Totals restored.', { saved_at: formatAbsTime(best.savedAt) })
      savedGeneration = totals.generation
      try {
        await history?.start() // its start sample: the restored (or lost) totals, before any traffic
        await bus.start()
        await responder.start()
        await events.start()
        // The search side loads in its worker (SQLite or an engine client, GeoIP data) while the bus
        // already runs; search calls wait for it, ZMQ events queue in the worker meanwhile.
        pipelineReady = pipeline.start()
        pipelineReady.then(
          () => {
            for (const l of pipeline.describe()) log.info(l)
          },
          (err) => log.error('The search pipeline did not start; events are kept in the NDJSON store only.', { err }),
        )
        if (cfg.http_listen) {
          const { host, port } = parseListen(cfg.http_listen)
          http = buildHttpApp({
            status: statusJson,
            counters: countersJson,
            events: (limit) => ring.recent(limit).map((e) => e.raw),
            ringCapacity: cfg.events_ring_size,
            metrics: () =>
              formatMetrics({
                nowSecs: now(),
                processStartSecs: performance.timeOrigin / 1000,
                rssBytes: process.memoryUsage.rss(),
                totals: totals.aggregate(),
                processes: processCounts(),
                stats,
                histograms,
                sseClients: streamClients.size,
                pipeline: lastAccount,
                unexpected: unexpectedErrorCounts(),
              }),
            subscribe(send) {
              streamClients.add(send)
              return () => streamClients.delete(send)
            },
            hello: statusJson,
            pipeline: account,
            stages: () => stageLatencyJson(histograms.entries(), histograms.overflow, now()),
          })
          registerSearchRoutes(http, {
            search: async (req) => {
              await pipelineReady
              return pipeline.search(req)
            },
            aggregate: async (req) => {
              await pipelineReady
              return pipeline.aggregate(req)
            },
            attribution: () => pipeline.attribution(),
          })
          if (history) registerHistoryRoutes(http, history)
          await http.listen({ host, port })
          const a = http.server.address()
          httpAddress =
            a && typeof a === 'object'
              ? a.family === 'IPv6'
                ? `[${a.address}]:${a.port}`
                : `${a.address}:${a.port}`
              : cfg.http_listen
        }
      } catch (err) {
        // every part's stop() is idempotent and closes its sockets whether it started or not
        for (const p of [events, responder, bus]) await p.stop().catch(() => {})
        await pipeline.stop().catch(() => {})
        await history?.stop().catch(() => {})
        if (http) await http.close().catch(() => {})
        throw err
      }
      started = true
      // childproc-minder announces itself with `am.st <pid> <abs> FLUSH` (spec §2.2) after 1 s, its
      // slow-joiner pause. It goes to the outer bus only: our own table is fresh already, and must
      // not forget children heard from during that second.
      const flushTimer = setTimeout(() => {
        void bus.publishOuter([`am.st ${process.pid} ${formatAbsTime(now())} FLUSH`])
      }, 1000)
      timers.push(
        flushTimer,
        setInterval(() => {
          minderRound().catch((err) => minderLog.error('Minder round failed.', { err }))
        }, cfg.nanny_interval_secs * 1000),
        setInterval(() => void saveTotals(), cfg.persist_interval_secs * 1000),
        setInterval(() => void account().catch(() => {}), 5000),
        setInterval(() => {
          malformedLogged = 0
        }, 60_000),
        setInterval(() => {
          if (streamClients.size === 0) {
            pendingStates.clear()
            return
          }
          if (pendingStates.size > 0) {
            broadcast('states', [...pendingStates.values()])
            pendingStates.clear()
          }
        }, 250),
        setInterval(() => {
          if (streamClients.size === 0) return
          const s = statusJson()
          broadcast('summary', {
            time: s.time,
            processes: s.summary,
            counters: Object.fromEntries(
              ['InMsgs', 'InMsgsRecips', 'ContentVirusMsgs', 'ContentSpamMsgs', 'ContentCleanMsgs', 'ProcGone'].map(
                (n) => [n, Number(formatValue(totals.get(n)?.value) ?? 0)],
              ),
            ),
            bus: { ...stats },
          })
        }, cfg.stream_summary_interval_secs * 1000),
      )
      for (const t of timers) t.unref()
      log.info('Collector started.', { listen: this.describe().join('; ') })
    },
    stop() {
      stopping ??= (async () => {
        for (const t of timers) clearTimeout(t)
        timers = []
        if (!started) {
          // close the sockets the constructor created (and release the native bus's threads)
          for (const p of [events, responder, bus]) await p.stop().catch(() => {})
          return
        }
        if (http) await http.close().catch((err) => log.warn('HTTP close failed.', { err }))
        await bus.stop()
        await history?.stop().catch((err) => log.warn('History stop failed.', { err }))
        await events.stop()
        // after the receiver flushed its last batch into it: the worker drains, then closes the store
        await pipeline.stop().catch((err) => log.warn('Pipeline stop failed.', { err }))
        await responder.stop()
        await saveTotals(true)
        for (const s of stores) await s.close().catch(() => {})
        log.info('Collector stopped.')
      })()
      return stopping
    },
    describe() {
      const lines = [
        ...bus.describe(),
        `snmp-responder REP: ${common.zmq.snmp}`,
        `events ROUTER (acknowledged): ${common.zmq.events ?? eventsSocket(common.home)}`,
      ]
      if (history) lines.push(history.describe())
      if (cfg.http_listen) lines.push(`HTTP (API, /api/stream, /metrics): http://${httpAddress ?? cfg.http_listen}`)
      return lines
    },
  }
  return collector
}
