// check_mail: one received message through the stage list (stages/index.ts) to per-recipient
// verdicts, quarantine/notifications, forwarding and DSNs, then the `am.snmp` counter message,
// the JSON event and the main log line. The driver applies what each stage declares (ADR 0008):
// it publishes the stage's am.st letter (spec §2.2: = G D V S r Q F .), times its `elapsed`
// section and records its checks_performed letter.
// Any internal failure tempfails the message (451 4.5.0): mail is never answered 250 unless the
// next hop accepted it (or it was deliberately discarded/bounced by policy).
import type { Transaction } from '../smtp/session.ts'
import { createLogCounter } from '../telemetry/log-counter.ts'
import {
  createContext,
  ms,
  type ConnInfo,
  type MessageContext,
  type MessageOutcome,
  type PipelineDeps,
} from './context.ts'
import { STAGES } from './stages/index.ts'
import type { Stage, StageResult } from './stages/stage.ts'

export type { ConnInfo, MessageOutcome, PipelineDeps, RecipientOutcome, Status } from './context.ts'
export { generateMailId } from './stages/mail-id.ts'

export const DESTINY_NAME: Record<number, string> = {
  1: 'PASS',
  0: 'DISCARD',
  [-2]: 'BOUNCE',
  [-3]: 'REJECT',
  [-4]: 'TEMPFAIL',
}

/**
 * Runs one stage as it declares: skipped unless it applies; its state, its run, then its time and
 * check. Returns a promise only for a stage that returned one (synchronous stages cost no microtask).
 */
function runStage(ctx: MessageContext, stage: Stage): void | Promise<void> {
  if (stage.applies && !stage.applies(ctx)) return
  const timed = stage.elapsed !== undefined && stage.timing !== 'smtp' && !(stage.external && ctx.deps.dryRun)
  const t = timed ? ctx.now() : 0
  if (stage.state) ctx.deps.publisher.state(stage.state, ctx.taskId)
  const r = stage.run(ctx)
  if (r instanceof Promise) return r.then((v) => finishStage(ctx, stage, v, timed, t))
  finishStage(ctx, stage, r, timed, t)
}

function finishStage(ctx: MessageContext, stage: Stage, r: StageResult, timed: boolean, t: number): void {
  if (r === true && stage.check) ctx.checks.add(stage.check)
  const section = stage.elapsed
  if (section === undefined) return
  if (stage.timing === 'smtp') ctx.elapsed[section] = ms(ctx.tx.startedAt, ctx.tx.receivedAt)
  else if (timed) ctx.elapsed[section] = (ctx.elapsed[section] ?? 0) + ms(t, ctx.now())
}

/**
 * Runs a received message through the stage list and returns its replies and outcome. Failing
 * checks, quarantine or DSNs tempfail the message (in its replies); an exception a stage does not
 * handle itself reaches the caller, as before the stages existed.
 */
export async function processMessage(tx: Transaction, conn: ConnInfo, deps: PipelineDeps): Promise<MessageOutcome> {
  if (!deps.logCounter) {
    const c = createLogCounter(deps.log)
    deps = { ...deps, log: c.log, logCounter: c }
  }
  const ctx = createContext(tx, conn, deps, deps.log, deps.logCounter!, deps.stages ?? STAGES)
  for (const stage of ctx.stages) {
    const running = runStage(ctx, stage)
    if (running) await running
  }
  deps.publisher.state('.', ctx.taskId)
  const { replies, outcomes, counters, mailId, logLine } = ctx
  return { replies, recipients: outcomes, event: ctx.event!, counters, mailId, logLine }
}
