// The pipeline's decisions on literal inputs, with small local implementations of the check
// interfaces (the real clamd/spamd/quarantine are exercised in test/integration/).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { COUNTERS_BY_NAME, commonConfigSchema, createLogger, encodeAmavisJson } from '@vigil/protocol'
import { filterConfigSchema } from '../../src/config.ts'
import { generateMailId, processMessage, type PipelineDeps } from '../../src/pipeline/process.ts'
import { createSettingsLookup } from '../../src/pipeline/settings.ts'
import type { Analyzers } from '../../src/pipeline/analyzers.ts'
import type { SmtpClient, OutTransaction } from '../../src/forward/client.ts'
import type { BusPublisher } from '../../src/telemetry/publisher.ts'
import { memoryBody } from '../../src/smtp/spool.ts'
import type { ParsedMessage, SpamResult } from '../../src/checks/check.ts'
import { parseMessage } from '../../src/mime/index.ts'
import { createLogCounter } from '../../src/telemetry/log-counter.ts'

const RAW = Buffer.from(
  'From: Alice <alice@example.com>\r\nTo: bob@example.test\r\nSubject: Hello\r\nMessage-ID: <m1@example.com>\r\n\r\nbody\r\n',
)

function harness(
  opts: {
    filter?: Record<string, unknown>
    analyzers?: Partial<Analyzers>
    replies?: (tx: OutTransaction) => { code: number; text: string }[]
  } = {},
) {
  const cfg = filterConfigSchema.parse({ local_domains_maps: ['example.test'], ...(opts.filter ?? {}) })
  const common = commonConfigSchema.parse({ home: '/nonexistent', myhostname: 'mx.test' })
  const sent: OutTransaction[] = []
  const states: string[] = []
  const frames: string[][] = []
  const events: string[] = []
  const client = {
    method: { protocol: 'smtp', raw: cfg.forward_method },
    onEvent: undefined,
    async send(tx: OutTransaction) {
      sent.push(tx)
      return opts.replies
        ? opts.replies(tx)
        : tx.rcpts.map(() => ({ code: 250, text: '250 2.0.0 Ok: queued as ABC123' }))
    },
  } as unknown as SmtpClient
  const publisher: BusPublisher = {
    send: (f) => void frames.push(Array.isArray(f) ? f : [f]),
    state: (s, id) => void states.push(id && s !== '.' ? `${s} ${id}` : s),
    flush: async () => {},
    close: async () => {},
  }
  const analyzers: Analyzers = {
    parse: (raw) => parseMessage(raw),
    checkHeaders: () => ({ bad: false, minor: 0 }),
    checkBanned: () => ({ banned: false }),
    ...(opts.analyzers ?? {}),
  }
  const deps: PipelineDeps = {
    cfg,
    common,
    log: createLogger({ name: 't', level: 'fatal', write: () => {} }),
    analyzers,
    settings: createSettingsLookup(cfg),
    publisher,
    events: {
      deliver: (j) => void events.push(j),
      stats: () => ({ produced: 0, delivered: 0, deadLettered: 0, queued: 0, trimmed: 0 }),
      close: async () => {},
    },
    forwarder: () => client,
    notifier: () => client,
    now: () => 1704103200.123,
  }
  const run = (rcpts = ['bob@example.test'], xforward: Record<string, string> = {}) =>
    processMessage(
      {
        taskId: '04321-01',
        mailFrom: 'alice@example.com',
        mailParams: {},
        rcpts: rcpts.map((address) => ({ address })),
        xforward,
        heloName: 'mx.example.com',
        clientProtocol: 'ESMTP',
        body: memoryBody(RAW),
        startedAt: 1704103200.1,
        receivedAt: 1704103200.123,
      },
      {
        srcIp: '127.0.0.1',
        dstIp: '127.0.0.1',
        dstPort: 10024,
        listener: { address: '127.0.0.1:10024', protocol: 'smtp' },
      },
      deps,
    )
  return { run, sent, states, frames, events, deps }
}

const spam = (score: number): SpamResult => ({
  score,
  requiredScore: 5,
  tests: [
    { name: 'HAM_T', score: -1.5 },
    { name: 'BIG', score: score + 1.5 },
    { name: 'SMALL', score: 0.001 },
  ],
  report: '',
})
const virus = {
  name: 'fake-av',
  scan: async () => ({
    scanner: 'Fake "AV"',
    infected: true,
    virusNames: ['Eicar-Test-Signature', 'Eicar-Test-Signature'],
  }),
}

