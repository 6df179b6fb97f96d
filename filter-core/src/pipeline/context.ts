// The one message context every pipeline stage reads and writes (ADR 0008). createContext fills
// in what is known when the message arrives (envelope, client, policy banks, per-recipient
// settings); each stage then adds its findings. A future stage (DKIM, pen pals, IP reputation,
// custom hooks) adds its own fields here, next to the stage that writes them, and reads the ones
// before it: the context is the only channel between stages.
import { CC, type AmavisEvent, type Ccat, type CommonConfig, type Logger, type RecipientEvent } from '@vigil/protocol'
import type { ParsedMessage, SpamResult, VirusResult } from '../checks/check.ts'
import type { FilterConfig, Listener } from '../config.ts'
import { emptyDkimState, type DkimState } from '../dkim/state.ts'
import type { SmtpClient } from '../forward/client.ts'
import type { Transaction } from '../smtp/session.ts'
import { normalizeAddress } from '../smtp/address.ts'
import { SnmpCounters } from '../telemetry/counters.ts'
import type { BusPublisher } from '../telemetry/publisher.ts'
import type { EventSink } from '../telemetry/events.ts'
import type { LogCounter } from '../telemetry/log-counter.ts'
import type { DynamicAnswers } from '../lookup/dynamic.ts'
import type { Analyzers } from './analyzers.ts'
import type { MessageSettings, Settings, SettingsLookup } from './settings.ts'
import type { CheckLetter, ElapsedSection, Stage } from './stages/stage.ts'

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
  /** The stages to run, in order; default: STAGES (stages/index.ts). */
  stages?: readonly Stage[]
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

/** A failed step of the pipeline: the message is tempfailed with this text (451 4.5.0 …). */
export class CheckFailure extends Error {
  readonly check: string
  constructor(check: string, cause: unknown) {
    super(`${check} FAILED: ${(cause as Error)?.message ?? String(cause)}`)
    this.check = check
  }
}

export interface MessageContext {
  readonly deps: PipelineDeps
  readonly tx: Transaction
  readonly conn: ConnInfo
  /** deps.log wrapped so this message's entries are counted (LogLines/LogEntries*). */
  readonly log: Logger
  readonly logCounter: LogCounter
  readonly now: () => number
  readonly taskId: string
  readonly counters: SnmpCounters
  /** amavis's `elapsed` sections in ms, filled by the driver from each stage's `elapsed` key. */
  readonly elapsed: Partial<Record<ElapsedSection | 'Total', number>>
  /** Checks performed, filled by the driver from each stage's `check` letter. */
  readonly checks: Set<CheckLetter>
  readonly size: number
  readonly sender: string
  readonly rcptAddrs: string[]
  readonly clientIp?: string
  readonly clientPort?: number

  /** The stage list this message runs through (the report stage derives TimeElapsed* from it). */
  readonly stages: readonly Stage[]

  // Policy: the banks loaded (in load order), the lookup with them loaded, what follows from it.
  // Resolved on arrival; a stage that loads a bank later (a custom hook, the DKIM author's bank)
  // calls loadPolicyBanks, and the stages after it see the new settings.
  bankNames: string[]
  settings: SettingsLookup
  msgSettings: MessageSettings
  rcptSettings: Settings[]
  rcptLocal: boolean[]
  originating: boolean
  /** The message's directions (Originating, Inbound/Internal, OpenRelay/Outbound) for counters. */
  dirs: string[]
  /** Which checks any recipient wants (a check every recipient bypasses is not run). */
  need: { virus: boolean; spam: boolean; banned: boolean; header: boolean; fullParse: boolean }

  mailId: string
  /** Set by the first step that fails; from then on checks are skipped and every recipient tempfails. */
  failure?: CheckFailure

  // Decoding (D).
  raw?: Buffer
  parsed?: ParsedMessage
  unchecked?: { minor: number; reason?: string }
  badHeader?: { minor: number; reason?: string }
  // Virus (V), banned names (B), spam (S).
  virus?: VirusResult
  virusUnchecked: boolean
  virusNames: string[]
  bannedReason?: string
  spam?: SpamResult
  // DKIM: verification (after decoding) and signing (before forwarding); filter-core/src/dkim/.
  dkim: DkimState

  // Results (r) and delivery (Q, F).
  outcomes: RecipientOutcome[]
  msgCcat: Ccat
  quarantine?: { location: string; type: string }
  quarantined: boolean
  dsnSent: boolean
  actionsPerformed: string[]
  /** Replies to the client: one per recipient in LMTP, one for all in SMTP. */
  replies: string[]
  // Report: the JSON event and the main log line.
  event?: AmavisEvent
  logLine: string
}

type Policy = Pick<
  MessageContext,
  'bankNames' | 'settings' | 'msgSettings' | 'rcptSettings' | 'rcptLocal' | 'originating' | 'dirs' | 'need'
>

