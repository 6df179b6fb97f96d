// `vigil snmp-agent`: the AgentX subagent for AMAVIS-MIB (the role of amavisd-snmp-subagent-zmq).
// Values come from the snmp-responder (REQ `am.snmp?` / `am.nanny?` on common.zmq.snmp, i.e. the
// collector or a real amavis-services) and from counting the Postfix queue directories.
import type { CommonConfig, CounterDef, CounterSource, Logger } from '@vigil/protocol'
import { AMAVIS_ENTERPRISE_OID } from '@vigil/protocol'
import { formatAgentxAddress, parseAgentxAddress } from './agentx/address.ts'
import { parseOid } from './agentx/pdu.ts'
import { createAgentxSession, type SessionStats } from './agentx/session.ts'
import { createCachedSource, type CachedSource, type SourceStats } from './cached-source.ts'
import type { SnmpAgentConfig } from './config.ts'
import { createMibBackend, SUBTREES } from './mib-view.ts'
import { countQueueEntries, detectQueueDirectory, nextQueueTtlMs, QUEUE_DIRS } from './postfix-queue.ts'
import { createResponderClient, type Channel } from './responder-client.ts'
import type { StoredValue } from './values.ts'

export interface SnmpAgent {
  start(): Promise<void>
  stop(): Promise<void>
  describe(): string[]
  /** Resolves once the master has accepted our registrations (again); rejects after `ms`. */
  waitRegistered(ms: number): Promise<void>
  stats(): { session: SessionStats; sources: Record<string, SourceStats>; queueDirectory: string | undefined }
}

const DEFAULT_SPOOL = '/var/spool/postfix'

export function createSnmpAgent(common: CommonConfig, cfg: SnmpAgentConfig, deps: { log: Logger }): SnmpAgent {
  const log = deps.log
  const address = parseAgentxAddress(cfg.agentx_socket)
  const stores: Record<CounterSource, Map<string, StoredValue>> = { snmp: new Map(), nanny: new Map(), mta: new Map() }
  const clients = {
    'am.snmp': createResponderClient({ endpoint: common.zmq.snmp, timeoutMs: cfg.responder_timeout_ms, log }),
    'am.nanny': createResponderClient({ endpoint: common.zmq.snmp, timeoutMs: cfg.responder_timeout_ms, log }),
  } as const
  const fast = { fastPollGapMs: cfg.fast_poll_gap_secs * 1000, fastPollExtendMs: cfg.fast_poll_extend_secs * 1000 }

  const responderSource = (channel: Channel, store: Map<string, StoredValue>, ttlSecs: number): CachedSource =>
    createCachedSource({
      name: channel,
      ttlMs: ttlSecs * 1000,
      ...fast,
      waitMs: cfg.refresh_wait_ms,
      log,
      refresh: async () => {
        const reply = await clients[channel].query(channel)
        // Values absent from a reply keep their cached value (amavis does not reset them).
        for (const [k, v] of reply.values) store.set(k, v)
        if (reply.ignored)
          log.debug('Responder reply had frames of another channel; ignored.', { channel, ignored: reply.ignored })
      },
    })
  const snmpSource = responderSource('am.snmp', stores.snmp, cfg.stats_cache_ttl_secs)
  const nannySource = responderSource('am.nanny', stores.nanny, cfg.proc_cache_ttl_secs)

  let queueDirectory: string | undefined
  let unreadableLogged = false
  const mtaSources = new Map<string, CachedSource>()
  for (const dir of QUEUE_DIRS) {
    const name = `MtaQueueEntries${dir[0].toUpperCase()}${dir.slice(1)}`
    let ttlMs = cfg.mta_cache_ttl_secs * 1000
    let lastQueryAt = Date.now()
    mtaSources.set(
      name,
      createCachedSource({
        name: `postfix/${dir}`,
        ttlMs: () => ttlMs,
        waitMs: cfg.refresh_wait_ms,
        log,
        refresh: async () => {
          const began = Date.now()
          const sinceLastQuery = began - lastQueryAt
          lastQueryAt = began
          const path = `${queueDirectory ?? DEFAULT_SPOOL}/${dir}`
          let n: number
          try {
            n = await countQueueEntries(path, cfg.mta_count_deadline_secs * 1000)
          } catch (err) {
            if ((err as Error).name === 'CountDeadlineError') throw err
            // An unreadable spool is served as 0 (amavis would not register the subtree at all).
            if (!unreadableLogged) {
              unreadableLogged = true
              log.warn('Postfix queue directory unreadable; serving 0 for the MTA queue gauges.', { dir: path, err })
            }
            n = 0
          }
          stores.mta.set(name, { type: 'G32', value: String(n) })
          ttlMs = nextQueueTtlMs(cfg.mta_cache_ttl_secs * 1000, Date.now() - began, sinceLastQuery)
        },
      }),
    )
  }

  const sourceFor = (def: CounterDef): CachedSource | undefined =>
    def.source === 'snmp' ? snmpSource : def.source === 'nanny' ? nannySource : mtaSources.get(def.name)

  const session = createAgentxSession({
    address,
    subtrees: SUBTREES,
    backend: createMibBackend({ stores: { get: (src, name) => stores[src].get(name) }, sourceFor }),
    log,
    id: parseOid(AMAVIS_ENTERPRISE_OID),
    description: 'amavis-agentx (Vigil AMAVIS-MIB subagent)',
    reconnectMs: cfg.reconnect_interval_secs * 1000,
    pingIntervalMs: cfg.ping_interval_secs * 1000,
    timeoutMs: cfg.agentx_timeout_secs * 1000,
    // Stay inside snmpd's default agentXTimeout (1 s) even when a source is slow.
    answerDeadlineMs: Math.max(cfg.refresh_wait_ms + 200, 500),
    priority: cfg.registration_priority,
  })

  let started = false
  return {
    async start() {
      if (started) return
      started = true
      queueDirectory = cfg.postfix_queue_directory || (await detectQueueDirectory()) || DEFAULT_SPOOL
      session.start()
      log.info('SNMP agent started.', {
        master: formatAgentxAddress(address),
        responder: common.zmq.snmp,
        queueDirectory,
      })
    },
    async stop() {
      await session.stop()
      // Closing the REQ sockets ends any query still in flight, so stop() never waits for a timeout.
      clients['am.snmp'].close()
      clients['am.nanny'].close()
      await Promise.all([snmpSource, nannySource, ...mtaSources.values()].map((s) => s.idle().catch(() => undefined)))
    },
    describe() {
      return [
        `AgentX subagent → master ${formatAgentxAddress(address)}, AMAVIS-MIB ${SUBTREES.map((s) => s.join('.')).join(', ')}`,
        `values from snmp-responder ${common.zmq.snmp}; Postfix queue ${queueDirectory ?? (cfg.postfix_queue_directory || '(postconf queue_directory)')}`,
      ]
    },
    waitRegistered: (ms) => session.waitRegistered(ms),
    stats() {
      const sources: Record<string, SourceStats> = {}
      for (const s of [snmpSource, nannySource, ...mtaSources.values()]) sources[s.name] = s.stats()
      return { session: session.stats(), sources, queueDirectory }
    },
  }
}
