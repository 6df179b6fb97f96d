import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { createScope, startPostgres, tmpDir, type PostgresInstance } from '../../../test/harness/index.ts'
import { filterConfigSchema } from '../../src/config.ts'
import { createSettingsLookup } from '../../src/pipeline/settings.ts'
import { DEFAULT_KEY_OPTIONS } from '../../src/lookup/address-keys.ts'
import { closeLookupClients, fetchDynamicAnswers } from '../../src/lookup/prefetch.ts'
import { makeQueryKeys } from '../../src/lookup/query-keys.ts'
import {
  createSqlLookup,
  expandClause,
  DEFAULT_SQL_SELECT_POLICY,
  DEFAULT_SQL_SELECT_WBLIST,
} from '../../src/lookup/sql.ts'
import { DATA, createSqliteFile, schema } from './amavis-sql-fixture.ts'

test('make_query_keys for SQL: bare users only for local recipients, domains with @ (README.lookups order)', () => {
  assert.deepEqual(makeQueryKeys('User+Foo@Sub.Example.COM', false, true, DEFAULT_KEY_OPTIONS).keys, [
    'User+Foo@Sub.Example.COM',
    'user+foo@sub.example.com',
    'user@sub.example.com',
    'user+foo',
    'user',
    '@sub.example.com',
    '@.sub.example.com',
    '@.example.com',
    '@.com',
    '@.',
  ])
  assert.deepEqual(makeQueryKeys('u@x.org', false, false, DEFAULT_KEY_OPTIONS).keys, [
    'u@x.org',
    '@x.org',
    '@.x.org',
    '@.org',
    '@.',
  ])
})

test('expandClause: %k becomes one ? per key, ? takes the extra arguments in order', () => {
  const e = expandClause(DEFAULT_SQL_SELECT_WBLIST, ['a@b', '@b'], ['a@b', 'a', 'a', '', 'b'], false, [17])
  assert.equal(e.text.includes('wblist.rid=? AND mailaddr.email IN (?,?)'), true)
  assert.deepEqual(e.params, [17, 'a@b', '@b'])
  const p = expandClause('SELECT 1 WHERE %d = ? AND %L', [], ['u@d', 'u', 'u', '', 'd'], true, ['x'])
  assert.deepEqual(p, { text: 'SELECT 1 WHERE ? = ? AND ?', params: ['d', 'x', '1'] })
})

const scope = createScope()
let pgdb: PostgresInstance
let sqliteDsn: string
before(async () => {
  pgdb = await startPostgres(scope)
  await pgdb.sql(schema('pg') + DATA)
  sqliteDsn = createSqliteFile(join(await tmpDir(scope, 'sqlite'), 'mail_prefs.sqlite'))
})
after(() => scope.close())

