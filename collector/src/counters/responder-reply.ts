// The snmp-responder answer (spec §2.7), as pure bytes: one frame per variable of the asked
// channel, `<topic> <name> <type> <value>`, undefined values as `<name> ? ?`. Where amavis would
// stay silent (and wedge its REP socket), Vigil answers one `am.error …` frame instead.
import { isNannyName } from '@vigil/protocol'
import { RESPONDER_REQUESTS, formatResponderError } from '@vigil/protocol/responder.ts'
import { formatValue, type Variable } from './totals.ts'

export interface ReplyResult {
  frames: string[]
  /** True when the request was not exactly one frame `am.snmp?` or `am.nanny?`. */
  malformed: boolean
}

export function answerRequest(parts: readonly Uint8Array[], vars: ReadonlyMap<string, Variable>): ReplyResult {
  const req = parts.length === 1 ? Buffer.from(parts[0]).toString('latin1') : undefined
  const topic = req === RESPONDER_REQUESTS.snmp ? 'am.snmp' : req === RESPONDER_REQUESTS.nanny ? 'am.nanny' : undefined
  if (!topic) {
    const shown = parts.length === 1 ? `${parts[0].length}-bytes` : `${parts.length}-parts`
    return { frames: [formatResponderError('unknown-request', shown)], malformed: true }
  }
  const wantNanny = topic === 'am.nanny'
  const frames: string[] = []
  for (const [name, v] of vars) {
    if (isNannyName(name) !== wantNanny) continue
    const value = formatValue(v.value)
    frames.push(value === undefined || v.type === '?' ? `${topic} ${name} ? ?` : `${topic} ${name} ${v.type} ${value}`)
  }
  if (frames.length === 0) frames.push(formatResponderError('no-data', topic))
  return { frames, malformed: false }
}
