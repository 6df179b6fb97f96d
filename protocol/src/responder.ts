// snmp-responder REQ/REP protocol (spec §2.7), shared by the collector (REP) and the SNMP agent (REQ).
// amavis answers `am.snmp?` / `am.nanny?` with one frame per variable and never answers anything
// else, which wedges its REP socket. Vigil always answers: when there is nothing to report, the
// reply is ONE frame on the channel `am.error` (`am.error <reason> <detail…>`). The Perl
// amavisd-snmp-subagent-zmq stops reading, without error, at a frame whose channel is not the one it
// asked for, so it keeps its cached values; Vigil's agent does the same.
export const RESPONDER_REQUESTS = { snmp: 'am.snmp?', nanny: 'am.nanny?' } as const
export const RESPONDER_ERROR_TOPIC = 'am.error'
/** `no-data`: a valid request with no variable of that channel yet (e.g. `am.nanny?` before the first am.nanny).
 *  `unknown-request`: anything other than exactly one frame `am.snmp?` or `am.nanny?`. */
export type ResponderErrorReason = 'no-data' | 'unknown-request'

export function formatResponderError(reason: ResponderErrorReason, detail = ''): string {
  return detail ? `${RESPONDER_ERROR_TOPIC} ${reason} ${detail}` : `${RESPONDER_ERROR_TOPIC} ${reason}`
}