for (const kind of ['pg', 'sqlite'] as const) {
  describe(`SQL lookups on ${kind === 'pg' ? 'PostgreSQL' : 'SQLite'} (amavis schema, default queries)`, () => {
    const dsn = () => (kind === 'pg' ? pgdb.url : sqliteDsn)

    test('$sql_select_policy rows come best first (users.priority DESC), users.id wins over policy.id', async () => {
      const sql = createSqlLookup({
        dsns: [dsn()],
        selectPolicy: DEFAULT_SQL_SELECT_POLICY,
        selectWbList: DEFAULT_SQL_SELECT_WBLIST,
        noAtMeansDomain: false,
        keys: DEFAULT_KEY_OPTIONS,
        timeoutMs: 3000,
      })
      try {
        const rows = await sql.policy('u+foo@example.com', true)
        assert.deepEqual(
          rows.map((r) => [r.email, Number(r.id), r.policy_name]),
          [
            ['u+foo@example.com', 3, 'Normal'],
            ['@example.com', 4, 'Normal'],
            ['@.', 5, 'catchall'],
          ],
        )
        assert.equal(rows[2].local, null, 'the catch-all says nothing of locality')
        assert.deepEqual(
          (await sql.policy('bare@example.com', true)).map((r) => Number(r.id)),
          [6, 4, 5],
        )
        assert.deepEqual(
          (await sql.policy('bare@example.com', false)).map((r) => Number(r.id)),
          [4, 5],
        )
      } finally {
        await sql.close()
      }
    })

    test('answers feed the settings maps: SQL first, NULL falls through to the next row, then the static tables', async () => {
      const cfg = filterConfigSchema.parse({
        lookup_sql_dsn: [dsn()],
        local_domains_maps: ['example.com'],
        spam_lovers_maps: [{ 'other@example.com': true }],
      })
      after(() => closeLookupClients(cfg))
      const base = createSettingsLookup(cfg)
      const rcpts = ['lover@example.com', 'low@example.com', 'other@example.com', 'x@elsewhere.org']
      const counts = { sql: 0, ldap: 0 }
      const answers = await fetchDynamicAnswers({
        cfg,
        recipients: rcpts,
        sender: 'x@spam.example',
        isLocal: (a) => base.isLocal(a),
        counts,
      })
      const s = base.withDynamic(answers)
      const lover = s.settingsFor('lover@example.com')
      assert.equal(lover.spamLover, true)
      assert.equal(lover.killLevel, 3)
      assert.equal(
        s.settingsFor('other@example.com').killLevel,
        8,
        'kill level NULL in its Normal policy: the catch-all row answers',
      )
      const low = s.settingsFor('low@example.com')
      assert.deepEqual([low.killLevel, low.tag2Level, low.spamSubjectTag, low.spamLover], [3, 2, '[LOW] ', false])
      // other@: the Normal policy says spam_lover 'N', which is an answer: the static table is not asked.
      assert.equal(s.settingsFor('other@example.com').spamLover, false)
      assert.equal(base.settingsFor('other@example.com').spamLover, true)
      assert.equal(s.settingsFor('x@elsewhere.org').killLevel, 8)
      // users has no `local` column: a recipient found is local; the catch-all alone is not.
      assert.equal(s.isLocal('lover@example.com'), true)
      assert.equal(s.isLocal('x@elsewhere.org'), false)
      // wblist: lover (rid 1) blacklists @spam.example; other@ has none of its own, the catch-all (rid 5) does.
      assert.deepEqual(s.senderListing('lover@example.com', ['x@spam.example']), {
        whitelisted: false,
        blacklisted: true,
      })
      assert.deepEqual(s.senderListing('other@example.com', ['x@spam.example']), {
        whitelisted: false,
        blacklisted: true,
      })
      assert.ok(counts.sql >= rcpts.length * 2, `one policy query per recipient, wblist per users.id (${counts.sql})`)
    })

    test('wblist: W whitelists, a space is neutral (found: no static fallback), subdomain keys @.domain match', async () => {
      const cfg = filterConfigSchema.parse({
        lookup_sql_dsn: [dsn()],
        whitelist_sender_maps: [{ '.sender.example': true }],
      })
      after(() => closeLookupClients(cfg))
      const base = createSettingsLookup(cfg)
      const fetch = (sender: string) =>
        fetchDynamicAnswers({
          cfg,
          recipients: ['lover@example.com', 'low@example.com'],
          sender,
          isLocal: () => false,
          counts: { sql: 0, ldap: 0 },
        })
      const s1 = base.withDynamic(await fetch('friend@sender.example'))
      assert.deepEqual(s1.senderListing('lover@example.com', ['friend@sender.example']), {
        whitelisted: true,
        blacklisted: false,
      })
      const s2 = base.withDynamic(await fetch('a@sub.sender.example'))
      assert.deepEqual(s2.senderListing('low@example.com', ['a@sub.sender.example']), {
        whitelisted: false,
        blacklisted: false,
      })
      // Without a SQL answer the static whitelist_sender_maps still answers.
      assert.equal(base.senderListing('low@example.com', ['a@sub.sender.example']).whitelisted, true)
    })
  })
}

test('a DSN list fails over: a dead PostgreSQL first, the SQLite file answers', async () => {
  const sql = createSqlLookup({
    dsns: ['postgres://vscan@127.0.0.1:1/mail_prefs', sqliteDsn],
    selectPolicy: DEFAULT_SQL_SELECT_POLICY,
    selectWbList: DEFAULT_SQL_SELECT_WBLIST,
    noAtMeansDomain: false,
    keys: DEFAULT_KEY_OPTIONS,
    timeoutMs: 2000,
  })
  try {
    assert.equal(Number((await sql.policy('low@example.com', false))[0].id), 2)
  } finally {
    await sql.close()
  }
})

test('a database that is gone rejects (nothing is answered from defaults here)', async () => {
  const cfg = filterConfigSchema.parse({
    lookup_sql_dsn: ['postgres://vscan@127.0.0.1:1/mail_prefs'],
    lookup_timeout_ms: 3000,
  })
  after(() => closeLookupClients(cfg))
  await assert.rejects(
    fetchDynamicAnswers({
      cfg,
      recipients: ['a@example.com'],
      sender: '',
      isLocal: () => false,
      counts: { sql: 0, ldap: 0 },
    }),
    /ECONNREFUSED/,
  )
})

test('the config rejects a DSN that is not postgres:// or sqlite:, and an LDAP filter without %m, with their paths', () => {
  const r = filterConfigSchema.safeParse({
    lookup_sql_dsn: ['postgres://vscan@127.0.0.1/mail_prefs', 'DBI:mysql:database=mail'],
    enable_ldap: true,
    default_ldap: { base: 'dc=example,dc=com', query_filter: '(mail=*)' },
    lookup_failure: 'pass',
  })
  assert.equal(r.success, false)
  const paths = r.error!.issues.map((i) => i.path.join('.')).sort()
  assert.deepEqual(paths, ['default_ldap.query_filter', 'lookup_failure', 'lookup_sql_dsn.1'])
})
