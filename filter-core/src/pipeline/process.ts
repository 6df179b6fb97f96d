// check_mail: one received message through the content checks to per-recipient verdicts,
// quarantine/notifications, forwarding, DSNs, the `am.snmp` counter message, the JSON event and
// the main log line, with the process states an amavisd child publishes (spec §2.2):
//   = G D V S r Q F .
// Any internal failure tempfails the message (451 4.5.0): mail is never answered 250 unless the
// next hop accepted it (or it was deliberately discarded/bounced by policy).
import { randomFillSync } from 'node:crypto'
import {
  CC,
  DESTINY,
  ErrorCode,
  VigilError,
  ccatDisplayName,
  ccatLogText,
  ccatMajorName,
  compareCcat,
  encodeAmavisJson,
  eventMessage,
  formatEventTimestamp,
  isoWeekDate,
  num3,
  rot13,
  type AmavisEvent,
  type Ccat,
  type CommonConfig,
  type Logger,
  type RecipientEvent,
} from '@vigil/protocol'
import type { ParsedMessage, SpamResult, VirusResult } from '../checks/check.ts'
import type { FilterConfig, Listener } from '../config.ts'
import { SmtpClient, type Reply } from '../forward/client.ts'
import type { Transaction } from '../smtp/session.ts'
import { normalizeAddress } from '../smtp/address.ts'
import { SnmpCounters } from '../telemetry/counters.ts'
import type { BusPublisher } from '../telemetry/publisher.ts'
import type { EventSink } from '../telemetry/events.ts'
import type { Analyzers } from './analyzers.ts'
import type { Settings, SettingsLookup } from './settings.ts'
import {
  attachedFileNames,
  addressList,
  headerValue,
  parseReceivedTrace,
  references,
  userAgent,
} from '../mime/index.ts'
import { buildHeaderEdits, rewriteHeader, type HeaderEdits } from './headers.ts'
import { createLogCounter, type LogCounter } from '../telemetry/log-counter.ts'

export interface ConnInfo {
  srcIp?: string
  srcPort?: number
  dstIp?: string
  dstPort?: number
  listener: Listener
}

export interface PipelineDeps {
  cfg: FilterConfig
  common: CommonConfig
  log: Logger
  analyzers: Analyzers
  settings: SettingsLookup
  publisher: BusPublisher
  events?: EventSink
  /** The session's forwarding client (reused across its transactions). */
  forwarder(): SmtpClient
  notifier(): SmtpClient
  /** Offline evaluation: no forwarding, quarantine or notifications (vigil filter --test-message). */
  dryRun?: boolean
  now?: () => number
  /**
   * Counts the log entries written for LogLines/LogEntries*. A worker passes one shared by all its
   * logging, so entries between messages count with the next message; without one, only what
   * this message's processing logs is counted.
   */
  logCounter?: LogCounter
}

export type Status =
  | 'RelayedTagged'
  | 'RelayedUntagged'
  | 'Discarded'
  | 'Bounced'
  | 'NoBounce'
  | 'Rejected'
  | 'TempFailed'
  | 'Accepted'
  | 'Unknown'

export interface RecipientOutcome {
  address: string
  isLocal: boolean
  settings: Settings
  ccatMain: Ccat
  ccatBlocking?: Ccat
  destiny: number
  spamLevel?: number
  tagged: boolean
  reply: string
  status: Status
  action: RecipientEvent['action']
  queuedAs?: string
}

export interface MessageOutcome {
  replies: string[]
  recipients: RecipientOutcome[]
  event: AmavisEvent
  counters: SnmpCounters
  mailId: string
  logLine: string
}

const DESTINY_NAME: Record<number, string> = {
  1: 'PASS',
  0: 'DISCARD',
  [-2]: 'BOUNCE',
  [-3]: 'REJECT',
  [-4]: 'TEMPFAIL',
}

// Random bytes are drawn 512 ids at a time: one getrandom call per id cost ~15 µs a message.
const ID_POOL = Buffer.alloc(9 * 512)
let idPoolUsed = ID_POOL.length

export function generateMailId(): string {
  if (idPoolUsed === ID_POOL.length) {
    randomFillSync(ID_POOL)
    idPoolUsed = 0
  }
  const id = ID_POOL.toString('base64url', idPoolUsed, idPoolUsed + 9)
  idPoolUsed += 9
  return id
}

class CheckFailure extends Error {
  readonly check: string
  constructor(check: string, cause: unknown) {
    super(`${check} FAILED: ${(cause as Error)?.message ?? String(cause)}`)
    this.check = check
  }
}

async function withTimeout<T>(name: string, secs: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController()
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new VigilError(ErrorCode.CHECK_TIMEOUT, `${name} timed out after ${secs} s`))
      ac.abort()
    }, secs * 1000)
  })
  try {
    return await Promise.race([fn(ac.signal), timeout])
  } finally {
    clearTimeout(timer)
  }
}

function ms(a: number, b: number): number {
  return Math.max(0, Math.floor((b - a) * 1000 + 0.5))
}

