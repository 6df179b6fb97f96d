// The stage list is the one source of the am.st letters, the `elapsed` sections (and the
// TimeElapsed* counters) and the checks_performed letters: these tests change the list and watch
// all three follow, with small local implementations of the check interfaces.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { commonConfigSchema, createLogger } from '@vigil/protocol'
import { filterConfigSchema } from '../../../src/config.ts'
import { processMessage, type PipelineDeps } from '../../../src/pipeline/process.ts'
import { createSettingsLookup } from '../../../src/pipeline/settings.ts'
import type { Analyzers } from '../../../src/pipeline/analyzers.ts'
import type { SmtpClient, OutTransaction } from '../../../src/forward/client.ts'
import { memoryBody } from '../../../src/smtp/spool.ts'
import { parseMessage } from '../../../src/mime/index.ts'
import { STAGES } from '../../../src/pipeline/stages/index.ts'
import { elapsedSections, type Stage } from '../../../src/pipeline/stages/stage.ts'
import { loadPolicyBanks } from '../../../src/pipeline/context.ts'

const RAW = Buffer.from('From: a@example.com\r\nTo: b@example.test\r\nSubject: Hi\r\n\r\nbody\r\n')
const cleanAv = { name: 'av', scan: async () => ({ scanner: 'AV', infected: false, virusNames: [] }) }
const hamSpam = { name: 'sa', check: async () => ({ score: 1, requiredScore: 5, tests: [], report: '' }) }

async function run(
  opts: { stages?: readonly Stage[]; analyzers?: Partial<Analyzers>; dryRun?: boolean; filter?: object } = {},
) {
  const cfg = filterConfigSchema.parse({ local_domains_maps: ['example.test'], ...opts.filter })
  const states: string[] = []
  const frames: string[] = []
  const client = {
    method: { protocol: 'smtp', raw: cfg.forward_method },
    async send(tx: OutTransaction) {
      return tx.rcpts.map(() => ({ code: 250, text: '250 2.0.0 Ok: queued as Q1' }))
    },
  } as unknown as SmtpClient
  // Every clock reading is 10 ms after the previous one, so every timed section is > 0.
  let t = 1704103200
  const deps: PipelineDeps = {
    cfg,
    common: commonConfigSchema.parse({ home: '/nonexistent', myhostname: 'mx.test' }),
    log: createLogger({ name: 't', level: 'fatal', write: () => {} }),
    analyzers: {
      parse: (raw) => parseMessage(raw),
      checkHeaders: () => ({ bad: false, minor: 0 }),
      checkBanned: () => ({ banned: false }),
      ...opts.analyzers,
    },
    settings: createSettingsLookup(cfg),
    publisher: {
      send: (f) => void frames.push(...(Array.isArray(f) ? f : [f])),
      state: (s) => void states.push(s),
      flush: async () => {},
      close: async () => {},
    },
    forwarder: () => client,
    notifier: () => client,
    now: () => (t += 0.01),
    dryRun: opts.dryRun,
    stages: opts.stages,
  }
  const tx = {
    taskId: '00001-01',
    mailFrom: 'a@example.com',
    mailParams: {},
    rcpts: [{ address: 'b@example.test' }],
    xforward: {},
    heloName: 'mx.example.com',
    clientProtocol: 'ESMTP',
    body: memoryBody(RAW),
    startedAt: 1704103199.9,
    receivedAt: 1704103200,
  }
  const out = await processMessage(tx as never, { listener: { address: '127.0.0.1:10024', protocol: 'smtp' } }, deps)
  const elapsedCounters = frames.map((f) => /^am\.snmp TimeElapsed(\w+) /.exec(f)?.[1]).filter((n) => n !== undefined)
  return { out, states, elapsedCounters }
}

/** A stage at a hook point that declares amavis's pen pals letter, section and check. */
const hook: Stage = { name: 'hook', state: 'P', elapsed: 'PenPals', check: 'P', run: () => true }
const withHookAfter = (name: string) => STAGES.flatMap((s) => (s.name === name ? [s, hook] : [s]))

test('the stages run in amavis order, pen pals after the spam scan and delivery last', () => {
  assert.deepEqual(
    STAGES.map((s) => s.name),
    [
      'receive',
      'mail-id',
      'lookups',
      'decode',
      'dkim-verify',
      'virus',
      'banned',
      'spam',
      'dkim-reputation',
      'penpals',
      'results',
      'quarantine-notify',
      'tempfail',
      'dkim-sign',
      'forward',
      'bounce',
      'actions',
      'report',
    ],
  )
  assert.deepEqual(elapsedSections(STAGES), ['Receiving', 'Decoding', 'VirusCheck', 'SpamCheck', 'PenPals', 'Sending'])
})

