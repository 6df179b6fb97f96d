// SpamAssassin through spamd's SPAMC/1.5 protocol. One REPORT request per message gives the
// verdict line (`Spam: True ; 1000.0 / 5.0`) and SpamAssassin's report, whose
// "Content analysis details" table lists every hit rule with its points. spamd prints scores
// with one decimal, so that is the precision of `score` and of each test's score.
import { ErrorCode, VigilError } from '@vigil/protocol'
import type { SpamResult, SpamScanner, SpamTest } from './check.ts'
import { describeTarget, exchange, parseSocketTarget, writeAll, type SocketTarget } from './socket-target.ts'

export interface SpamdScannerOptions {
  readonly host?: string
  readonly port?: number
  /** Alternative to host/port: `tcp:host:port`, `unix:/path`, `host:port` or an absolute socket path. */
  readonly socket?: string
  readonly timeoutMs?: number
  /**
   * Messages larger than this are truncated before scoring, at a line boundary, keeping the whole
   * header (amavis passes SpamAssassin at most $sa_mail_body_size_limit). Default 500 KiB.
   */
  readonly maxSizeBytes?: number
  /** Default `User:` sent to spamd (per-user preferences); overridden by check()'s opts.user. */
  readonly user?: string
}

export const SPAMD_SCANNER_NAME = 'SpamAssassin'

export interface SpamdResult extends SpamResult {
  /** True when spamd saw only the first maxSizeBytes of the message. */
  readonly truncated: boolean
  readonly isSpam: boolean
}

/**
 * Parses a complete spamd REPORT (or CHECK/SYMBOLS) response. Throws VigilError(CHECK_FAILED)
 * for a non-zero spamd status, a missing `Spam:` header or a malformed first line.
 */
export function parseSpamdReport(raw: string): Omit<SpamdResult, 'truncated'> {
  const sep = raw.indexOf('\r\n\r\n')
  const head = sep >= 0 ? raw.slice(0, sep) : raw
  const body = sep >= 0 ? raw.slice(sep + 4) : ''
  const status = /^SPAMD\/(\d+\.\d+) (\d+) (.*)$/m.exec(head)
  if (!status)
    throw new VigilError(
      ErrorCode.CHECK_FAILED,
      `${SPAMD_SCANNER_NAME}: malformed spamd response "${head.slice(0, 100)}".`,
    )
  if (status[2] !== '0')
    throw new VigilError(
      ErrorCode.CHECK_FAILED,
      `${SPAMD_SCANNER_NAME}: spamd answered ${status[2]} ${status[3].trim()}.`,
    )
  const verdict = /^Spam: *(True|False|Yes|No) *; *(-?[\d.]+) *\/ *(-?[\d.]+)/im.exec(head)
  if (!verdict)
    throw new VigilError(ErrorCode.CHECK_FAILED, `${SPAMD_SCANNER_NAME}: spamd response without a Spam: header.`)
  return {
    isSpam: /^(true|yes)$/i.test(verdict[1]),
    score: Number(verdict[2]),
    requiredScore: Number(verdict[3]),
    tests: parseReportTable(body),
    report: body.trimEnd(),
  }
}

/**
 * The hit rules of SpamAssassin's report table (` pts rule name  description`, a dashed rule
 * line, then one row per rule, descriptions may wrap onto indented lines). Independent of the
 * report's language: it keys on the dashed separator line.
 */
export function parseReportTable(report: string): SpamTest[] {
  const lines = report.split(/\r?\n/)
  const sepAt = lines.findIndex((l) => /^-{3,}\s+-{5,}/.test(l))
  if (sepAt < 0) return []
  const tests: SpamTest[] = []
  for (const line of lines.slice(sepAt + 1)) {
    if (line.trim() === '') break
    const m = /^\s{0,4}(-?\d+(?:\.\d+)?)\s+([A-Za-z0-9_]+)(?:\s|$)/.exec(line)
    if (m) tests.push({ name: m[2], score: Number(m[1]) })
  }
  return tests
}