function cleanIp(ip: string | undefined): string | undefined {
  if (!ip) return undefined
  let s = ip.replace(/^IPv6:/i, '').replace(/^\[|\]$/g, '')
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(s)
  if (mapped) s = mapped[1]
  return s
}

function trimScore(n: number): string {
  return String(Number(n.toFixed(3)))
}

export async function processMessage(tx: Transaction, conn: ConnInfo, deps: PipelineDeps): Promise<MessageOutcome> {
  const { cfg, common, analyzers, publisher } = deps
  if (!deps.logCounter) {
    const c = createLogCounter(deps.log)
    deps = { ...deps, log: c.log, logCounter: c }
  }
  const logCounter = deps.logCounter!
  const log = deps.log
  const now = deps.now ?? (() => Date.now() / 1000)
  const taskId = tx.taskId
  const counters = new SnmpCounters()
  const elapsed: Record<string, number> = {}
  const t0 = tx.receivedAt
  elapsed.Receiving = ms(tx.startedAt, tx.receivedAt)
  const size = tx.body.size
  const sender = normalizeAddress(tx.mailFrom)
  const rcptAddrs = tx.rcpts.map((r) => normalizeAddress(r.address))
  const clientIp = cleanIp(tx.xforward.ADDR)
  const clientPort = tx.xforward.PORT && /^\d+$/.test(tx.xforward.PORT) ? Number(tx.xforward.PORT) : undefined
  // Policy banks: the listener's, then MYNETS for clients in @mynetworks (amavis load order).
  const bankNames = deps.settings.banksFor(conn.listener.policy_bank, clientIp)
  const settings = bankNames.length ? deps.settings.withBanks(bankNames) : deps.settings
  const originating = settings.isOriginating(clientIp)
  const rcptSettings = rcptAddrs.map((a) => settings.settingsFor(a))
  const msgSettings = settings.forMessage()
  const rcptLocal = rcptAddrs.map((a) => settings.isLocal(a))
  const cntLocal = rcptLocal.filter(Boolean).length
  const cntRemote = rcptAddrs.length - cntLocal
  const dirLocal = originating ? 'Internal' : 'Inbound'
  const dirRemote = originating ? 'Outbound' : 'OpenRelay'
  const dirs: string[] = []
  if (originating) dirs.push('Originating')
  if (cntLocal) dirs.push(dirLocal)
  if (cntRemote) dirs.push(dirRemote)

  publisher.state('=', taskId)
  // Incoming message counters (amavis counts these first).
  counters.count('InMsgs')
  if (sender === '') counters.count('InMsgsBounceNullRPath')
  counters.count('InMsgsRecips', rcptAddrs.length)
  counters.count('InMsgsSize', size, 'C64')
  if (originating) {
    counters.count('InMsgsOriginating')
    counters.count('InMsgsRecipsOriginating', rcptAddrs.length)
    counters.count('InMsgsSizeOriginating', size, 'C64')
  }
  if (cntLocal) {
    counters.count(`InMsgs${dirLocal}`)
    counters.count(`InMsgsRecips${dirLocal}`, cntLocal)
    counters.count('InMsgsRecipsLocal', cntLocal)
    counters.count(`InMsgsSize${dirLocal}`, size, 'C64')
  }
  if (cntRemote) {
    counters.count(`InMsgs${dirRemote}`)
    counters.count(`InMsgsRecips${dirRemote}`, cntRemote)
    counters.count(`InMsgsSize${dirRemote}`, size, 'C64')
  }

  publisher.state('G', taskId)
  const mailId = generateMailId()

  const all = (f: (s: Settings) => boolean) => rcptSettings.every(f)
  const needVirus = !!analyzers.virusScanner && !all((s) => s.bypassVirusChecks)
  const needSpam = !!analyzers.spamScanner && !all((s) => s.bypassSpamChecks)
  const needBanned = !all((s) => s.bypassBannedChecks)
  const needHeader = !all((s) => s.bypassHeaderChecks)
  const needFullParse = needVirus || needBanned || needHeader || needSpam

  let failure: CheckFailure | undefined
  let parsed: ParsedMessage | undefined
  let raw: Buffer | undefined
  const checks: string[] = []
  let virus: VirusResult | undefined
  let virusUnchecked = false
  let unchecked: { minor: number; reason?: string } | undefined
  let spam: SpamResult | undefined
  let bannedReason: string | undefined
  let badHeader: { minor: number; reason?: string } | undefined

  // D: decoding.
  let tSec = now()
  publisher.state('D', taskId)
  try {
    raw = needFullParse ? await tx.body.readAll() : tx.body.header()
    parsed = analyzers.parse(raw)
    if (needFullParse) {
      counters.count('OpsDecByMimeParser')
      counters.count('OpsDec')
      const types = new Set<string>()
      for (const leaf of parsed.leaves) if (leaf.detectedType) types.add(leaf.detectedType)
      for (const t of types) counters.count(`OpsDecType-${t}`)
      // Encrypted or over-limit parts the virus scanner cannot see make the mail Unchecked (7,minor).
      const u = needVirus ? analyzers.checkUnchecked?.(parsed) : undefined
      if (u?.unchecked) unchecked = { minor: u.minor, reason: u.reason }
    }
    if (needHeader) {
      const h = analyzers.checkHeaders(parsed, raw, { smtputf8: !!tx.mailParams.SMTPUTF8 })
      checks.push('H')
      if (h.bad) badHeader = { minor: h.minor, reason: h.reason }
    }
  } catch (e) {
    failure = new CheckFailure('decoding', e)
  }
  elapsed.Decoding = ms(tSec, now())

  // V: virus scan.
  if (!failure && needVirus && parsed) {
    tSec = now()
    publisher.state('V', taskId)
    try {
      virus = await withTimeout('virus_scan', msgSettings.virusCheckTimeoutSecs, (signal) =>
        analyzers.virusScanner!.scan(parsed!, signal),
      )
      counters.count('OpsVirusCheck')
      checks.push('V')
    } catch (e) {
      log.warn(`(${taskId}) Virus scan failed.`, { err: e as Error })
      if (msgSettings.virusOnFailure === 'tempfail') failure = new CheckFailure('virus_scan', e)
      else virusUnchecked = true
    }
    elapsed.VirusCheck = ms(tSec, now())
  }

  // Banned names and types.
  if (!failure && needBanned && parsed) {
    try {
      const b = analyzers.checkBanned(parsed, { rules: msgSettings.bannedRules })
      checks.push('B')
      if (b.banned) bannedReason = b.reason ?? 'banned'
    } catch (e) {
      failure = new CheckFailure('banned_check', e)
    }
  }

  // S: spam scan (skipped for infected mail, as amavis does: it is blocked anyway).
  if (!failure && needSpam && raw && !virus?.infected) {
    tSec = now()
    publisher.state('S', taskId)
    try {
      spam = await withTimeout('spam_scan', msgSettings.spamCheckTimeoutSecs, (signal) =>
        analyzers.spamScanner!.check(raw!, { signal }),
      )
      counters.count('OpsSpamCheck')
      checks.push('S')
    } catch (e) {
      log.warn(`(${taskId}) Spam scan failed.`, { err: e as Error })
      if (msgSettings.spamOnFailure === 'tempfail') failure = new CheckFailure('spam_scan', e)
    }
    elapsed.SpamCheck = ms(tSec, now())
  }

  // r: per-recipient categories and destinies.
  publisher.state('r', taskId)
  const virusNames = virus?.infected ? [...new Set(virus.virusNames)] : []
  const score = spam?.score
  const outcomes: RecipientOutcome[] = rcptAddrs.map((address, i) => {
    const s = rcptSettings[i]
    const cats: { ccat: Ccat; destiny: number }[] = []
    if (failure) cats.push({ ccat: { major: CC.UNCHECKED, minor: 0 }, destiny: DESTINY.D_TEMPFAIL })
    if (virusNames.length && !s.bypassVirusChecks)
      cats.push({ ccat: { major: CC.VIRUS, minor: 0 }, destiny: s.virusDestiny })
    if (bannedReason && !s.bypassBannedChecks)
      cats.push({ ccat: { major: CC.BANNED, minor: 0 }, destiny: s.bannedDestiny })
    if (virusUnchecked && !s.bypassVirusChecks)
      cats.push({ ccat: { major: CC.UNCHECKED, minor: 0 }, destiny: s.uncheckedDestiny })
    if (unchecked && !s.bypassVirusChecks)
      cats.push({ ccat: { major: CC.UNCHECKED, minor: unchecked.minor }, destiny: s.uncheckedDestiny })
    if (score !== undefined && !s.bypassSpamChecks) {
      if (score >= s.killLevel) cats.push({ ccat: { major: CC.SPAM, minor: 0 }, destiny: s.spamDestiny })
      else if (score >= s.tag2Level) cats.push({ ccat: { major: CC.SPAMMY, minor: 0 }, destiny: DESTINY.D_PASS })
    }
    if (badHeader && !s.bypassHeaderChecks)
      cats.push({ ccat: { major: CC.BADH, minor: badHeader.minor }, destiny: s.badHeaderDestiny })
    const tagged = score !== undefined && !s.bypassSpamChecks && score >= s.tagLevel
    cats.push({ ccat: { major: CC.CLEAN, minor: tagged ? 1 : 0 }, destiny: DESTINY.D_PASS })
    cats.sort((a, b) => compareCcat(b.ccat, a.ccat))
    const blocking = cats.find((c) => c.destiny !== DESTINY.D_PASS)
    let destiny = blocking ? blocking.destiny : DESTINY.D_PASS
    if (cfg.mode === 'pre_queue' && destiny === DESTINY.D_BOUNCE) destiny = DESTINY.D_REJECT
    return {
      address,
      isLocal: rcptLocal[i],
      settings: s,
      ccatMain: cats[0].ccat,
      ccatBlocking: blocking?.ccat,
      destiny,
      spamLevel: score,
      tagged,
      reply: '',
      status: 'Unknown' as Status,
      action: '?' as RecipientEvent['action'],
    }
  })

  // The message's category: the most severe blocking one, else the most severe main one.
  const msgCcat = (() => {
    const blocked = outcomes.filter((o) => o.ccatBlocking).map((o) => o.ccatBlocking!)
    const pool = blocked.length ? blocked : outcomes.map((o) => o.ccatMain)
    return pool.sort((a, b) => compareCcat(b, a))[0] ?? { major: CC.CLEAN, minor: 0 }
  })()
  // No-OID extras amavis sends (the responder stores them, agents ignore them).
  for (const v of virusNames) counters.count(`virus.byname.${v.replace(/[^0-9A-Za-z:./_+-]/g, '-')}`)
  const majorName = ccatMajorName(msgCcat)
  counters.count(`Content${majorName}Msgs`)
  for (const d of dirs) counters.count(`Content${majorName}Msgs${d}`)

  const blockReason = (o: RecipientOutcome): string => {
    const c = o.ccatBlocking ?? o.ccatMain
    if (c.major === CC.VIRUS) return `INFECTED: ${virusNames.join(', ')}`
    if (c.major === CC.BANNED) return `BANNED: ${bannedReason}`
    if (c.major === CC.SPAM) return 'SPAM'
    if (c.major === CC.BADH) return `BAD HEADER: ${badHeader?.reason ?? ''}`.trim()
    if (c.major === CC.UNCHECKED) return 'UNCHECKED'
    return ccatDisplayName(c).toUpperCase()
  }

  // Q: quarantine and admin notifications.
  tSec = now()
  let quarantine: { location: string; type: string } | undefined
  let quarantined = false
  let sendingMs = 0
  if (!failure && !deps.dryRun) {
    const quarTo = (o: RecipientOutcome): string => {
      const c = o.ccatBlocking
      if (!c) return ''
      if (c.major === CC.VIRUS) return o.settings.virusQuarantineTo
      if (c.major === CC.BANNED) return o.settings.bannedQuarantineTo
      if (c.major === CC.SPAM) return o.settings.spamQuarantineTo
      if (c.major === CC.BADH) return o.settings.badHeaderQuarantineTo
      return ''
    }
    const wantQuar = outcomes.some((o) => quarTo(o) !== '')
    const wantNotif =
      virusNames.length > 0 && outcomes.some((o) => o.ccatBlocking?.major === CC.VIRUS && o.settings.virusAdmin)
    if (wantQuar || wantNotif) publisher.state('Q', taskId)
    if (wantQuar && analyzers.quarantine) {
      counters.count('QuarMsgs')
      counters.count('QuarMsgsSize', size, 'C64')
      try {
        const full = raw && raw.length === size ? raw : await tx.body.readAll()
        const first = outcomes.find((o) => quarTo(o) !== '')!
        quarantine = await analyzers.quarantine.store(mailId, full, {
          ccat: first.ccatBlocking ?? msgCcat,
          sender: tx.mailFrom,
          recipients: tx.rcpts.map((r) => r.address),
        })
        quarantined = true
        counters.count('OutMsgs')
        counters.count('OutMsgsSubmit')
        counters.count('OutMsgsProtoLocal')
        counters.count('OutMsgsProtoLocalSubmit')
        counters.count('OutMsgsSubmitQuar')
        counters.count('OutMsgsDelivers')
        for (const n of [
          'OutMsgsSize',
          'OutMsgsSizeSubmit',
          'OutMsgsSizeProtoLocal',
          'OutMsgsSizeProtoLocalSubmit',
          'OutMsgsSizeSubmitQuar',
        ])
          counters.count(n, size, 'C64')
        counters.count(`QuarMsgs${majorName}`)
        counters.count(`QuarMsgsSize${majorName}`, size, 'C64')
      } catch (e) {
        log.error(`(${taskId}) Quarantine failed; message tempfailed.`, { err: e as Error })
        counters.count('QuarAttemptTempFails')
        failure = new CheckFailure('quarantine', e)
      }
    }
    if (!failure && wantNotif && analyzers.buildAdminNotification) {
      const admins = [
        ...new Set(
          outcomes
            .filter((o) => o.ccatBlocking?.major === CC.VIRUS && o.settings.virusAdmin)
            .map((o) => o.settings.virusAdmin),
        ),
      ]
      for (const admin of admins) {
        const msg = analyzers.buildAdminNotification({
          admin,
          logId: taskId,
          mailId,
          sender: tx.mailFrom,
          recipients: tx.rcpts.map((r) => r.address),
          virusNames,
          clientIp,
          subject: parsed?.subject,
          messageId: parsed?.messageId,
          scanners: virus ? [virus.scanner] : undefined,
          quarantine: quarantine?.location,
          originalHeader: tx.body.header(),
          myhostname: common.myhostname,
          hdrfrom: cfg.hdrfrom_notify_sender,
          now: new Date(now() * 1000),
        })
        await submit(
          deps,
          counters,
          'Notif',
          cfg.mailfrom_notify_admin || `postmaster@${common.myhostname}`,
          [admin],
          msg,
          taskId,
          mailId,
          'NOTIF',
        )
      }
    }
  }
  sendingMs += ms(tSec, now())

  if (failure) {
    for (const o of outcomes) {
      o.ccatBlocking = o.ccatBlocking ?? { major: CC.UNCHECKED, minor: 0 }
      o.destiny = DESTINY.D_TEMPFAIL
    }
  }

  // F: forward the recipients whose destiny is pass, grouped by identical header edits.
  const toPass = outcomes.filter((o) => o.destiny === DESTINY.D_PASS)
  tSec = now()
  if (toPass.length) {
    publisher.state('F', taskId)
    const groups = new Map<string, { edits: HeaderEdits; idx: number[] }>()
    for (const o of toPass) {
      const i = outcomes.indexOf(o)
      const edits = buildHeaderEdits({
        cfg,
        common,
        settings: o.settings,
        taskId,
        tx,
        conn,
        virusChecked: checks.includes('V') && !o.settings.bypassVirusChecks,
        virusNames: o.settings.bypassVirusChecks ? [] : virusNames,
        spam: o.settings.bypassSpamChecks ? undefined : spam,
        bannedReason: o.settings.bypassBannedChecks ? undefined : bannedReason,
        badHeader: o.settings.bypassHeaderChecks ? undefined : badHeader,
        recipient: o.address,
        singleRecipient: toPass.length === 1,
        now: now(),
      })
      const key = edits.key
      const g = groups.get(key) ?? { edits, idx: [] }
      g.idx.push(i)
      groups.set(key, g)
    }
    for (const g of groups.values()) {
      const header = rewriteHeader(tx.body.header(), g.edits)
      const bodyStart = tx.body.headerEnd
      const outSize = header.length + (size - bodyStart)
      let replies: Reply[]
      if (deps.dryRun) {
        replies = g.idx.map(() => ({ code: 250, text: '250 2.0.0 Ok (not forwarded: test mode)' }))
      } else {
        const client = deps.forwarder()
        client.onEvent = (e) => counters.count(e)
        counters.count('OutMsgs')
        counters.count('OutMsgsRelay')
        const proto = client.method.protocol === 'lmtp' ? 'LMTP' : 'SMTP'
        counters.count(`OutMsgsProto${proto}`)
        counters.count(`OutMsgsProto${proto}Relay`)
        replies = await client.send({
          mailFrom: tx.mailFrom,
          size: outSize,
          body8bit: /^8BITMIME$/i.test(String(tx.mailParams.BODY ?? '')),
          smtputf8: !!tx.mailParams.SMTPUTF8,
          ret: tx.mailParams.RET ? String(tx.mailParams.RET).toUpperCase() : undefined,
          envid: typeof tx.mailParams.ENVID === 'string' ? tx.mailParams.ENVID : undefined,
          rcpts: g.idx.map((i) => tx.rcpts[i]),
          xforward: tx.xforward,
          content: () => [header, tx.body.stream(bodyStart)],
        })
        const codes = replies.map((r) => Math.floor(r.code / 100))
        if (codes.some((c) => c === 2)) {
          counters.count('OutMsgsDelivers')
          counters.count('OutMsgsSize', outSize, 'C64')
          counters.count('OutMsgsSizeRelay', outSize, 'C64')
          counters.count(`OutMsgsSizeProto${proto}`, outSize, 'C64')
          counters.count(`OutMsgsSizeProto${proto}Relay`, outSize, 'C64')
        } else if (codes.some((c) => c === 4)) counters.count('OutMsgsAttemptFails')
        else counters.count('OutMsgsRejects')
      }
      g.idx.forEach((i, k) => {
        const o = outcomes[i]
        const r = replies[k]
        const q = /queued as ([A-Za-z0-9]+)\s*$/.exec(r.text)
        if (q) o.queuedAs = q[1]
        o.reply =
          cfg.mode === 'pre_queue' || deps.dryRun
            ? r.text
            : `${r.code} ${enhanced(r)} from MTA(${deps.forwarder().method.raw}): ${r.text}`
        if (r.code < 300) o.status = o.tagged ? 'RelayedTagged' : 'RelayedUntagged'
        else if (r.code < 500) o.status = 'TempFailed'
        else o.status = 'Rejected'
      })
    }
  }
  sendingMs += ms(tSec, now())

  // Blocked recipients: discard, bounce (DSN), reject, tempfail.
  tSec = now()
  const bounceList: RecipientOutcome[] = []
  for (const o of outcomes) {
    if (o.destiny === DESTINY.D_PASS) continue
    const why = blockReason(o)
    if (o.destiny === DESTINY.D_TEMPFAIL) {
      o.reply = `451 4.5.0 Error in processing, id=${taskId}, ${failure?.message ?? why}`
      o.status = 'TempFailed'
    } else if (o.destiny === DESTINY.D_REJECT) {
      o.reply = `554 5.7.0 Reject, id=${taskId} - ${why}`
      o.status = 'Rejected'
    } else if (o.destiny === DESTINY.D_DISCARD) {
      o.reply = `250 2.7.0 Ok, discarded, id=${taskId} - ${why}`
      o.status = 'Discarded'
    } else if (o.destiny === DESTINY.D_BOUNCE) {
      bounceList.push(o)
    }
  }
  let dsnSent = false
  // What every DSN about this message says of it (bounces by policy and next-hop rejections alike).
  const dsnMessageFields = () => ({
    originalHeader: tx.body.header(),
    subject: parsed?.subject,
    arrivalDate: new Date(tx.receivedAt * 1000),
    envid: typeof tx.mailParams.ENVID === 'string' ? tx.mailParams.ENVID : undefined,
    logId: taskId,
    mailId,
    myhostname: common.myhostname,
    hdrfrom: cfg.hdrfrom_notify_sender,
    now: new Date(now() * 1000),
  })
  if (bounceList.length) {
    // amavis never bounces to a null sender, nor for viruses (senders are faked), nor above the cutoff.
    const suppress = (o: RecipientOutcome) =>
      tx.mailFrom === '' ||
      o.ccatBlocking?.major === CC.VIRUS ||
      (o.spamLevel !== undefined && o.ccatBlocking?.major === CC.SPAM && o.spamLevel >= o.settings.dsnCutoffLevel)
    const toBounce = bounceList.filter((o) => !suppress(o))
    if (toBounce.length && !deps.dryRun && analyzers.buildDsn) {
      const ret = String(tx.mailParams.RET ?? '').toUpperCase()
      const dsn = analyzers.buildDsn({
        sender: tx.mailFrom,
        recipients: toBounce.map((o) => ({
          address: o.address,
          orcpt: tx.rcpts[outcomes.indexOf(o)].orcpt,
          status: '5.7.0',
          diagnostic: `554 5.7.0 Reject, id=${taskId} - ${blockReason(o)}`,
        })),
        ...dsnMessageFields(),
        originalMessage:
          ret === 'FULL' && size < 256 * 1024
            ? raw && raw.length === size
              ? raw
              : await tx.body.readAll()
            : undefined,
        ret: ret || undefined,
        reason: blockReason(toBounce[0]),
      })
      const r = await submit(deps, counters, 'Dsn', '', [tx.mailFrom], dsn, taskId, mailId, 'DSN')
      dsnSent = r.code < 300
      if (!dsnSent) {
        // Could not bounce: do not lose the failure report; have the MTA retry.
        for (const o of toBounce) {
          o.destiny = DESTINY.D_TEMPFAIL
          o.reply = `451 4.5.0 Error in processing, id=${taskId}, DSN could not be sent: ${r.text}`
          o.status = 'TempFailed'
        }
      }
    }
    for (const o of bounceList) {
      if (o.status === 'TempFailed') continue
      if (!suppress(o) && deps.dryRun) {
        o.reply = `250 2.5.0 Ok, id=${taskId}, BOUNCE (test mode: DSN not sent)`
        o.status = 'Bounced'
      } else if (!suppress(o) && dsnSent) {
        o.reply = `250 2.5.0 Ok, id=${taskId}, BOUNCE`
        o.status = 'Bounced'
      } else if (!suppress(o) && !analyzers.buildDsn && !deps.dryRun) {
        // No DSN builder available: reject instead, so that the sending MTA bounces.
        o.reply = `554 5.7.0 Reject, id=${taskId} - ${blockReason(o)}`
        o.status = 'Rejected'
      } else {
        o.reply = `250 2.7.1 Ok, id=${taskId}, BOUNCE (DSN suppressed)`
        o.status = 'NoBounce'
      }
    }
  }
  // SMTP (unlike LMTP) has one reply for all recipients. When some were accepted and others
  // rejected (by policy or by the next hop), the message is accepted and the rejected ones are
  // reported to the sender in a DSN, as amavis does; if that DSN cannot be sent, the whole
  // message is tempfailed rather than dropped for those recipients.
  if (tx.clientProtocol !== 'LMTP' && !deps.dryRun) {
    const rejected = outcomes.filter((o) => o.reply.startsWith('5'))
    const accepted = outcomes.some((o) => o.reply.startsWith('2'))
    if (accepted && rejected.length && !outcomes.some((o) => o.reply.startsWith('4'))) {
      if (tx.mailFrom !== '' && analyzers.buildDsn) {
        const dsn = analyzers.buildDsn({
          sender: tx.mailFrom,
          recipients: rejected.map((o) => ({
            address: o.address,
            orcpt: tx.rcpts[outcomes.indexOf(o)].orcpt,
            status: /^\d{3} (\d\.\d{1,3}\.\d{1,3})/.exec(o.reply)?.[1] ?? '5.0.0',
            diagnostic: o.reply,
          })),
          ...dsnMessageFields(),
          reason: rejected[0].reply,
        })
        const r = await submit(deps, counters, 'Dsn', '', [tx.mailFrom], dsn, taskId, mailId, 'DSN')
        if (r.code < 300) {
          dsnSent = true
          for (const o of rejected) {
            o.destiny = DESTINY.D_BOUNCE
            o.status = 'Bounced'
          }
        } else {
          for (const o of outcomes) {
            o.reply = `451 4.5.0 Error in processing, id=${taskId}, DSN for rejected recipients could not be sent: ${r.text}`
            o.status = 'TempFailed'
          }
        }
      } else {
        // Null sender (or no DSN builder): no DSN is possible; the rejection is only logged (NoBounce).
        for (const o of rejected) o.status = o.status === 'Rejected' ? 'NoBounce' : o.status
      }
    }
  }
  sendingMs += ms(tSec, now())
  if (!deps.dryRun) elapsed.Sending = sendingMs

  // Per-recipient actions (spec §5.4).
  for (const o of outcomes) {
    const code = Number(o.reply.slice(0, 3))
    if (code >= 400 && code < 500) o.action = 'TEMPFAIL'
    else if (o.destiny === DESTINY.D_BOUNCE && code >= 500) o.action = 'BOUNCE'
    else if (o.destiny !== DESTINY.D_BOUNCE && code >= 500) o.action = 'REJECT'
    else if (o.destiny === DESTINY.D_DISCARD) o.action = 'DISCARD'
    else if (o.destiny === DESTINY.D_PASS && code < 300) o.action = 'PASS'
    else if (o.destiny === DESTINY.D_BOUNCE && code < 300) o.action = 'BOUNCE'
    else o.action = '?'
  }

  // InMsgsStatus keys: distinct, sorted.
  const statusKeys = new Set<string>()
  for (const o of outcomes) {
    const which = o.status
    const dir = o.isLocal ? (originating ? 'Internal' : 'Inbound') : originating ? 'Outbound' : 'OpenRelay'
    statusKeys.add(which)
    statusKeys.add(`${which}${dir}`)
    if (originating) statusKeys.add(`${which}Originating`)
    if (which === 'RelayedTagged' || which === 'RelayedUntagged') statusKeys.add('Relayed')
  }
  const sortedKeys = [...statusKeys].sort()
  for (const k of sortedKeys) counters.count(`InMsgsStatus${k}`)
  const actionsPerformed = sortedKeys
    .filter((k) => /(Inbound|Internal|Outbound|OpenRelay)$/.test(k))
    .map((k) => k.replace(/^RelayedUntagged/, 'Relayed'))
  if (quarantined) actionsPerformed.push('Quarantined')

  // Replies to the client: LMTP per recipient; SMTP one reply for all.
  const replies = tx.clientProtocol === 'LMTP' ? outcomes.map((o) => o.reply) : [combineReplies(outcomes, taskId)]

  // Event, log line, counters.
  const tEnd = now()
  elapsed.Total = ms(t0 - elapsed.Receiving / 1000, tEnd)
  const event = buildEvent({
    deps,
    tx,
    conn,
    parsed,
    taskId,
    mailId,
    sender,
    rcptAddrs,
    outcomes,
    msgCcat,
    clientIp,
    clientPort,
    originating,
    checks,
    virus,
    virusNames,
    spam,
    bannedReason,
    quarantine,
    dsnSent,
    actionsPerformed,
    elapsed,
    receivedAt: tx.receivedAt,
    banks: bankNames,
  })
  const logLine = formatLogLine({
    taskId,
    outcomes,
    msgCcat,
    virusNames,
    bannedReason,
    actionsPerformed,
    conn,
    clientIp,
    clientPort,
    event,
    mailId,
    tx,
    totalMs: elapsed.Total,
    banks: bankNames,
  })
  log.info(logLine)
  countLogEntries(counters, logCounter.drain())
  for (const k of ['Receiving', 'Decoding', 'VirusCheck', 'SpamCheck', 'Sending'])
    if (elapsed[k] !== undefined) counters.count(`TimeElapsed${k}`, elapsed[k])
  counters.count('TimeElapsedTotal', elapsed.Total)
  if (counters.size) publisher.send(counters.frames())
  if (deps.events && !deps.dryRun) deps.events.deliver(encodeAmavisJson(event))
  publisher.state('.', taskId)
  return { replies, recipients: outcomes, event, counters, mailId, logLine }
}

