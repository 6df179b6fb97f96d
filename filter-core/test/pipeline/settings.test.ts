import { test } from 'node:test'
import assert from 'node:assert/strict'
import { cidrContains, createSettingsLookup, isLocalDomain, parseCidr } from '../../src/pipeline/settings.ts'
import { filterConfigSchema } from '../../src/config.ts'

const nets: [string, string, boolean][] = [
  ['127.0.0.0/8', '127.1.2.3', true],
  ['127.0.0.0/8', '128.0.0.1', false],
  ['10.0.0.0/8', '::ffff:10.1.2.3', true],
  ['192.168.0.0/16', '192.169.0.1', false],
  ['::1/128', '::1', true],
  ['::1', '::2', false],
  ['fe80::/10', 'fe80::1', true],
  ['fe80::/10', 'fec0::1', false],
  ['2001:db8::/32', 'IPv6:2001:db8:1::25', true],
  ['[2001:db8::]/32', '2001:db9::1', false],
  ['192.0.2.0/24', '2001:db8::1', false],
]
for (const [net, ip, want] of nets) {
  test(`mynetworks ${net} ${want ? 'contains' : 'does not contain'} ${ip}`, () => {
    assert.equal(cidrContains(parseCidr(net), ip), want)
  })
}

const domains: [string[], string, boolean][] = [
  [['example.com'], 'example.com', true],
  [['example.com'], 'sub.example.com', false],
  [['.example.com'], 'sub.example.com', true],
  [['.example.com'], 'example.com', true],
  [['.example.com'], 'badexample.com', false],
  [['.'], 'anything.org', true],
  [['!sub.example.com', '.example.com'], 'sub.example.com', false],
  [[], 'example.com', false],
]
for (const [maps, d, want] of domains) {
  test(`local_domains_maps ${JSON.stringify(maps)} ${want ? 'matches' : 'does not match'} ${d}`, () => {
    assert.equal(isLocalDomain(d, maps), want)
  })
}

test('settingsFor gives each recipient the destinies and levels of the config', () => {
  const cfg = filterConfigSchema.parse({
    final_spam_destiny: 'D_REJECT',
    sa_tag2_level_deflt: 5,
    local_domains_maps: ['.example.test'],
  })
  const s = createSettingsLookup(cfg)
  const r = s.settingsFor('a@example.test')
  assert.equal(r.spamDestiny, -3)
  assert.equal(r.virusDestiny, 0)
  assert.equal(r.bannedDestiny, -2)
  assert.equal(r.badHeaderDestiny, 1)
  assert.equal(r.tag2Level, 5)
  assert.equal(r.killLevel, 6.9)
  assert.equal(s.isLocal('A@Sub.Example.Test'), true)
  assert.equal(s.isLocal('a@example.org'), false)
  assert.equal(s.isMyNetwork('10.0.0.1'), true)
  assert.equal(s.isMyNetwork(undefined), false)
})

test('the filter config defaults are amavis/Debian defaults and reject unknown keys', () => {
  const cfg = filterConfigSchema.parse({})
  assert.equal(cfg.max_servers, 2)
  assert.equal(cfg.max_requests, 1000)
  assert.equal(cfg.min_spare_servers, 1)
  assert.equal(cfg.sa_tag_level_deflt, 2)
  assert.equal(cfg.sa_tag2_level_deflt, 6.2)
  assert.equal(cfg.sa_kill_level_deflt, 6.9)
  assert.equal(cfg.final_virus_destiny, 'D_DISCARD')
  assert.equal(cfg.final_banned_destiny, 'D_BOUNCE')
  assert.equal(cfg.final_spam_destiny, 'D_BOUNCE')
  assert.equal(cfg.final_bad_header_destiny, 'D_PASS')
  assert.equal(cfg.spool_threshold_bytes, 100 * 1024)
  assert.deepEqual(cfg.listen, ['127.0.0.1:10024'])
  assert.equal(cfg.forward_method, 'smtp:[127.0.0.1]:10025')
  const bad = filterConfigSchema.safeParse({ max_server: 3, forward_method: 'smtp:nowhere', listen: ['nope'] })
  assert.equal(bad.success, false)
  const paths = bad.error!.issues.map((i) => i.path.join('.')).sort()
  assert.deepEqual(paths, ['', 'forward_method', 'listen.0'].sort())
})

