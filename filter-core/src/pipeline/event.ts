// The JSON event of a processed message (spec §5), from its context once every stage has run.
import { CC, ccatDisplayName, eventMessage, formatEventTimestamp, isoWeekDate, num3, rot13 } from '@vigil/protocol'
import type { AmavisEvent, RecipientEvent } from '@vigil/protocol'
import {
  addressList,
  attachedFileNames,
  headerValue,
  parseReceivedTrace,
  references,
  userAgent,
} from '../mime/index.ts'
import { cleanIp, type MessageContext } from './context.ts'
import { CHECK_LETTERS } from './stages/stage.ts'

export function buildEvent(x: MessageContext): AmavisEvent {
  const { deps, tx, parsed } = x
  const h = parsed?.headers ?? []
  const contentType = ccatDisplayName(x.msgCcat)
  const actions = [...new Set(x.outcomes.map((o) => o.action))]
  const recipients: RecipientEvent[] = x.outcomes.map((o, i) => {
    const r: RecipientEvent = {
      rcpt_to: o.address,
      rcpt_is_local: o.isLocal,
      action: o.action,
      smtp_response: o.reply,
      smtp_code: o.reply.slice(0, 3),
    }
    const orcpt = tx.rcpts[i].orcpt?.replace(/^rfc822;/i, '')
    if (orcpt && orcpt !== o.address) r.rcpt_to_orig = orcpt
    if (o.queuedAs) r.queued_as = o.queuedAs
    if (o.spamLevel !== undefined) r.spam_score = num3(o.spamLevel)
    if (o.settings.bypassVirusChecks) r.bypass_virus_checks = true
    if (o.settings.bypassBannedChecks) r.bypass_banned_checks = true
    if (o.settings.bypassSpamChecks) r.bypass_spam_checks = true
    if (o.ccatBlocking) r.ccat_blocking = ccatDisplayName(o.ccatBlocking)
    const main = ccatDisplayName(o.ccatMain)
    if (main !== r.ccat_blocking) r.ccat_main = main
    if (o.ccatBlocking?.major === CC.BANNED && x.bannedReason) r.banning_reason = x.bannedReason
    return r
  })
  const checks = CHECK_LETTERS.filter((c) => x.checks.has(c))
  const spamScores = x.outcomes.filter((o) => o.spamLevel !== undefined).map((o) => o.spamLevel!)
  const trace = parseReceivedTrace(h)
  const subject = parsed?.subject
  const el: Record<string, ReturnType<typeof num3>> = {}
  for (const [k, v] of Object.entries(x.elapsed)) el[k] = num3(v / 1000)
  const total = x.elapsed.Total ?? 0
  el.Amavis = num3(Math.max(0, (total - (x.elapsed.SpamCheck ?? 0) - (x.elapsed.VirusCheck ?? 0)) / 1000))
  const codes = [...new Set(recipients.map((r) => r.smtp_code!).filter(Boolean))]
  const queuedAs = [...new Set(x.outcomes.map((o) => o.queuedAs).filter((q): q is string => !!q))]
  const tests = x.spam ? [...x.spam.tests] : []
  const author = addressList(headerValue(h, 'from'))
  const to = addressList(headerValue(h, 'to'))
  const cc = addressList(headerValue(h, 'cc'))
  const senderHdr = addressList(headerValue(h, 'sender'))[0]
  const refs = references(h)
  const ua = userAgent(h)
  const files = parsed ? attachedFileNames(parsed) : []
  return {
    '@timestamp': formatEventTimestamp(tx.receivedAt),
    type: 'amavis',
    host: deps.common.myhostname,
    log_id: x.taskId,
    mail_id: x.mailId,
    src_ip: cleanIp(x.conn.srcIp),
    dst_ip: cleanIp(x.conn.dstIp),
    dst_port: x.conn.dstPort || undefined,
    client_ip: x.clientIp,
    client_port: x.clientPort || undefined,
    queue_id: tx.xforward.IDENT && tx.xforward.IDENT !== '' ? tx.xforward.IDENT : undefined,
    protocol: tx.clientProtocol,
    attached_file_names: files.length ? files : undefined,
    mail_from: x.sender,
    rcpt_to: x.rcptAddrs,
    rcpt_num: x.rcptAddrs.length,
    recipients,
    sender: senderHdr,
    author: author.length ? author : undefined,
    to_addr: to.length ? to : undefined,
    cc_addr: cc.length ? cc : undefined,
    subject,
    subject_rot13: subject !== undefined ? rot13(subject) : undefined,
    message_id: parsed?.messageId,
    references: refs.length ? refs : undefined,
    user_agent: ua,
    policy_banks: x.bankNames.length ? [...x.bankNames] : undefined,
    ip_trace: trace.ipTrace.length ? trace.ipTrace : undefined,
    ip_proto_trace: trace.ipProtoTrace.length ? trace.ipProtoTrace : undefined,
    size: tx.body.size || undefined,
    digest_body: parsed?.bodyDigest,
    content_type: contentType,
    quarantine: x.quarantine?.location,
    quar_type: x.quarantine?.type,
    spam_score: spamScores.length ? num3(Math.max(...spamScores)) : undefined,
    dsn_sent: x.dsnSent,
    originating: x.originating,
    actions_performed: x.actionsPerformed.length ? x.actionsPerformed.join(' ') : undefined,
    checks_performed: checks.length ? checks.join(' ') : undefined,
    virusnames: x.virusNames.length ? x.virusNames : undefined,
    av_scan: x.virus
      ? { [x.virus.scanner.replace(/"/g, "'").replace(/[\\\x00-\x1f\x7f-\x9f]/g, ' ')]: [...x.virus.virusNames] }
      : undefined,
    tests: tests.length ? tests.map((t) => t.name).sort() : undefined,
    tests_spam: tests.some((t) => t.score > 0)
      ? tests
          .filter((t) => t.score > 0)
          .sort((a, b) => b.score - a.score)
          .map((t) => t.name)
      : undefined,
    tests_ham: tests.some((t) => t.score < 0)
      ? tests
          .filter((t) => t.score < 0)
          .sort((a, b) => a.score - b.score)
          .map((t) => t.name)
      : undefined,
    dkim_valid_sig: x.dkim.valid.length ? [...new Set(x.dkim.valid.map((s) => s.domain))] : undefined,
    dkim_new_sig: x.dkim.newSigs.length ? [...new Set(x.dkim.newSigs.map((s) => s.domain))] : undefined,
    dkim_author_sig: x.dkim.authorSig,
    smtp_code: codes.length ? codes : undefined,
    queued_as: queuedAs.length ? queuedAs : undefined,
    action: actions,
    message: eventMessage(x.taskId, actions, contentType, x.sender, x.rcptAddrs),
    time_unix: num3(tx.receivedAt),
    time_iso_week_date: isoWeekDate(tx.receivedAt),
    elapsed: el,
  }
}
