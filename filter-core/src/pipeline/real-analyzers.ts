// The real analysis modules (content engineer's mime/, checks/, quarantine/, notify/) assembled
// from the filter config. A checker without an address is left out: that check is not performed.
import type { FilterConfig } from '../config.ts'
import { parseMessage } from '../mime/index.ts'
import { checkHeaders } from '../checks/headers.ts'
import { checkBanned, compileBannedRules } from '../checks/banned.ts'
import { createClamdScanner } from '../checks/virus-clamd.ts'
import { createSpamdScanner } from '../checks/spam-spamd.ts'
import type { Analyzers } from './analyzers.ts'

export function buildAnalyzers(cfg: FilterConfig, opts: { quarantineDir: string; myhostname: string }): Analyzers {
  void opts
  const compiled = compileBannedRules({ rules: cfg.banned_filename_re })
  return {
    parse: (raw) => parseMessage(raw),
    checkHeaders: (msg, raw, o) => checkHeaders(msg, raw, { smtputf8: o.smtputf8 }),
    checkBanned: (msg) => checkBanned(msg, compiled),
    virusScanner: cfg.clamd_address ? createClamdScanner({ socket: cfg.clamd_address, timeoutMs: cfg.virus_check_timeout_secs * 1000 }) : undefined,
    spamScanner: cfg.spamd_address
      ? createSpamdScanner({ socket: cfg.spamd_address, timeoutMs: cfg.spam_check_timeout_secs * 1000, maxSizeBytes: cfg.sa_mail_body_size_limit })
      : undefined,
  }
}