test('a clean message is forwarded with its headers and counted as RelayedUntagged', async () => {
  const h = harness()
  const out = await h.run()
  assert.deepEqual(out.replies, ['250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as ABC123'])
  assert.deepEqual(h.states, ['= 04321-01', 'G 04321-01', 'D 04321-01', 'r 04321-01', 'F 04321-01', '.'])
  const ev = out.event
  assert.equal(ev.checks_performed, 'H B')
  assert.deepEqual(ev.queued_as, ['ABC123'])
  assert.equal(ev.actions_performed, 'RelayedInbound')
  assert.deepEqual(ev.author, ['alice@example.com'])
  assert.equal(ev.message_id, '<m1@example.com>')
  assert.equal(encodeAmavisJson(ev.time_unix), '1704103200.123')
  assert.equal(ev['@timestamp'], '2024-01-01T10:00:00.123Z')
  assert.deepEqual(Object.keys(ev.elapsed!).sort(), ['Amavis', 'Decoding', 'Receiving', 'Sending', 'Total'])
  assert.equal(h.events.length, 1)
  assert.match(
    out.logLine,
    /^\(04321-01\) Passed CLEAN \{RelayedInbound\}, <alice@example\.com> -> <bob@example\.test>, Message-ID: <m1@example\.com>, mail_id: [\w-]{12}, Hits: -, size: \d+, queued_as: ABC123, \d+ ms$/,
  )
})

test('a virus is discarded with 250 2.7.0, not forwarded, and the scanner name is cleaned in av_scan', async () => {
  const h = harness({ analyzers: { virusScanner: virus } })
  const out = await h.run()
  assert.match(out.replies[0], /^250 2\.7\.0 Ok, discarded, id=04321-01 - INFECTED: Eicar-Test-Signature$/)
  assert.equal(h.sent.length, 0)
  assert.deepEqual(out.event.virusnames, ['Eicar-Test-Signature'])
  assert.deepEqual(out.event.av_scan, { "Fake 'AV'": ['Eicar-Test-Signature', 'Eicar-Test-Signature'] })
  assert.equal(out.event.recipients[0].ccat_blocking, 'Virus')
  assert.equal(out.event.recipients[0].ccat_main, undefined)
  assert.ok(h.states.includes('V 04321-01'))
  assert.ok(out.counters.names().includes('virus.byname.Eicar-Test-Signature'))
})

test('a failing virus scanner tempfails the message, or marks it Unchecked when configured to pass', async () => {
  const failing = { name: 'broken', scan: async () => Promise.reject(new Error('clamd gone')) }
  const h1 = harness({ analyzers: { virusScanner: failing } })
  const out1 = await h1.run()
  assert.match(out1.replies[0], /^451 4\.5\.0 Error in processing, id=04321-01, virus_scan FAILED: clamd gone$/)
  assert.equal(h1.sent.length, 0)
  const h2 = harness({ analyzers: { virusScanner: failing }, filter: { virus_check_on_failure: 'pass' } })
  const out2 = await h2.run()
  assert.match(out2.replies[0], /^250 /)
  assert.equal(out2.event.content_type, 'Unchecked')
  assert.equal(out2.event.recipients[0].ccat_main, 'Unchecked')
  assert.equal(out2.event.recipients[0].ccat_blocking, undefined)
})

test('an encrypted part the virus scanner cannot see makes the mail UncheckedEncrypted, only when virus checks run', async () => {
  const clean = { name: 'fake-av', scan: async () => ({ scanner: 'Fake AV', infected: false, virusNames: [] }) }
  const encrypted = () => ({ unchecked: true, minor: 1, reason: 'p002 secret.zip: encrypted' })
  const h1 = harness({ analyzers: { virusScanner: clean, checkUnchecked: encrypted } })
  const out1 = await h1.run()
  assert.match(out1.replies[0], /^250 /, 'final_unchecked_destiny defaults to D_PASS')
  assert.equal(out1.event.content_type, 'UncheckedEncrypted')
  assert.equal(out1.event.recipients[0].ccat_main, 'UncheckedEncrypted')
  assert.ok(out1.counters.names().includes('ContentUncheckedMsgs'))
  const h2 = harness({ analyzers: { checkUnchecked: encrypted } })
  const out2 = await h2.run()
  assert.equal(out2.event.content_type, 'Clean', 'without a virus scanner nothing claims the content was checked')
  const h3 = harness({
    analyzers: { virusScanner: clean, checkUnchecked: encrypted },
    filter: { bypass_virus_checks: true },
  })
  assert.equal((await h3.run()).event.content_type, 'Clean')
})

