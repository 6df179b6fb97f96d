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
