// Sends a message amavis originates (a DSN or an admin notification) through notify_method,
// with its Out* counters and, when it was accepted, its own JSON event.
import {
  encodeAmavisJson,
  eventMessage,
  formatEventTimestamp,
  isoWeekDate,
  num3,
  type AmavisEvent,
} from '@vigil/protocol'
import type { Reply } from '../forward/client.ts'
import type { MessageContext } from './context.ts'

/** Returns the next hop's reply; a refused submission is counted (OutMsgsAttemptFails/Rejects), not thrown. */
export async function submit(
  ctx: MessageContext,
  kind: 'Dsn' | 'Notif',
  from: string,
  to: string[],
  msg: Buffer,
  notificationType: 'DSN' | 'NOTIF',
): Promise<Reply> {
  const { deps, counters, taskId, mailId } = ctx
  const client = deps.notifier()
  client.onEvent = (e) => counters.count(e)
  const proto = client.method.protocol === 'lmtp' ? 'LMTP' : 'SMTP'
  counters.count('OutMsgs')
  counters.count('OutMsgsSubmit')
  counters.count(`OutMsgsProto${proto}`)
  counters.count(`OutMsgsProto${proto}Submit`)
  counters.count(`OutMsgsSubmit${kind}`)
  const replies = await client.send({
    mailFrom: from,
    size: msg.length,
    rcpts: to.map((address) => ({ address })),
    content: () => [msg],
  })
  const r = replies[0]
  if (r.code < 300) {
    counters.count('OutMsgsDelivers')
    counters.count('OutMsgsSize', msg.length, 'C64')
    counters.count('OutMsgsSizeSubmit', msg.length, 'C64')
    counters.count(`OutMsgsSizeProto${proto}`, msg.length, 'C64')
    counters.count(`OutMsgsSizeProto${proto}Submit`, msg.length, 'C64')
    counters.count(`OutMsgsSizeSubmit${kind}`, msg.length, 'C64')
    if (deps.events) {
      const t = ctx.now()
      const ev: AmavisEvent = {
        '@timestamp': formatEventTimestamp(t),
        type: 'amavis',
        host: deps.common.myhostname,
        log_id: taskId,
        mail_id: mailId,
        mail_from: from,
        rcpt_to: to,
        rcpt_num: to.length,
        recipients: to.map((a) => ({
          rcpt_to: a,
          rcpt_is_local: deps.settings.isLocal(a),
          action: notificationType,
          smtp_code: String(r.code),
          smtp_response: r.text,
        })),
        size: msg.length,
        content_type: 'Clean',
        originating: true,
        action: [notificationType],
        message: eventMessage(taskId, [notificationType], 'Clean', from, to),
        time_unix: num3(t),
        time_iso_week_date: isoWeekDate(t),
        notification_type: notificationType,
        smtp_code: [String(r.code)],
      }
      deps.events.deliver(encodeAmavisJson(ev))
    }
  } else if (r.code < 500) counters.count('OutMsgsAttemptFails')
  else counters.count('OutMsgsRejects')
  return r
}
