// Config keys shared by every program (the top level of vigil.yaml). Each component adds its own
// section (filter, collector, snmp_agent, status) in its package's src/config.ts; the CLI
// composes them, validates the whole file once and passes the frozen result down.
// Key names follow amavisd.conf where amavis has the setting ($MYHOME, $myhostname,
// @zmq_sockets, @storage_redis_dsn, $redis_logging_key, ...).
import { z } from 'zod'
import { DEFAULT_OUTER, DEFAULT_REDIS_LOGGING_KEY, DEFAULT_RESPONDER } from './endpoints.ts'

/** A ZMQ endpoint: ipc://path, tcp://host:port or tcp://[v6]:port. */
export const zmqEndpoint = z
  .string()
  .regex(
    /^(ipc:\/\/.+|tcp:\/\/(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.*-]+):(\d{1,5}|\*))$/,
    'expected ipc://PATH or tcp://HOST:PORT',
  )

/** `host:port`, `[v6]:port` or an absolute unix socket path, as in amavis's @storage_redis_dsn `server`. */
export const redisDsn = z.strictObject({
  server: z.string().default('127.0.0.1:6379'),
  db_id: z.number().int().min(0).default(0),
  password: z.string().optional(),
  ttl: z.number().int().positive().optional(),
})

export const commonConfigSchema = z.strictObject({
  /** $MYHOME: state, sockets and quarantine live below it. */
  home: z.string().default('/var/lib/vigil'),
  /** $myhostname: the host name in events, sysName and DSNs. */
  myhostname: z.string().min(1).default('localhost'),
  log_level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
  /** Log destination of service logs and the one-line amavis message log. */
  log_to: z.enum(['stdout', 'stderr']).default('stdout'),
  zmq: z
    .strictObject({
      /** @zmq_sockets: endpoints children connect to; default ipc://<home>/amavisd-zmq.sock. */
      inner: z.array(zmqEndpoint).default([]),
      /** msg-forwarder's outer PUB. */
      outer: zmqEndpoint.default(DEFAULT_OUTER),
      /** snmp-responder's REP. */
      snmp: zmqEndpoint.default(DEFAULT_RESPONDER),
      /** Vigil's acknowledged event channel (DEALER → collector ROUTER, ADR 0015); default ipc://<home>/vigil-events.sock. */
      events: zmqEndpoint.optional(),
    })
    .prefault({}),
  /** @storage_redis_dsn: empty means no Redis (events go to the collector's embedded store). */
  storage_redis_dsn: z.array(redisDsn).default([]),
  /** $redis_logging_key: the Redis list receiving one JSON event per message. */
  redis_logging_key: z.string().default(DEFAULT_REDIS_LOGGING_KEY),
  /** $redis_logging_queue_size_limit: LTRIM bound; the oldest events beyond it are dropped (and counted). */
  redis_logging_queue_size_limit: z.number().int().positive().default(100000),
  snmp_contact: z.string().default(''),
  snmp_location: z.string().default(''),
})
export type CommonConfig = z.infer<typeof commonConfigSchema>