test('a spam check slower than its timeout tempfails the message', async () => {
  const slow = {
    name: 'slow',
    check: (_raw: Buffer, o: { signal: AbortSignal }) =>
      new Promise<SpamResult>((_, rej) => o.signal.addEventListener('abort', () => rej(new Error('aborted')))),
  }
  const h = harness({ analyzers: { spamScanner: slow }, filter: { spam_check_timeout_secs: 0.05 } })
  const out = await h.run()
  assert.match(out.replies[0], /^451 4\.5\.0 .*spam_scan FAILED: spam_scan timed out/)
})

const spamCases: { score: number; destiny: string; reply: RegExp; content: string; status: string; flag?: string }[] = [
  {
    score: 1,
    destiny: 'D_BOUNCE',
    reply: /^250 2\.0\.0 from MTA/,
    content: 'Clean',
    status: 'InMsgsStatusRelayedUntagged',
  },
  {
    score: 3,
    destiny: 'D_BOUNCE',
    reply: /^250 2\.0\.0 from MTA/,
    content: 'CleanTag',
    status: 'InMsgsStatusRelayedTagged',
    flag: 'NO',
  },
  {
    score: 6.5,
    destiny: 'D_BOUNCE',
    reply: /^250 2\.0\.0 from MTA/,
    content: 'Spammy',
    status: 'InMsgsStatusRelayedTagged',
    flag: 'YES',
  },
  {
    score: 8,
    destiny: 'D_REJECT',
    reply: /^554 5\.7\.0 Reject, id=04321-01 - SPAM$/,
    content: 'Spam',
    status: 'InMsgsStatusRejected',
  },
  {
    score: 8,
    destiny: 'D_DISCARD',
    reply: /^250 2\.7\.0 Ok, discarded/,
    content: 'Spam',
    status: 'InMsgsStatusDiscarded',
  },
  {
    score: 50,
    destiny: 'D_BOUNCE',
    reply: /^250 2\.7\.1 Ok, id=04321-01, BOUNCE \(DSN suppressed\)$/,
    content: 'Spam',
    status: 'InMsgsStatusNoBounce',
  },
]
for (const c of spamCases) {
  test(`a spam score of ${c.score} with final_spam_destiny ${c.destiny} gives ${c.content}`, async () => {
    const h = harness({
      analyzers: { spamScanner: { name: 'fake', check: async () => spam(c.score) } },
      filter: { final_spam_destiny: c.destiny },
    })
    const out = await h.run()
    assert.match(out.replies[0], c.reply)
    assert.equal(out.event.content_type, c.content)
    assert.ok(out.counters.names().includes(c.status), `${c.status} in ${out.counters.names()}`)
    assert.equal(encodeAmavisJson(out.event.spam_score), c.score.toFixed(3))
    assert.deepEqual(out.event.tests, ['BIG', 'HAM_T', 'SMALL'])
    assert.deepEqual(out.event.tests_spam, ['BIG', 'SMALL'])
    assert.deepEqual(out.event.tests_ham, ['HAM_T'])
    if (c.flag) {
      const head = h.sent[0].content()[0] as Buffer
      assert.match(head.toString(), new RegExp(`X-Spam-Flag: ${c.flag}\\r\\n`))
      assert.equal(/Subject: \*\*\*Spam\*\*\* Hello/.test(head.toString()), c.flag === 'YES')
    } else if (h.sent.length) assert.doesNotMatch((h.sent[0].content()[0] as Buffer).toString(), /X-Spam-/)
  })
}

test('recipients with bypass_spam_checks get spam passed while the others get it blocked (per-recipient destinies)', async () => {
  const h = harness({
    analyzers: { spamScanner: { name: 'fake', check: async () => spam(9) } },
    filter: { final_spam_destiny: 'D_DISCARD' },
  })
  const out = await h.run(['bob@example.test', 'carol@example.org'])
  assert.deepEqual(
    out.recipients.map((r) => r.action),
    ['DISCARD', 'DISCARD'],
  )
  assert.equal(out.event.actions_performed, 'DiscardedInbound DiscardedOpenRelay')
  const keys = out.counters.names().filter((n) => n.startsWith('InMsgsStatus'))
  assert.deepEqual(keys, [...keys].sort(), 'InMsgsStatus keys are sorted')
  assert.deepEqual(keys, ['InMsgsStatusDiscarded', 'InMsgsStatusDiscardedInbound', 'InMsgsStatusDiscardedOpenRelay'])
})

