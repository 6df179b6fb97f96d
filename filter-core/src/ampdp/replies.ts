// AM.PDP response lines, in amavis's words (Amavis/In/AMPDP.pm, Amavis/Out/SMTP.pm). Quoted
// in docs/adr/0010-am-pdp.md; amavisd-release prints every `setreply` value it gets.
import { protoEncode } from './codec.ts'
import type { Reply } from '../forward/client.ts'

/** sysexits EX_TEMPFAIL, amavis's exit_code for a failed request. */
export const EX_TEMPFAIL = 75

/**
 * What amavis answers when a request fails before anything is sent (process_policy_request's
 * eval): `setreply=450 4.5.0 Failure: <why>`, `return_value=tempfail`, `exit_code=75`.
 * (Perl appends " at <file> line <n>." to most of these messages; Vigil has no such location.)
 */
export function failureResponse(why: string): string[] {
  return [
    protoEncode('setreply', '450', '4.5.0', `Failure: ${why}`),
    protoEncode('return_value', 'tempfail'),
    protoEncode('exit_code', String(EX_TEMPFAIL)),
  ]
}

/** dispatch_from_quarantine when the message had no recipients. */
export function noRecipientsResponse(): string[] {
  return [protoEncode('setreply', '250', '2.5.0', 'No recipients, nothing to do')]
}

/** amavis's MTA id of a delivery method: `smtp:[127.0.0.1]:10025`, `lmtp:/path/sock`. */
export function mtaId(method: string): string {
  const m = /^(smtp|lmtp):(?:\[([^\]]+)\]|([A-Za-z0-9.-]+)):(\d+)$/.exec(method)
  if (m) return `${m[1]}:[${m[2] ?? m[3]}]:${m[4]}`
  return method.replace(/^(smtp|lmtp):unix:/, '$1:')
}

/**
 * amavis enhance_smtp_response: `<code> <enhanced> from MTA(<mta id>): <next hop's reply>`, the
 * enhanced code taken from the reply or fabricated from its class and `dfltEnh` (`.6.0` after the
 * data dot, `.1.0` after RCPT).
 */
export function enhanceSmtpResponse(resp: string, mta: string, dfltEnh: string): string {
  let code = '451'
  let more = ' '
  let enh = '4.5.0'
  let text = resp
  if (resp === '') text = 'No resp. to data-dot'
  else if (!/^[245]\d{2}/.test(resp)) text = `Bad resp. to data-dot: ${resp}`
  else {
    const m = /^(\d{3})( |-|$)[ \t]*([245]\.\d{1,3}\.\d{1,3})?/.exec(resp)!
    code = m[1]
    more = m[2]
    enh = m[3] ?? `${code[0]}${dfltEnh}`
  }
  return `${code}${more}${enh} from MTA(${mta}): ${text}`
}

/** One `setreply` line per recipient from the next hop's replies (dispatch_from_quarantine). */
export function dispatchResponse(replies: readonly Reply[], method: string): string[] {
  const mta = mtaId(method)
  return replies.map((r) => {
    const resp = enhanceSmtpResponse(r.text, mta, r.code < 300 ? '.6.0' : '.1.0')
    const m = /^([1-5]\d\d) ([245]\.\d{1,3}\.\d{1,3})(?: |$)(.*)$/s.exec(resp)
    return m
      ? protoEncode('setreply', m[1], m[2], m[3])
      : protoEncode('setreply', '450', '4.5.0', `Unexpected: ${resp}`)
  })
}