/** Cuts a message to at most `max` bytes at a line boundary, never inside the header block. */
export function truncateMessage(raw: Buffer, max: number): { bytes: Buffer; truncated: boolean } {
  if (raw.length <= max) return { bytes: raw, truncated: false }
  let headerEnd = raw.indexOf('\n\n')
  const crlf = raw.indexOf('\r\n\r\n')
  if (crlf >= 0 && (headerEnd < 0 || crlf < headerEnd)) headerEnd = crlf + 2
  const minKeep = headerEnd >= 0 ? headerEnd + 2 : 0
  const nl = raw.lastIndexOf(0x0a, Math.max(max, minKeep) - 1)
  const cut = nl + 1 >= minKeep && nl >= 0 ? nl + 1 : Math.max(max, minKeep)
  return { bytes: raw.subarray(0, cut), truncated: true }
}

export interface SpamdScanner extends SpamScanner {
  check(raw: Buffer, opts: { user?: string; signal: AbortSignal }): Promise<SpamdResult>
  /** PING; throws VigilError(CHECK_FAILED/CHECK_TIMEOUT) when spamd does not answer PONG. */
  ping(timeoutMs?: number): Promise<void>
  describe(): string
}

/** Creates the scanner; validates the address at once (VigilError CONFIG_INVALID). No connection until a check. */
export function createSpamdScanner(opts: SpamdScannerOptions): SpamdScanner {
  let target: SocketTarget
  if (opts.socket) target = parseSocketTarget(opts.socket)
  else if (opts.port !== undefined) target = { host: opts.host ?? '127.0.0.1', port: opts.port }
  else throw new VigilError(ErrorCode.CONFIG_INVALID, `${SPAMD_SCANNER_NAME}: spamd needs a port or a socket.`)
  const timeoutMs = opts.timeoutMs ?? 30_000
  const maxSizeBytes = opts.maxSizeBytes ?? 500 * 1024

  return {
    name: SPAMD_SCANNER_NAME,
    describe: () => `${SPAMD_SCANNER_NAME} (spamd at ${describeTarget(target)})`,
    async ping(ms = 5000) {
      const reply = await exchange(target, (sock) => writeAll(sock, Buffer.from('PING SPAMC/1.5\r\n\r\n')), {
        name: SPAMD_SCANNER_NAME,
        timeoutMs: ms,
      })
      if (!/^SPAMD\/[\d.]+ 0 PONG/.test(reply.toString()))
        throw new VigilError(ErrorCode.CHECK_FAILED, `${SPAMD_SCANNER_NAME}: unexpected PING reply.`)
    },
    async check(raw: Buffer, checkOpts: { user?: string; signal: AbortSignal }): Promise<SpamdResult> {
      const { bytes, truncated } = truncateMessage(raw, maxSizeBytes)
      const user = checkOpts.user ?? opts.user
      if (user !== undefined && /[\r\n]/.test(user))
        throw new VigilError(ErrorCode.CHECK_FAILED, `${SPAMD_SCANNER_NAME}: invalid user name.`)
      const head = `REPORT SPAMC/1.5\r\nContent-length: ${bytes.length}\r\n${user ? `User: ${user}\r\n` : ''}\r\n`
      const reply = await exchange(
        target,
        async (sock) => {
          await writeAll(sock, Buffer.from(head, 'latin1'))
          await writeAll(sock, bytes)
          sock.end() // spamd reads until Content-length; half-closing is what spamc does too
        },
        { name: SPAMD_SCANNER_NAME, timeoutMs, signal: checkOpts.signal, complete: responseComplete },
      )
      if (reply.length === 0)
        throw new VigilError(
          ErrorCode.CHECK_FAILED,
          `${SPAMD_SCANNER_NAME} at ${describeTarget(target)}: connection closed without a reply.`,
        )
      return { ...parseSpamdReport(reply.toString('utf8')), truncated }
    },
  }
}

/** True once the response header and Content-length bytes of body have arrived. */
function responseComplete(b: Buffer): boolean {
  const sep = b.indexOf('\r\n\r\n')
  if (sep < 0) return false
  const m = /^Content-length: *(\d+)/im.exec(b.subarray(0, sep).toString('latin1'))
  if (!m) return false
  return b.length - (sep + 4) >= Number(m[1])
}
