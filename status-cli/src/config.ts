// The `status` section of vigil.yaml (amavis-status). Every key is defaulted, so an empty
// section is valid. Command-line options (-c, -w, --connect, --plain) override these.
import { z } from 'zod'
import { zmqEndpoint } from '@vigil/protocol'

export const statusConfigSchema = z.strictObject({
  /** Bus to subscribe to (`am.st `, `am.proc.`); empty = the common `zmq.outer` endpoint. */
  connect: z.union([zmqEndpoint, z.literal('')]).default(''),
  /** amavisd-status `-w`: seconds between redraws (fractional allowed). */
  wait_secs: z.number().positive().default(1),
  /** amavisd-status `-c`: number of redraws, then exit; absent = run forever. */
  count: z.number().int().optional(),
  /** `auto`: full screen when stdout is a terminal, plain text otherwise. */
  mode: z.enum(['auto', 'plain', 'tui']).default('auto'),
  /** snmp-responder to query for the full screen's message rate and stage times; empty = `zmq.snmp`. */
  responder: z.union([zmqEndpoint, z.literal('')]).default(''),
  /** Collector HTTP base URL (e.g. http://127.0.0.1:23234): the full screen then shows hosts. */
  api: z.union([z.url({ protocol: /^https?$/ }), z.literal('')]).default(''),
  /** Seconds between `am.snmp?` queries in the full screen. */
  counters_interval_secs: z.number().positive().default(3),
  /** Warn on stderr when no message arrived within this many seconds of connecting. */
  no_messages_warn_secs: z.number().positive().default(3),
})
export type StatusConfig = z.infer<typeof statusConfigSchema>
