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
