// The real analysis modules (content engineer's mime/, checks/, quarantine/, notify/) assembled
// from the filter config. A checker without an address is left out: that check is not performed.
import type { FilterConfig } from '../config.ts'
import { parseMessage } from '../mime/index.ts'
import { checkHeaders } from '../checks/headers.ts'
import { checkBanned, compileBannedRules } from '../checks/banned.ts'
import { checkUnchecked } from '../checks/unchecked.ts'
import { createClamdScanner } from '../checks/virus-clamd.ts'
import { createSpamdScanner } from '../checks/spam-spamd.ts'
import { createQuarantine } from '../quarantine/index.ts'
import { buildAdminNotification, buildDsn } from '../notify/index.ts'
import type { Analyzers } from './analyzers.ts'
import type { BannedRules } from '../checks/check.ts'

export function buildAnalyzers(cfg: FilterConfig, opts: { quarantineDir: string; myhostname: string }): Analyzers {
  const quarantine = createQuarantine({ dir: opts.quarantineDir })
  // Rules are compiled once per rule set (a policy bank may bring its own).
  const compiledCache = new WeakMap<object, ReturnType<typeof compileBannedRules>>()
  const compiled = (rules: BannedRules['rules']) => {
    let c = compiledCache.get(rules)
    if (!c) compiledCache.set(rules, (c = compileBannedRules({ rules })))
    return c
  }
  compiled(cfg.banned_filename_re) // validates the configured patterns now
  return {
    parse: (raw) => parseMessage(raw),
    checkHeaders: (msg, raw, o) => checkHeaders(msg, raw, { smtputf8: o.smtputf8 }),
    checkBanned: (msg, r) => checkBanned(msg, compiled(r.rules)),
    checkUnchecked,
    virusScanner: cfg.clamd_address
      ? createClamdScanner({ socket: cfg.clamd_address, timeoutMs: cfg.virus_check_timeout_secs * 1000 })
      : undefined,
    spamScanner: cfg.spamd_address
      ? createSpamdScanner({
          socket: cfg.spamd_address,
          timeoutMs: cfg.spam_check_timeout_secs * 1000,
          maxSizeBytes: cfg.sa_mail_body_size_limit,
        })
      : undefined,
    quarantine,
    buildDsn: (r) =>
      buildDsn({
        reportingMta: r.myhostname,
        sender: r.sender,
        recipients: r.recipients.map((x) => ({
          address: x.address,
          orcpt: x.orcpt,
          action: 'failed',
          status: x.status,
          diagnostic: x.diagnostic,
        })),
        originalHeaders: r.originalHeader,
        reason: r.reason,
        mailId: r.mailId,
        logId: r.logId,
        originalSubject: r.subject,
        envid: r.envid,
        arrivalDate: r.arrivalDate,
        date: r.now,
        from: r.hdrfrom || undefined,
      }),
    buildAdminNotification: (r) =>
      buildAdminNotification({
        to: r.admin,
        reportingMta: r.myhostname,
        sender: r.sender,
        recipients: r.recipients.map((address) => ({ address })),
        findings: r.virusNames,
        category: 'INFECTED',
        scanners: r.scanners,
        mailId: r.mailId,
        logId: r.logId,
        clientIp: r.clientIp,
        quarantine: r.quarantine,
        originalHeaders: r.originalHeader,
        originalSubject: r.subject,
        originalMessageId: r.messageId,
        date: r.now,
        from: r.hdrfrom || undefined,
      }),
  }
}