test('policy banks load for the listener, then MYNETS for @mynetworks clients, later ones winning', () => {
  const cfg = filterConfigSchema.parse({
    mynetworks: ['10.0.0.0/8'],
    policy_banks: {
      SUBMISSION: { bypass_spam_checks: true, final_virus_destiny: 'D_REJECT', virus_admin: 'sub@example.test' },
      MYNETS: { virus_admin: 'mynets@example.test', originating: true },
      NOTORIG: { originating: false },
    },
  })
  const s = createSettingsLookup(cfg)
  assert.deepEqual(s.banksFor('SUBMISSION', '10.1.1.1'), ['SUBMISSION', 'MYNETS'])
  assert.deepEqual(s.banksFor('SUBMISSION', '192.0.2.1'), ['SUBMISSION'])
  assert.deepEqual(s.banksFor('UNDEFINED', undefined), [])
  const b = s.withBanks(['SUBMISSION', 'MYNETS'])
  assert.deepEqual(b.banks, ['SUBMISSION', 'MYNETS'])
  const r = b.settingsFor('a@example.org')
  assert.equal(r.bypassSpamChecks, true)
  assert.equal(r.virusDestiny, -3)
  assert.equal(r.virusAdmin, 'mynets@example.test')
  assert.equal(s.settingsFor('a@example.org').bypassSpamChecks, false, 'the defaults are untouched')
  assert.equal(s.isOriginating('10.1.1.1'), true)
  assert.equal(s.withBanks(['NOTORIG']).isOriginating('10.1.1.1'), false)
  assert.equal(filterConfigSchema.safeParse({ policy_banks: { X: { no_such_key: 1 } } }).success, false)
})

test('per-recipient maps: a spam lover, a lowered kill level and the default in one message', () => {
  const cfg = filterConfigSchema.parse({
    spam_lovers_maps: [['lover@example.test']],
    spam_kill_level_maps: [{ 'strict@example.test': 3.5 }, 8],
    spam_tag2_level_maps: [{ regexp: [['/^strict@/', 3]] }, 5],
  })
  const s = createSettingsLookup(cfg).withBanks([])
  const [lover, strict, deflt] = ['lover@example.test', 'Strict+news@Example.TEST', 'x@example.test'].map((r) =>
    s.settingsFor(r),
  )
  assert.equal(lover.spamLover, true)
  assert.equal(strict.spamLover, false)
  assert.equal(strict.killLevel, 3.5, 'the hash strips the +news extension and folds the domain case')
  assert.equal(strict.tag2Level, 5, 'the regexp is case-sensitive and sees the unmodified address')
  assert.equal(deflt.killLevel, 8, 'the constant at the end is the default')
  assert.equal(deflt.tagLevel, 2, 'an absent map is amavis default: the scalar sa_tag_level_deflt')
  assert.equal(s.settingsFor('x@example.test'), deflt, 'answers are cached for the message')
})

test('a given map replaces the scalar default; no answer is amavis undef', () => {
  const cfg = filterConfigSchema.parse({
    spam_kill_level_maps: [{ 'a@example.test': 5 }],
    spam_quarantine_to_maps: [{ '.example.test': 'spam-${3}@quarantine.test' }],
    spam_tag_level_maps: [],
  })
  const s = createSettingsLookup(cfg)
  assert.equal(s.settingsFor('b@example.org').killLevel, Infinity, 'undef kill level: never killed')
  assert.equal(s.settingsFor('b@example.org').tagLevel, -Infinity, 'undef tag level: always tagged')
  assert.equal(s.settingsFor('b@example.org').spamQuarantineTo, '')
  assert.equal(s.settingsFor('Joe+x@example.test').spamQuarantineTo, 'spam-joe@quarantine.test')
  assert.equal(s.settingsFor('b@example.org').virusQuarantineTo, 'virus-quarantine')
  assert.equal(s.settingsFor('b@example.org').tag3Level, Infinity)
  assert.equal(s.settingsFor('b@example.org').messageSizeLimit, 0)
})

