// Postfix's real smtp-source as a load generator (bounded: count, sessions and a timeout).
import { resolveBinary, runCommand } from './process.ts'

export interface SmtpSourceOptions {
  host?: string
  port: number
  /** Messages to send (-m). */
  count: number
  /** Parallel sessions (-s), default 1. */
  sessions?: number
  /** Payload bytes per message, headers excluded (-l). */
  sizeBytes?: number
  /** Envelope sender (-f). */
  from?: string
  /** Envelope recipient (-t); with recipients > 1 smtp-source prefixes a number to it. */
  to?: string
  /** Recipients per transaction (-r). */
  recipients?: number
  /** Speak LMTP (-L). */
  lmtp?: boolean
  /** Send this pre-formatted message file instead of a generated one (-F). */
  file?: string
  /** Subject header (-S). */
  subject?: string
  /** HELO name / default address domain (-M). */
  myhostname?: string
  /** Keep the connection for the next message (-d). */
  reuseConnection?: boolean
  /** Don't abort on unexpected replies (-A). */
  noAbort?: boolean
  /** Wall-clock limit; the process is killed after it (default 120 000 ms). */
  timeoutMs?: number
  /** Extra raw options. */
  args?: string[]
}

export interface SmtpSourceResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  elapsedMs: number
  /** The exact argv used (for messages). */
  argv: string[]
}

export function smtpSourceArgs(opts: SmtpSourceOptions): string[] {
  const host = opts.host ?? '127.0.0.1'
  const a: string[] = [host.includes(':') ? '-6' : '-4', '-m', String(opts.count), '-s', String(opts.sessions ?? 1)]
  if (opts.sizeBytes !== undefined) a.push('-l', String(opts.sizeBytes))
  if (opts.from) a.push('-f', opts.from)
  if (opts.to) a.push('-t', opts.to)
  if (opts.recipients) a.push('-r', String(opts.recipients))
  if (opts.lmtp) a.push('-L')
  if (opts.file) a.push('-F', opts.file)
  if (opts.subject) a.push('-S', opts.subject)
  a.push('-M', opts.myhostname ?? 'localhost')
  if (opts.reuseConnection) a.push('-d')
  if (opts.noAbort) a.push('-A')
  a.push(...(opts.args ?? []))
  a.push(host.includes(':') ? `inet:[${host}]:${opts.port}` : `inet:${host}:${opts.port}`)
  return a
}

/** Runs smtp-source to completion. Resolves (never rejects) with its exit status and output. */
export async function runSmtpSource(opts: SmtpSourceOptions): Promise<SmtpSourceResult> {
  resolveBinary('smtp-source')
  const argv = smtpSourceArgs(opts)
  const r = await runCommand('smtp-source', argv, { timeoutMs: opts.timeoutMs ?? 120_000 })
  return { ...r, argv }
}