/** What a lookup with these banks loaded says of this message and each of its recipients. */
function resolvePolicy(
  bankNames: string[],
  settings: SettingsLookup,
  analyzers: Analyzers,
  rcptAddrs: string[],
  clientIp?: string,
): Policy {
  const originating = settings.isOriginating(clientIp)
  const rcptSettings = rcptAddrs.map((a) => settings.settingsFor(a))
  const msgSettings = settings.forMessage()
  const rcptLocal = rcptAddrs.map((a) => settings.isLocal(a))
  const cntLocal = rcptLocal.filter(Boolean).length
  const dirs: string[] = []
  if (originating) dirs.push('Originating')
  if (cntLocal) dirs.push(originating ? 'Internal' : 'Inbound')
  if (rcptAddrs.length - cntLocal) dirs.push(originating ? 'Outbound' : 'OpenRelay')
  const all = (f: (s: Settings) => boolean) => rcptSettings.every(f)
  const virus = !!analyzers.virusScanner && !all((s) => s.bypassVirusChecks)
  const spam = !!analyzers.spamScanner && !all((s) => s.bypassSpamChecks)
  const banned = !all((s) => s.bypassBannedChecks)
  const header = !all((s) => s.bypassHeaderChecks)
  const need = { virus, spam, banned, header, fullParse: virus || banned || header || spam }
  return { bankNames, settings, msgSettings, rcptSettings, rcptLocal, originating, dirs, need }
}

/**
 * Loads policy banks on top of the loaded ones (unknown names are ignored, as settings.withBanks
 * does) and re-resolves the message's and each recipient's settings for the stages after the
 * caller. What earlier stages did stands: counters sent are not recounted, checks run not undone.
 */
export function loadPolicyBanks(ctx: MessageContext, names: readonly string[]): void {
  const settings = ctx.settings.withBanks(names)
  const added = settings.banks.slice(ctx.settings.banks.length)
  const { analyzers } = ctx.deps
  Object.assign(ctx, resolvePolicy([...ctx.bankNames, ...added], settings, analyzers, ctx.rcptAddrs, ctx.clientIp))
}

/** Re-resolves every recipient's settings with the message's SQL/LDAP answers first (lookups stage). */
export function applyDynamicLookups(ctx: MessageContext, answers: DynamicAnswers): void {
  const settings = ctx.settings.withDynamic(answers)
  Object.assign(ctx, resolvePolicy(ctx.bankNames, settings, ctx.deps.analyzers, ctx.rcptAddrs, ctx.clientIp))
}

export function cleanIp(ip: string | undefined): string | undefined {
  if (!ip) return undefined
  let s = ip.replace(/^IPv6:/i, '').replace(/^\[|\]$/g, '')
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(s)
  if (mapped) s = mapped[1]
  return s
}

/** Whole milliseconds from a to b (seconds), never negative. */
export function ms(a: number, b: number): number {
  return Math.max(0, Math.floor((b - a) * 1000 + 0.5))
}

/** The context of a message as it arrives, with its policy banks and per-recipient settings resolved. */
export function createContext(
  tx: Transaction,
  conn: ConnInfo,
  deps: PipelineDeps,
  log: Logger,
  logCounter: LogCounter,
  stages: readonly Stage[],
): MessageContext {
  const rcptAddrs = tx.rcpts.map((r) => normalizeAddress(r.address))
  const clientIp = cleanIp(tx.xforward.ADDR)
  // Policy banks: the listener's, then MYNETS for clients in @mynetworks (amavis load order).
  const bankNames = deps.settings.banksFor(conn.listener.policy_bank, clientIp)
  const settings = bankNames.length ? deps.settings.withBanks(bankNames) : deps.settings
  const policy = resolvePolicy(bankNames, settings, deps.analyzers, rcptAddrs, clientIp)
  return {
    deps,
    tx,
    conn,
    log,
    logCounter,
    now: deps.now ?? (() => Date.now() / 1000),
    taskId: tx.taskId,
    counters: new SnmpCounters(),
    elapsed: {},
    checks: new Set(),
    size: tx.body.size,
    sender: normalizeAddress(tx.mailFrom),
    rcptAddrs,
    clientIp,
    clientPort: tx.xforward.PORT && /^\d+$/.test(tx.xforward.PORT) ? Number(tx.xforward.PORT) : undefined,
    stages,
    bankNames: policy.bankNames,
    settings: policy.settings,
    msgSettings: policy.msgSettings,
    rcptSettings: policy.rcptSettings,
    rcptLocal: policy.rcptLocal,
    originating: policy.originating,
    dirs: policy.dirs,
    need: policy.need,
    mailId: '',
    failure: undefined,
    raw: undefined,
    parsed: undefined,
    unchecked: undefined,
    badHeader: undefined,
    virus: undefined,
    virusUnchecked: false,
    virusNames: [],
    bannedReason: undefined,
    spam: undefined,
    dkim: emptyDkimState(),
    outcomes: [],
    msgCcat: { major: CC.CLEAN, minor: 0 },
    quarantine: undefined,
    quarantined: false,
    dsnSent: false,
    actionsPerformed: [],
    replies: [],
    event: undefined,
    logLine: '',
  }
}