test('policy banks set maps too; banned_filename_maps names %banned_rules', () => {
  const cfg = filterConfigSchema.parse({
    banned_rules: { NONE: [], EXE: [{ pattern: '\\.exe$' }] },
    policy_banks: {
      CUSTOMER: { spam_kill_level_maps: [{ '.customer.test': 15 }, 9], banned_filename_maps: ['EXE'] },
    },
  })
  const s = createSettingsLookup(cfg)
  const b = s.withBanks(['CUSTOMER'])
  assert.equal(b.settingsFor('a@shop.customer.test').killLevel, 15)
  assert.equal(b.settingsFor('a@other.test').killLevel, 9)
  assert.equal(s.settingsFor('a@shop.customer.test').killLevel, 6.9)
  assert.deepEqual(b.settingsFor('a@x.test').bannedRules, [{ pattern: '\\.exe$' }])
  assert.deepEqual(s.settingsFor('a@x.test').bannedRules, cfg.banned_filename_re, 'DEFAULT is banned_filename_re')
})

test('white/blacklists: the recipient table of per_recip_*_lookup_tables first, then *_sender_maps', () => {
  const cfg = filterConfigSchema.parse({
    whitelist_sender_maps: [['.partner.test']],
    blacklist_sender_maps: [{ 'spammer@bad.test': 1 }],
    per_recip_whitelist_sender_lookup_tables: { 'ann@example.test': { 'spammer@bad.test': 1 } },
    per_recip_blacklist_sender_lookup_tables: { '.example.test': ['!spammer@bad.test', '.partner.test'] },
  })
  const s = createSettingsLookup(cfg)
  assert.deepEqual(s.senderListing('ann@example.test', ['spammer@bad.test']), { whitelisted: true, blacklisted: false })
  assert.deepEqual(s.senderListing('bob@example.org', ['spammer@bad.test']), { whitelisted: false, blacklisted: true })
  assert.deepEqual(s.senderListing('bob@example.test', ['x@partner.test']), { whitelisted: true, blacklisted: true })
  assert.deepEqual(s.senderListing('bob@example.org', ['', 'x@other.test']), { whitelisted: false, blacklisted: false })
})

test('mynetworks_maps: first table that knows the client, IPv4-mapped IPv6 as IPv4, default @mynetworks', () => {
  const s = createSettingsLookup(
    filterConfigSchema.parse({ mynetworks_maps: [['!10.9.0.0/16'], ['10.0.0.0/8', '2001:db8::/32']] }),
  )
  assert.equal(s.isMyNetwork('10.1.2.3'), true)
  assert.equal(s.isMyNetwork('::ffff:10.1.2.3'), true)
  assert.equal(s.isMyNetwork('10.9.2.3'), false)
  assert.equal(s.isMyNetwork('2001:db8::25'), true)
  assert.equal(s.isMyNetwork('127.0.0.1'), false, 'the given maps replace @mynetworks')
  assert.equal(createSettingsLookup(filterConfigSchema.parse({})).isMyNetwork('::1'), true)
})

test('local_domains_maps: the flat list is one ACL, a list of tables is amavis @local_domains_maps', () => {
  const flat = createSettingsLookup(
    filterConfigSchema.parse({ local_domains_maps: ['.example.test', '!x.example.test'] }),
  )
  assert.equal(flat.isLocal('a@b.example.test'), true)
  const maps = createSettingsLookup(
    filterConfigSchema.parse({ local_domains_maps: [{ 'x.example.test': 0 }, ['.example.test']] }),
  )
  assert.equal(maps.isLocal('a@x.example.test'), false)
  assert.equal(maps.isLocal('a@y.example.test'), true)
  assert.equal(
    createSettingsLookup(filterConfigSchema.parse({ local_domains_maps: [true] })).isLocal('a@any.test'),
    true,
  )
})

test('the config reports every bad map entry with its path, in banks too', () => {
  const r = filterConfigSchema.safeParse({
    spam_lovers_maps: ['lover@example.test'],
    spam_kill_level_maps: [{ regexp: ['/(unclosed/'] }],
    mynetworks_maps: [['10.0.0.0/8', '10.0.0.300']],
    per_recip_blacklist_sender_lookup_tables: { '.example.test': { regexp: [['/x/q', 1]] } },
    policy_banks: { B: { virus_lovers_maps: [{ regexp: ['/[/'] }], spam_tag2_level_maps: ['high'] } },
  })
  assert.equal(r.success, false)
  assert.deepEqual(r.error!.issues.map((i) => i.path.join('.')).sort(), [
    'mynetworks_maps.0.1',
    'per_recip_blacklist_sender_lookup_tables..example.test.regexp.0.0',
    'policy_banks.B.spam_tag2_level_maps.0',
    'policy_banks.B.virus_lovers_maps.0.regexp.0',
    'spam_kill_level_maps.0.regexp.0',
    'spam_lovers_maps.0',
  ])
})
