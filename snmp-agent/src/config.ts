// The `snmp_agent:` section of vigil.yaml. Keys follow amavisd-snmp-subagent-zmq where it has the
// setting ($agentx_sock_specs → agentx_socket); everything else carries its unit in the name.
import { z } from 'zod'
import { DEFAULT_AGENTX } from '@vigil/protocol'
import { parseAgentxAddress } from './agentx/address.ts'

const agentxSocket = z.string().superRefine((v, ctx) => {
  try {
    parseAgentxAddress(v)
  } catch (err) {
    ctx.addIssue({
      code: 'custom',
      message: `${(err as Error).message}; expected tcp:HOST:PORT, tcp6:HOST:PORT, unix:/path or /path`,
    })
  }
})

export const snmpAgentConfigSchema = z.strictObject({
  /** Run the AgentX subagent under `vigil start`. */
  enabled: z.boolean().default(false),
  /** The master's AgentX socket: tcp6:localhost:705 (amavis's default), tcp:HOST:PORT, unix:/path or /path. */
  agentx_socket: agentxSocket.default(DEFAULT_AGENTX),
  /** Postfix queue_directory for amavisMta; empty = `postconf -h queue_directory`, else /var/spool/postfix. */
  postfix_queue_directory: z.string().default(''),
  /** TTL of the cached `am.snmp?` reply (amavis: 4 s). */
  stats_cache_ttl_secs: z.number().min(0).default(4),
  /** TTL of the cached `am.nanny?` reply (amavis: 4 s). */
  proc_cache_ttl_secs: z.number().min(0).default(4),
  /** Base TTL of each Postfix queue count; grows adaptively with the count's cost (amavis: 18 s). */
  mta_cache_ttl_secs: z.number().min(0).default(18),
  /** Fast poll: queries closer than this extend the TTL (amavis: 1.5 s) … */
  fast_poll_gap_secs: z.number().min(0).default(1.5),
  /** … by this much, until a gap longer than it (amavis: 4 s). */
  fast_poll_extend_secs: z.number().min(0).default(4),
  /** REQ timeout towards the snmp-responder; the socket is recreated after a timeout. */
  responder_timeout_ms: z.number().int().positive().default(2000),
  /** Longest a master request waits for a refresh before it is answered from cache. */
  refresh_wait_ms: z.number().int().min(0).default(300),
  /** Deadline of one Postfix directory count (amavis: 5 s). */
  mta_count_deadline_secs: z.number().positive().default(5),
  /** Retry interval while the master is unreachable. */
  reconnect_interval_secs: z.number().positive().default(1),
  /** Ping the master after this long without traffic; 0 disables. */
  ping_interval_secs: z.number().min(0).default(15),
  /** How long we wait for the master's Response to Open/Register/Ping. */
  agentx_timeout_secs: z.number().positive().default(5),
  /** Registration priority (lower wins; RFC 2741 default 127). */
  registration_priority: z.number().int().min(1).max(255).default(127),
})
export type SnmpAgentConfig = z.infer<typeof snmpAgentConfigSchema>
