// Issue #12 acceptance "SQL and LDAP": one message to three recipients whose policies come from
// PostgreSQL, from a SQLite file and from slapd (amavis's schemas and default queries): a spam
// lover, a lowered kill level and the catch-all's default get three different destinies, scored
// by a real spamd. A lookup server stopped (or hung) mid-run tempfails the message: nothing is
// forwarded, every recipient gets 451, and the failure is counted.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Socket } from 'node:net'
import { join } from 'node:path'
import { commonConfigSchema, createLogger } from '@vigil/protocol'
import {
  createScope,
  startPostgres,
  startSlapd,
  startSmtpSink,
  startSpamd,
  tmpDir,
  type PostgresInstance,
  type SlapdInstance,
  type SmtpSink,
  type SpamdInstance,
} from '../../../test/harness/index.ts'
import { createSpamdScanner } from '../../src/checks/spam-spamd.ts'
import { filterConfigSchema } from '../../src/config.ts'
import { SmtpClient } from '../../src/forward/client.ts'
import { closeLookupClients } from '../../src/lookup/prefetch.ts'
import { parseMessage } from '../../src/mime/index.ts'
import type { Analyzers } from '../../src/pipeline/analyzers.ts'
import { processMessage, type PipelineDeps } from '../../src/pipeline/process.ts'
import { createSettingsLookup } from '../../src/pipeline/settings.ts'
import { memoryBody } from '../../src/smtp/spool.ts'
import { DEFAULT_LDAP_FILTER } from '../../src/lookup/ldap.ts'
import { PEOPLE, LDIF } from '../lookup/amavis-ldap-fixture.ts'
import { DATA, createSqliteFile, schema } from '../lookup/amavis-sql-fixture.ts'

const RCPTS = ['lover@example.com', 'low@example.com', 'other@example.com']
const MESSAGE = Buffer.from(
  'From: Mallory <mallory@sender.example>\r\nTo: lover@example.com, low@example.com, other@example.com\r\n' +
    'Subject: offer\r\nDate: Mon, 01 Jan 2024 10:00:00 +0000\r\nMessage-ID: <sql-ldap-1@sender.example>\r\n\r\n' +
    'VIGIL_LOOKUP_SCENARIO: an offer scored 5 by a local rule.\r\n',
)

const scope = createScope()
let spamd: SpamdInstance
let pgdb: PostgresInstance
let slapd: SlapdInstance
let sink: SmtpSink
let sqliteDsn: string
before(async () => {
  ;[spamd, pgdb, slapd, sink] = await Promise.all([
    startSpamd(scope, { config: ['body VIGIL_LOOKUP /VIGIL_LOOKUP_SCENARIO/', 'score VIGIL_LOOKUP 5.0'] }),
    startPostgres(scope),
    startSlapd(scope),
    startSmtpSink(scope),
  ])
  await Promise.all([pgdb.sql(schema('pg') + DATA), slapd.add(LDIF)])
  sqliteDsn = createSqliteFile(join(await tmpDir(scope, 'sqlite'), 'mail_prefs.sqlite'))
})
after(() => scope.close())

async function run(filter: Record<string, unknown>) {
  // The static default kill level (4) blocks the scenario's score (5): only the lookups let mail through.
  const cfg = filterConfigSchema.parse({
    local_domains_maps: ['example.com'],
    sa_kill_level_deflt: 4,
    lookup_timeout_ms: 3000,
    ...filter,
  })
  const logs: string[] = []
  // The next hop is a real Postfix smtp-sink; what it holds after this message is what was forwarded.
  const client = new SmtpClient(`smtp:[127.0.0.1]:${sink.port}`, { heloName: 'mx.test' })
  const before = (await sink.messages()).length
  const analyzers: Analyzers = {
    parse: (r) => parseMessage(r),
    checkHeaders: () => ({ bad: false, minor: 0 }),
    checkBanned: () => ({ banned: false }),
    spamScanner: createSpamdScanner({ host: spamd.host, port: spamd.port, timeoutMs: 60_000 }),
  }
  const deps: PipelineDeps = {
    cfg,
    common: commonConfigSchema.parse({ home: '/nonexistent', myhostname: 'mx.test' }),
    log: createLogger({ name: 't', level: 'debug', write: (l: string) => void logs.push(l) }),
    analyzers,
    settings: createSettingsLookup(cfg),
    publisher: { send: () => {}, state: () => {}, flush: async () => {}, close: async () => {} },
    forwarder: () => client,
    notifier: () => client,
  }
  const started = Date.now()
  const out = await processMessage(
    {
      taskId: '04321-01',
      mailFrom: 'mallory@sender.example',
      mailParams: {},
      rcpts: RCPTS.map((address) => ({ address })),
      xforward: { ADDR: '192.0.2.7' },
      heloName: 'mx.sender.example',
      clientProtocol: 'ESMTP',
      body: memoryBody(MESSAGE),
      startedAt: Date.now() / 1000,
      receivedAt: Date.now() / 1000,
    },
    {
      srcIp: '127.0.0.1',
      dstIp: '127.0.0.1',
      dstPort: 10024,
      listener: { address: '127.0.0.1:10024', protocol: 'smtp' },
    },
    deps,
  )
  const actions = Object.fromEntries(out.event.recipients.map((r) => [r.rcpt_to, r.action]))
  await client.close()
  // The filter forwarded once per queued_as it logged; wait for the sink's dumps of those.
  const expected = before + (out.event.queued_as?.length ?? 0)
  const got = expected > before ? await sink.waitForMessages(expected, 10_000) : await sink.messages()
  const forwarded = got.slice(before).flatMap((m) => m.rcpts)
  return { cfg, out, actions, forwarded, logs, ms: Date.now() - started }
}

