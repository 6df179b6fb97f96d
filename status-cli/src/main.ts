// amavis-status entry point, the only module with side effects: argv → config → plain or full
// screen → signals. Exit codes: 0 done, 1 usage (as amavisd-status), 78 bad configuration.
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs'
import { basename } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { z } from 'zod'
import { commonConfigSchema, EX_CONFIG } from '@vigil/protocol'
import { parseStatusArgs, VIGIL_USAGE, type StatusArgs } from './args.ts'
import { statusConfigSchema, type StatusConfig } from './config.ts'
import { formatUsage } from './render/format.ts'
import { formatEpochHeader, formatRecordedMessage, framesEpochMs, parseFramesFile, replayPlain } from './replay.ts'
import { runPlain, type LiveRun } from './run-plain.ts'

const fileSchema = commonConfigSchema.extend({
  status: statusConfigSchema.prefault({}),
  filter: z.unknown().optional(),
  collector: z.unknown().optional(),
  snmp_agent: z.unknown().optional(),
})

/** Reads the common keys and the `status` section; returns the problems instead on failure. */
export function loadStatusConfig(
  file: string | undefined,
): { outer: string; snmp: string; status: StatusConfig } | string[] {
  let raw: unknown = {}
  if (file !== undefined) {
    try {
      raw = parseYaml(readFileSync(file, 'utf8')) ?? {}
    } catch (err) {
      return [`${file}: ${(err as Error).message.split('\n')[0]}`]
    }
  }
  const r = fileSchema.safeParse(raw)
  if (!r.success)
    return r.error.issues.map((i) => `${file ?? '(defaults)'}: ${i.path.join('.') || '(top level)'}: ${i.message}`)
  return { outer: r.data.zmq.outer, snmp: r.data.zmq.snmp, status: r.data.status }
}

/**
 * Runs amavis-status with `argv` (without node and script). Resolves the exit code (also set
 * as process.exitCode).
 */
export async function main(argv: readonly string[], prog = 'amavis-status'): Promise<number> {
  const exit = (code: number): number => {
    process.exitCode = code
    return code
  }
  const parsed = parseStatusArgs(argv)
  if (!parsed.ok) {
    // amavisd-status prints the legend and usage to stdout; the reason goes to stderr.
    process.stderr.write(`${basename(prog)}: ${parsed.problem}\n`)
    process.stdout.write(formatUsage(basename(prog)) + VIGIL_USAGE)
    return exit(1)
  }
  const args: StatusArgs = parsed.args
  const cfg = loadStatusConfig(args.config ?? (process.env.VIGIL_CONFIG || undefined))
  if (Array.isArray(cfg)) {
    process.stderr.write(`amavis-status: invalid configuration:\n${cfg.map((p) => '  ' + p + '\n').join('')}`)
    return exit(EX_CONFIG)
  }
  if (args.replay !== undefined) {
    let text: string
    let r: ReturnType<typeof replayPlain>
    try {
      text = readFileSync(args.replay, 'utf8')
      r = replayPlain(parseFramesFile(text), {
        count: args.count ?? 0,
        waitSecs: args.waitSecs ?? cfg.status.wait_secs,
        epochMs: framesEpochMs(text),
      })
    } catch (err) {
      process.stderr.write(`amavis-status: cannot replay ${args.replay}: ${(err as Error).message}\n`)
      return exit(1)
    }
    for (const c of r.chunks) (c.fd === 1 ? process.stdout : process.stderr).write(c.text)
    return exit(0)
  }
  const endpoint = args.connect ?? (cfg.status.connect || cfg.outer)
  const count = args.count ?? cfg.status.count
  const waitSecs = args.waitSecs ?? cfg.status.wait_secs
  const mode = args.mode ?? (cfg.status.mode === 'auto' ? (process.stdout.isTTY ? 'tui' : 'plain') : cfg.status.mode)

  const api = args.api ?? (cfg.status.api || undefined)
  if (api && mode === 'plain') {
    process.stderr.write('amavis-status: --api feeds the full screen; plain mode reads the bus (use --connect)\n')
    return exit(1)
  }

  let recordFd: number | undefined
  let recordStart = 0
  const onMessage = args.record
    ? (parts: Buffer[], nowMs: number): void => {
        if (recordFd === undefined) return
        const tMs = Math.max(0, Math.round(nowMs - recordStart))
        writeSync(recordFd, formatRecordedMessage({ tMs, parts: parts.map((p) => p.toString('utf8')) }))
      }
    : undefined
  if (args.record) {
    try {
      recordFd = openSync(args.record, 'w')
      recordStart = Date.now()
      writeSync(recordFd, formatEpochHeader(recordStart))
    } catch (err) {
      process.stderr.write(`amavis-status: cannot open ${args.record}: ${(err as Error).message}\n`)
      return exit(1)
    }
  }

  let run: LiveRun
  if (mode === 'tui') {
    const { runTui } = await import('./run-tui.ts')
    run = runTui({
      endpoint,
      responder: cfg.status.responder || cfg.snmp,
      api,
      count,
      waitSecs,
      countersIntervalSecs: cfg.status.counters_interval_secs,
      quietWarnSecs: cfg.status.no_messages_warn_secs,
      onMessage,
    })
  } else {
    run = runPlain({
      endpoint,
      count,
      waitSecs,
      quietWarnSecs: cfg.status.no_messages_warn_secs,
      write: (fd, text) => (fd === 1 ? process.stdout : process.stderr).write(text),
      onMessage,
    })
  }
  let signalled = false
  const onSignal = (): void => {
    if (signalled) return
    signalled = true
    // Plain mode says `exited` at once, as amavisd-status; the full screen first restores the terminal.
    if (mode === 'plain') process.stdout.write('exited\n')
    void run.stop().then(() => {
      if (mode !== 'plain') process.stdout.write('exited\n')
    })
  }
  // A closed pipe (`amavis-status | head`) ends the run quietly instead of crashing.
  const onPipeError = (err: NodeJS.ErrnoException): void => {
    if (err.code === 'EPIPE') void run.stop()
    else throw err
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  process.stdout.on('error', onPipeError)
  process.stderr.on('error', onPipeError)
  await run.finished
  process.off('SIGINT', onSignal)
  process.off('SIGTERM', onSignal)
  if (recordFd !== undefined) closeSync(recordFd)
  return exit(0)
}