test('a next hop that accepts one recipient and rejects another in SMTP gives one reply, the event has both', async () => {
  const h = harness({
    replies: (tx) =>
      tx.rcpts.map((_, i) =>
        i === 0 ? { code: 250, text: '250 2.0.0 Ok' } : { code: 550, text: '550 5.1.1 unknown user' },
      ),
  })
  const out = await h.run(['bob@example.test', 'nobody@example.test'])
  assert.equal(out.replies.length, 1)
  assert.match(out.replies[0], /^250 /)
  assert.deepEqual(
    out.recipients.map((r) => r.action),
    ['PASS', 'REJECT'],
  )
  assert.deepEqual(out.event.smtp_code, ['250', '550'])
})

test('in SMTP, recipients rejected next to accepted ones are reported to the sender in a DSN', async () => {
  const h = harness({
    analyzers: {
      buildDsn: (r) =>
        Buffer.from(`DSN for ${r.recipients.map((x) => x.address).join(',')}: ${r.recipients[0].diagnostic}`),
    },
    replies: (tx) =>
      tx.mailFrom === ''
        ? tx.rcpts.map(() => ({ code: 250, text: '250 2.0.0 Ok' }))
        : tx.rcpts.map((_, i) =>
            i === 0 ? { code: 250, text: '250 2.0.0 Ok' } : { code: 550, text: '550 5.1.1 unknown user' },
          ),
  })
  const out = await h.run(['bob@example.test', 'nobody@example.test'])
  assert.match(out.replies[0], /^250 2\.0\.0 Ok, id=04321-01, 1 of 2 recipient\(s\) rejected$/)
  const dsn = h.sent.find((tx) => tx.mailFrom === '')!
  assert.deepEqual(
    dsn.rcpts.map((r) => r.address),
    ['alice@example.com'],
  )
  assert.match(
    (dsn.content()[0] as Buffer).toString(),
    /^DSN for nobody@example\.test: 550 5\.1\.1 from MTA\(smtp:\[127\.0\.0\.1\]:10025\): 550 5\.1\.1 unknown user$/,
  )
  assert.deepEqual(
    out.recipients.map((r) => r.action),
    ['PASS', 'BOUNCE'],
  )
  assert.equal(out.event.dsn_sent, true)
  assert.ok(out.counters.names().includes('InMsgsStatusBounced'))
})

test('an originating client (XFORWARD ADDR in mynetworks) makes the mail Internal/Outbound with the Originating counters', async () => {
  const h = harness()
  const out = await h.run(['bob@example.test', 'x@example.org'], { ADDR: '192.168.1.20', PORT: '5555' })
  assert.equal(out.event.originating, true)
  const n = out.counters.names()
  for (const c of [
    'InMsgsOriginating',
    'InMsgsInternal',
    'InMsgsOutbound',
    'InMsgsRecipsLocal',
    'ContentCleanMsgsOriginating',
    'InMsgsStatusRelayedUntaggedOriginating',
  ])
    assert.ok(n.includes(c), c)
  assert.match(out.logLine, / LOCAL \[192\.168\.1\.20\]:5555 /)
})

test('log entries written between messages are counted with the next message (LogLines/LogEntries*)', async () => {
  const h = harness()
  const counter = createLogCounter(createLogger({ name: 't', level: 'info', write: () => {} }))
  h.deps.log = counter.log
  h.deps.logCounter = counter
  counter.log.warn('A session-level warning before the message.')
  counter.log.debug('Not written at log level info, so not counted.')
  await h.run()
  const snmp = (name: string) =>
    h.frames
      .flat()
      .map((f) => f.split(' '))
      .find((p) => p[1] === name)?.[3]
  // The warning (-1) and the message's one-line log (notice, 0).
  assert.equal(snmp('LogEntries'), '2')
  assert.equal(snmp('LogLines'), '2')
  assert.equal(snmp('LogEntriesWarning'), '1')
  assert.equal(snmp('LogEntriesNotice'), '2')
  assert.equal(snmp('LogEntriesLevel0'), '2')
  assert.equal(snmp('LogEntriesDebug'), '2')
  assert.deepEqual(counter.drain(), [], 'the message took all counted entries')
})

