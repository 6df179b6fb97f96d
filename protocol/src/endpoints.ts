// Shared default endpoints (spec §1.2). Every program takes its defaults from here so that the
// filter, collector, status viewer and SNMP agent agree without anyone editing files.
import { join } from 'node:path'

export const DEFAULT_OUTER = 'tcp://127.0.0.1:23232'
export const DEFAULT_RESPONDER = 'tcp://127.0.0.1:23233'
export const DEFAULT_AGENTX = 'tcp6:localhost:705'
export const DEFAULT_SMTP_LISTEN = '127.0.0.1:10024'
export const DEFAULT_FORWARD_METHOD = 'smtp:[127.0.0.1]:10025'
export const DEFAULT_NOTIFY_METHOD = 'smtp:[127.0.0.1]:10025'
/** Vigil's HTTP side (API, SSE, /metrics), served by the collector. */
export const DEFAULT_HTTP_LISTEN = '127.0.0.1:23234'
/** The dashboard's web app. */
export const DEFAULT_DASHBOARD_LISTEN = '127.0.0.1:23235'
export const DEFAULT_REDIS_LOGGING_KEY = 'amavis-log'

/** The inner socket amavisd children connect to: `ipc://<home>/amavisd-zmq.sock`. */
export function innerSocket(home: string): string {
  return `ipc://${join(home, 'amavisd-zmq.sock')}`
}
/**
 * Vigil-only channel carrying one JSON event per message from filter workers (DEALERs) to the
 * collector (ROUTER) when no Redis is configured; each event is acknowledged once stored and kept
 * and resent by the filter until then (docs/adr/0015-acknowledged-events.md). amavis peers never see it.
 */
export function eventsSocket(home: string): string {
  return `ipc://${join(home, 'vigil-events.sock')}`
}

/** Topic prefixes, exact bytes including the trailing space where amavis has one (spec §1.2). */
export const TOPIC = {
  state: 'am.st',
  snmp: 'am.snmp',
  nanny: 'am.nanny',
  procBusy: 'am.proc.busy',
  procIdle: 'am.proc.idle',
} as const
export const SUBSCRIBE = {
  state: 'am.st ',
  snmp: 'am.snmp ',
  nanny: 'am.nanny ',
  proc: 'am.proc.',
} as const

/** Vigil's own topic for the per-message JSON event on the bus (never subscribed by amavis tools). */
export const VIGIL_EVENT_TOPIC = 'vigil.event'

/** amavis 2.13 product strings. */
export const AMAVIS_VERSION = 'amavis-2.13.0 (20230106)'