function enhanced(r: Reply): string {
  const m = /^\d{3}[ -](\d\.\d{1,3}\.\d{1,3})\b/.exec(r.text)
  if (m) return m[1]
  return r.code < 300 ? '2.0.0' : r.code < 500 ? '4.0.0' : '5.0.0'
}

/** One SMTP reply for a multi-recipient message: any tempfail wins, then pass, then reject. */
function combineReplies(outcomes: RecipientOutcome[], taskId: string): string {
  const tf = outcomes.find((o) => o.reply.startsWith('4'))
  if (tf) return tf.reply
  const ok = outcomes.find((o) => o.reply.startsWith('2'))
  if (ok && outcomes.every((o) => o.reply.startsWith('2'))) return ok.reply
  if (ok) {
    // Mixed: some delivered, some rejected (reported to the sender in a DSN, see above).
    return `250 2.0.0 Ok, id=${taskId}, ${outcomes.filter((o) => !o.reply.startsWith('2')).length} of ${outcomes.length} recipient(s) rejected`
  }
  return outcomes[0]?.reply ?? `451 4.5.0 Error in processing, id=${taskId}`
}

async function submit(
  deps: PipelineDeps,
  counters: SnmpCounters,
  kind: 'Dsn' | 'Notif',
  from: string,
  to: string[],
  msg: Buffer,
  taskId: string,
  mailId: string,
  notificationType: 'DSN' | 'NOTIF',
): Promise<Reply> {
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
      const t = (deps.now ?? (() => Date.now() / 1000))()
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

function countLogEntries(c: SnmpCounters, levels: number[]) {
  const n = levels.length
  c.count('LogLines', n, 'C64')
  const cum = (max: number) => levels.filter((l) => l <= max).length
  const pairs: [string, number][] = [
    ['LogEntriesCrit', cum(-3)],
    ['LogEntriesErr', cum(-2)],
    ['LogEntriesWarning', cum(-1)],
    ['LogEntriesNotice', cum(0)],
    ['LogEntriesInfo', cum(1)],
    ['LogEntriesDebug', n],
  ]
  for (const [k, v] of pairs) if (v > 0) c.count(k, v, 'C64')
  for (let lv = 0; lv <= 5; lv++) {
    const v = levels.filter((l) => Math.min(5, Math.max(0, l)) === lv).length
    if (v > 0) c.count(`LogEntriesLevel${lv}`, v, 'C64')
  }
  c.count('LogEntries', n, 'C64')
}

interface EventInput {
  deps: PipelineDeps
  tx: Transaction
  conn: ConnInfo
  parsed?: ParsedMessage
  taskId: string
  mailId: string
  sender: string
  rcptAddrs: string[]
  outcomes: RecipientOutcome[]
  msgCcat: Ccat
  clientIp?: string
  clientPort?: number
  originating: boolean
  checks: string[]
  virus?: VirusResult
  virusNames: string[]
  spam?: SpamResult
  bannedReason?: string
  quarantine?: { location: string; type: string }
  dsnSent: boolean
  actionsPerformed: string[]
  elapsed: Record<string, number>
  receivedAt: number
  banks: readonly string[]
}

function buildEvent(x: EventInput): AmavisEvent {
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
  const ord = ['V', 'S', 'H', 'B', 'F', 'P', 'D']
  const checks = ord.filter((c) => x.checks.includes(c))
  const spamScores = x.outcomes.filter((o) => o.spamLevel !== undefined).map((o) => o.spamLevel!)
  const trace = parseReceivedTrace(h)
  const subject = parsed?.subject
  const el: Record<string, ReturnType<typeof num3>> = {}
  for (const [k, v] of Object.entries(x.elapsed)) el[k] = num3(v / 1000)
  el.Amavis = num3(Math.max(0, (x.elapsed.Total - (x.elapsed.SpamCheck ?? 0) - (x.elapsed.VirusCheck ?? 0)) / 1000))
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
  const ev: AmavisEvent = {
    '@timestamp': formatEventTimestamp(x.receivedAt),
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
    policy_banks: x.banks.length ? [...x.banks] : undefined,
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
    smtp_code: codes.length ? codes : undefined,
    queued_as: queuedAs.length ? queuedAs : undefined,
    action: actions,
    message: eventMessage(x.taskId, actions, contentType, x.sender, x.rcptAddrs),
    time_unix: num3(x.receivedAt),
    time_iso_week_date: isoWeekDate(x.receivedAt),
    elapsed: el,
  }
  return ev
}

function formatLogLine(x: {
  taskId: string
  outcomes: RecipientOutcome[]
  msgCcat: Ccat
  virusNames: string[]
  bannedReason?: string
  actionsPerformed: string[]
  conn: ConnInfo
  clientIp?: string
  clientPort?: number
  event: AmavisEvent
  mailId: string
  tx: Transaction
  totalMs: number
  banks: readonly string[]
}): string {
  const blocked = x.outcomes.some((o) => o.ccatBlocking)
  const detail =
    x.msgCcat.major === CC.VIRUS ? x.virusNames.join(',') : x.msgCcat.major === CC.BANNED ? (x.bannedReason ?? '') : ''
  let s = `(${x.taskId}) ${blocked ? 'Blocked' : 'Passed'} ${ccatLogText(x.msgCcat, detail)} {${x.actionsPerformed.join(',')}},`
  if (x.banks.length) s += ` ${x.banks.join('/')}`
  if (x.event.originating) s += ' LOCAL'
  if (x.clientIp) s += ` [${x.clientIp}]${x.clientPort ? ':' + x.clientPort : ''}`
  if (x.event.ip_trace?.length) s += ` [${x.event.ip_trace[x.event.ip_trace.length - 1]}]`
  s += ` <${x.tx.mailFrom}> -> ${x.tx.rcpts.map((r) => `<${r.address}>`).join(',')}`
  if (x.event.quarantine) s += `, quarantine: ${x.event.quarantine}`
  if (x.event.queue_id) s += `, Queue-ID: ${x.event.queue_id}`
  if (x.event.message_id) s += `, Message-ID: ${x.event.message_id}`
  s += `, mail_id: ${x.mailId}`
  const scores = x.outcomes.filter((o) => o.spamLevel !== undefined).map((o) => o.spamLevel!)
  if (!scores.length) s += ', Hits: -'
  else {
    const lo = Math.min(...scores)
    const hi = Math.max(...scores)
    s += `, Hits: ${hi - lo >= 0.1 ? `${trimScore(lo)}..${trimScore(hi)}` : trimScore(hi)}`
  }
  s += `, size: ${x.tx.body.size}`
  if (x.event.queued_as?.length) s += `, queued_as: ${x.event.queued_as.join('/')}`
  s += `, ${x.totalMs} ms`
  return s
}

export { DESTINY_NAME }