test('the am.snmp message carries only am.snmp frames, ends with TimeElapsedTotal and drops nothing negative', async () => {
  const h = harness()
  await h.run()
  const snmp = h.frames.find((f) => f[0].startsWith('am.snmp InMsgs '))!
  assert.ok(
    snmp.every((f) => /^am\.snmp \S+ (C32|C64) \d+$/.test(f)),
    snmp.join('\n'),
  )
  assert.match(snmp[snmp.length - 1], /^am\.snmp TimeElapsedTotal C32 \d+$/)
})

test('parse failures tempfail instead of passing the message', async () => {
  const h = harness({
    analyzers: {
      parse: (): ParsedMessage => {
        throw new Error('boom')
      },
    },
  })
  const out = await h.run()
  assert.match(out.replies[0], /^451 4\.5\.0 .*decoding FAILED: boom/)
})

test("every counter name sent is in the AMAVIS-MIB catalogue or one of amavis's no-OID extras", async () => {
  const names = new Set<string>()
  const scenarios = [
    harness(),
    harness({
      analyzers: {
        virusScanner: virus,
        quarantine: { store: async () => ({ location: 'virus-x.gz', type: 'Z' }), read: async () => Buffer.alloc(0) },
        buildAdminNotification: () => Buffer.from('x'),
      },
      filter: { virus_admin: 'admin@example.test' },
    }),
    harness({
      analyzers: { spamScanner: { name: 'f', check: async () => spam(8) }, buildDsn: () => Buffer.from('dsn') },
    }),
    harness({
      analyzers: { checkBanned: () => ({ banned: true, reason: '.exe' }) },
      filter: { final_banned_destiny: 'D_REJECT' },
    }),
    harness({ replies: (tx) => tx.rcpts.map(() => ({ code: 451, text: '451 4.3.0 later' })) }),
  ]
  for (const h of scenarios) {
    for (const xf of [{}, { ADDR: '10.1.1.1' }] as Record<string, string>[]) {
      const out = await h.run(['bob@example.test', 'x@example.org'], xf)
      for (const n of out.counters.names()) names.add(n)
    }
  }
  const extra = /^(OpsDecType-|OpsDecBy|virus\.byname\.|ContentCatchAllMsgs|InMsgsStatusUnknown|QuarMsgs(Size)?Other)/
  const unknown = [...names].filter((n) => !COUNTERS_BY_NAME.has(n) && !extra.test(n))
  assert.deepEqual(unknown, [])
  for (const n of [
    'OutMsgsSubmitDsn',
    'OutMsgsSubmitQuar',
    'OutMsgsSubmitNotif',
    'InMsgsStatusBounced',
    'InMsgsStatusRejected',
    'InMsgsStatusTempFailed',
    'OutMsgsAttemptFails',
    'QuarMsgsVirus',
  ])
    assert.ok(names.has(n), n)
})

test('a listener policy bank changes the verdict and is named in the event and the log line', async () => {
  const h = harness({
    analyzers: { spamScanner: { name: 'fake', check: async () => spam(9) } },
    filter: { final_spam_destiny: 'D_DISCARD', policy_banks: { SPAMLOVERS: { final_spam_destiny: 'D_PASS' } } },
  })
  const plain = await h.run()
  assert.deepEqual(plain.event.action, ['DISCARD'])
  assert.equal(plain.event.policy_banks, undefined)
  const withBank = await processMessage(
    {
      taskId: '04321-02',
      mailFrom: 'alice@example.com',
      mailParams: {},
      rcpts: [{ address: 'bob@example.test' }],
      xforward: {},
      heloName: 'x',
      clientProtocol: 'ESMTP',
      body: memoryBody(RAW),
      startedAt: 1704103200.1,
      receivedAt: 1704103200.123,
    },
    { listener: { address: '127.0.0.1:10026', protocol: 'smtp', policy_bank: 'SPAMLOVERS' } },
    h.deps,
  )
  assert.deepEqual(withBank.event.action, ['PASS'])
  assert.deepEqual(withBank.event.policy_banks, ['SPAMLOVERS'])
  assert.match(withBank.logLine, /^\(04321-02\) Passed SPAM \{RelayedTaggedInbound\}, SPAMLOVERS <alice@example\.com>/)
})

test('mail_ids are 12 base64url characters and do not repeat, also across refills of the random pool', () => {
  const seen = new Set<string>()
  for (let i = 0; i < 2000; i++) {
    const id = generateMailId()
    assert.match(id, /^[A-Za-z0-9_-]{12}$/)
    seen.add(id)
  }
  assert.equal(seen.size, 2000)
})
