// What the pipeline needs from the content analysis modules (mime/, checks/, quarantine/,
// notify/), as one object so tests and tools can assemble it. The real set is built by
// buildAnalyzers() in real-analyzers.ts from the filter config.
import type { Ccat } from '@vigil/protocol'
import type {
  BannedResult,
  BannedRules,
  HeaderResult,
  ParsedMessage,
  SpamScanner,
  VirusScanner,
} from '../checks/check.ts'

export interface QuarantineStore {
  /** Stores the message; the store adds the X-Envelope-From/-To and X-Quarantine-ID headers. */
  store(
    mailId: string,
    raw: Buffer,
    meta: { ccat: Ccat; sender: string; recipients: readonly string[] },
  ): Promise<{ location: string; type: string }>
  read(mailId: string): Promise<Buffer>
}

export interface DsnRequest {
  /** Envelope sender of the original message (the DSN's recipient). */
  sender: string
  recipients: { address: string; orcpt?: string; status: string; diagnostic: string }[]
  originalHeader: Buffer
  subject?: string
  arrivalDate?: Date
  /** Included when RET=FULL was asked for and the message is small. */
  originalMessage?: Buffer
  envid?: string
  ret?: string
  reason: string
  logId: string
  mailId: string
  myhostname: string
  hdrfrom: string
  now: Date
}

export interface AdminNotificationRequest {
  admin: string
  logId: string
  mailId: string
  sender: string
  recipients: string[]
  virusNames: string[]
  clientIp?: string
  subject?: string
  messageId?: string
  scanners?: string[]
  quarantine?: string
  originalHeader?: Buffer
  myhostname: string
  hdrfrom: string
  now: Date
}

export interface Analyzers {
  parse(raw: Buffer): ParsedMessage
  checkHeaders(msg: ParsedMessage, raw: Buffer, opts: { smtputf8?: boolean }): HeaderResult
  checkBanned(msg: ParsedMessage, rules: BannedRules): BannedResult
  /** Parts the scanners could not see (encrypted, over limits, ambiguous): the Unchecked category. Optional for tests. */
  checkUnchecked?(msg: ParsedMessage): { unchecked: boolean; minor: number; reason?: string }
  /** Absent: no clamd configured, the virus check is not performed. */
  virusScanner?: VirusScanner
  /** Absent: no spamd configured, the spam check is not performed. */
  spamScanner?: SpamScanner
  quarantine?: QuarantineStore
  buildDsn?(req: DsnRequest): Buffer
  buildAdminNotification?(req: AdminNotificationRequest): Buffer
}