test('a checked clean message publishes the letters of the stages that applied, in list order, then "."', async () => {
  const { states, out } = await run({ analyzers: { virusScanner: cleanAv, spamScanner: hamSpam } })
  assert.deepEqual(states, ['=', 'G', 'D', 'V', 'S', 'r', 'F', '.'])
  const applied = new Set(['penpals', 'quarantine-notify'])
  assert.deepEqual(
    states.slice(0, -1),
    STAGES.filter((s) => s.state && !applied.has(s.name)).map((s) => s.state),
  )
  assert.equal(out.event.checks_performed, 'V S H B')
})

test('a stage added to the list publishes its letter, times its section and records its check', async () => {
  const { states, out, elapsedCounters } = await run({
    stages: withHookAfter('spam'),
    analyzers: { virusScanner: cleanAv, spamScanner: hamSpam },
  })
  assert.deepEqual(states, ['=', 'G', 'D', 'V', 'S', 'P', 'r', 'F', '.'])
  // checks_performed keeps amavis's report order (V S H B F P D), whatever the run order.
  assert.equal(out.event.checks_performed, 'V S H B P')
  assert.ok(Number(out.event.elapsed!.PenPals.text) > 0)
  assert.deepEqual(elapsedCounters, ['Receiving', 'Decoding', 'VirusCheck', 'SpamCheck', 'PenPals', 'Sending', 'Total'])
  assert.match(out.replies[0], /^250 /)
})

test('moving a stage in the list moves its letter and its counter', async () => {
  const { states, elapsedCounters } = await run({ stages: withHookAfter('receive') })
  assert.deepEqual(states, ['=', 'P', 'G', 'D', 'r', 'F', '.'])
  assert.deepEqual(elapsedCounters, ['Receiving', 'PenPals', 'Decoding', 'Sending', 'Total'])
})

test('a stage that does not apply publishes no letter, adds no time and records no check', async () => {
  const { states, out, elapsedCounters } = await run({ analyzers: { virusScanner: cleanAv, spamScanner: hamSpam } })
  assert.ok(!states.includes('P') && !states.includes('Q'))
  assert.equal(out.event.elapsed!.PenPals, undefined)
  assert.ok(!elapsedCounters.includes('PenPals'))
  assert.ok(!out.event.checks_performed!.includes('P'))
})

test('a check is recorded only when its stage reports it performed', async () => {
  const broken = { name: 'av', scan: async () => Promise.reject(new Error('down')) }
  const { out, states } = await run({ analyzers: { virusScanner: broken, spamScanner: hamSpam } })
  // The virus stage ran (V published) but did not perform its check; the failure skips B and S.
  assert.deepEqual(states, ['=', 'G', 'D', 'V', 'r', '.'])
  assert.equal(out.event.checks_performed, 'H')
  assert.match(out.replies[0], /^451 4\.5\.0 .*virus_scan FAILED: down$/)
})

test('a dry run times no Sending section, as it sends nothing', async () => {
  const live = await run()
  const dry = await run({ dryRun: true })
  assert.ok(live.out.event.elapsed!.Sending !== undefined)
  assert.equal(dry.out.event.elapsed!.Sending, undefined)
  assert.deepEqual(dry.states, ['=', 'G', 'D', 'r', 'F', '.'])
})

test('Receiving is the SMTP session time, taken from the transaction and not from the stage', async () => {
  const { out } = await run()
  assert.equal(out.event.elapsed!.Receiving.text, '0.100')
})

test('a hook stage that loads a policy bank changes the settings of every stage after it', async () => {
  const nochecks = {
    bypass_virus_checks: true,
    bypass_spam_checks: true,
    bypass_banned_checks: true,
    bypass_header_checks: true,
  }
  const newMessage: Stage = { name: 'new-message-hook', run: (ctx) => loadPolicyBanks(ctx, ['NOCHECKS', 'UNDEFINED']) }
  const { out, states } = await run({
    stages: STAGES.flatMap((s) => (s.name === 'mail-id' ? [s, newMessage] : [s])),
    analyzers: { virusScanner: cleanAv, spamScanner: hamSpam },
    filter: { policy_banks: { NOCHECKS: nochecks } },
  })
  assert.deepEqual(states, ['=', 'G', 'D', 'r', 'F', '.'])
  assert.equal(out.event.checks_performed, undefined)
  assert.deepEqual(out.event.policy_banks, ['NOCHECKS'])
  assert.match(out.logLine, /^\(00001-01\) Passed CLEAN \{RelayedInbound\}, NOCHECKS </)
  assert.equal(out.event.recipients[0].bypass_virus_checks, true)
})