const sources: [string, () => Record<string, unknown>][] = [
  ['PostgreSQL', () => ({ lookup_sql_dsn: [pgdb.url] })],
  ['SQLite', () => ({ lookup_sql_dsn: [sqliteDsn] })],
  [
    'slapd',
    () => ({
      enable_ldap: true,
      default_ldap: { hostname: slapd.url, base: PEOPLE, query_filter: DEFAULT_LDAP_FILTER },
    }),
  ],
]

describe('one message, three recipients, per-recipient policy from SQL and LDAP', () => {
  for (const [name, filter] of sources) {
    test(`answered from ${name}: the lowered kill level blocks, the catch-all's passes, the lover is a lover`, async () => {
      const r = await run(filter())
      after(() => closeLookupClients(r.cfg))
      const score = Number(r.out.event.spam_score?.text)
      assert.ok(score >= 3 && score < 8, `spamd scores the scenario between the kill levels (${score})`)
      assert.equal(r.actions['low@example.com'], 'BOUNCE')
      assert.equal(r.actions['other@example.com'], 'PASS')
      assert.ok(r.forwarded.includes('other@example.com') && !r.forwarded.includes('low@example.com'))
      // The lover's row: spam_lover Y with kill level 3 (what the destiny makes of a lover is the
      // results stage's; here: the answer reached the recipient's settings).
      const lover = r.out.recipients.find((o) => o.address === 'lover@example.com')!
      assert.deepEqual([lover.settings.spamLover, lover.settings.killLevel], [true, 3])
      const other = r.out.recipients.find((o) => o.address === 'other@example.com')!
      assert.deepEqual([other.settings.spamLover, other.settings.killLevel], [false, 8])
      const rc = r.out.counters
      assert.ok((rc.get(name === 'slapd' ? 'OpsLDAPSearch' : 'OpsSqlSelect') ?? 0) >= RCPTS.length)
      assert.equal(rc.get('LookupFailures'), undefined)
      // Without the lookups every recipient has the static default (kill level 6.9): all blocked.
      const plain = await run({})
      assert.deepEqual(Object.values(plain.actions), ['BOUNCE', 'BOUNCE', 'BOUNCE'])
    })
  }
})

describe('a lookup server that stops or hangs mid-run', () => {
  test('PostgreSQL stopped between two messages: the second tempfails, nothing forwarded, counted', async (t) => {
    const own = await startPostgres(t)
    await own.sql(schema('pg') + DATA)
    const filter = { lookup_sql_dsn: [own.url] }
    const first = await run(filter)
    after(() => closeLookupClients(first.cfg))
    assert.equal(first.actions['low@example.com'], 'BOUNCE')
    await own.stop()
    const second = await run(filter)
    after(() => closeLookupClients(second.cfg))
    assert.deepEqual(Object.values(second.actions), ['TEMPFAIL', 'TEMPFAIL', 'TEMPFAIL'])
    assert.deepEqual(second.forwarded, [])
    assert.match(second.out.replies.join('\n'), /^4\d\d /m)
    assert.equal(second.out.counters.get('LookupFailures'), 1)
    assert.ok(second.out.counters.get('InMsgsStatusTempFailed')! >= 1)
    // lookup_failure: defaults: the static tables answer, and it is logged and counted, not silent.
    const fallback = await run({ ...filter, lookup_failure: 'defaults' })
    after(() => closeLookupClients(fallback.cfg))
    assert.deepEqual(Object.values(fallback.actions), ['BOUNCE', 'BOUNCE', 'BOUNCE'])
    assert.equal(fallback.out.counters.get('LookupFailures'), 1)
    assert.ok(fallback.logs.some((l) => /lookup FAILED, static lookup tables used/.test(l)))
  })

  test('slapd stopped: tempfail; an LDAP server that never answers: tempfail within lookup_timeout_ms', async (t) => {
    const own = await startSlapd(t)
    await own.add(LDIF)
    const ldapFilter = (url: string) => ({ enable_ldap: true, default_ldap: { hostname: url, base: PEOPLE } })
    const first = await run(ldapFilter(own.url))
    assert.equal(first.actions['low@example.com'], 'BOUNCE')
    await own.stop()
    const second = await run(ldapFilter(own.url))
    assert.deepEqual(Object.values(second.actions), ['TEMPFAIL', 'TEMPFAIL', 'TEMPFAIL'])
    assert.deepEqual(second.forwarded, [])
    assert.equal(second.out.counters.get('LookupFailures'), 1)

    const sockets = new Set<Socket>()
    const hung = createServer((s) => {
      sockets.add(s)
      s.on('error', () => {})
      s.resume()
    })
    await new Promise<void>((r) => hung.listen(0, '127.0.0.1', r))
    t.after(() => {
      for (const s of sockets) s.destroy()
      hung.close()
    })
    const port = (hung.address() as { port: number }).port
    const third = await run({ ...ldapFilter(`ldap://127.0.0.1:${port}`), lookup_timeout_ms: 800 })
    assert.deepEqual(Object.values(third.actions), ['TEMPFAIL', 'TEMPFAIL', 'TEMPFAIL'])
    assert.deepEqual(third.forwarded, [])
    assert.equal(third.out.counters.get('LookupTimeouts'), 1)
    assert.ok(third.ms < 800 + 5000, `bounded: ${third.ms} ms`)
  })
})
