import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { createScope, startSlapd, type SlapdInstance } from '../../../test/harness/index.ts'
import { filterConfigSchema } from '../../src/config.ts'
import { DEFAULT_KEY_OPTIONS } from '../../src/lookup/address-keys.ts'
import {
  baseFor,
  createLdapLookup,
  escapeFilterValue,
  expandFilter,
  DEFAULT_LDAP_FILTER,
} from '../../src/lookup/ldap.ts'
import { closeLookupClients, fetchDynamicAnswers } from '../../src/lookup/prefetch.ts'
import { createSettingsLookup } from '../../src/pipeline/settings.ts'
import { LDIF, PEOPLE } from './amavis-ldap-fixture.ts'

test('query_filter: (mail=%m) becomes an OR over the escaped keys; base %d is the domain', () => {
  const { filter, attrs } = expandFilter(DEFAULT_LDAP_FILTER, ['a*b@x.org', '@.'])
  assert.equal(filter, '(&(objectClass=amavisAccount)(|(mail=a\\2ab@x.org)(mail=@.)))')
  assert.deepEqual(attrs, ['mail'])
  assert.equal(escapeFilterValue('(a)\\'), '\\28a\\29\\5c')
  assert.equal(baseFor('ou=%d,dc=hosting', 'u@Sub.Example.com'), 'ou=sub.example.com,dc=hosting')
})

const scope = createScope()
let ldap: SlapdInstance
before(async () => {
  ldap = await startSlapd(scope)
  await ldap.add(LDIF)
})
after(() => scope.close())

const settings = () => ({ hostname: ldap.url, base: PEOPLE, scope: 'sub' as const, query_filter: DEFAULT_LDAP_FILTER })

test('entries come most specific first (by the position of their mail among the keys), attributes lower-cased', async () => {
  const l = createLdapLookup(settings(), DEFAULT_KEY_OPTIONS, false, 3000)
  const [lover, other] = await l.lookupAll([
    { addr: 'lover@example.com', isLocal: true },
    { addr: 'other@example.com', isLocal: true },
  ])
  assert.deepEqual(
    lover.map((e) => e.mail),
    ['lover@example.com', '@example.com', '@.'],
  )
  assert.deepEqual(lover[0].amavisblacklistsender, ['@spam.example'])
  assert.equal(lover[2].amavislocal, null, 'the catch-all says nothing of locality')
  assert.deepEqual(
    other.map((e) => e.mail),
    ['@example.com', '@.'],
  )
})

test('LDAP answers feed the settings maps (TRUE/FALSE booleans, numbers), and white/blacklist the sender', async () => {
  const cfg = filterConfigSchema.parse({
    enable_ldap: true,
    default_ldap: settings(),
    local_domains_maps: ['example.com'],
  })
  after(() => closeLookupClients(cfg))
  const base = createSettingsLookup(cfg)
  const counts = { sql: 0, ldap: 0 }
  const rcpts = ['lover@example.com', 'low@example.com', 'other@example.com', 'x@elsewhere.org']
  const s = base.withDynamic(
    await fetchDynamicAnswers({
      cfg,
      recipients: rcpts,
      sender: 'x@spam.example',
      isLocal: (a) => base.isLocal(a),
      counts,
    }),
  )
  assert.equal(counts.ldap, rcpts.length)
  assert.deepEqual(
    [s.settingsFor('lover@example.com').spamLover, s.settingsFor('lover@example.com').killLevel],
    [true, 3],
  )
  assert.equal(s.settingsFor('other@example.com').killLevel, 8, 'no kill level in @example.com: the catch-all answers')
  const low = s.settingsFor('low@example.com')
  assert.deepEqual([low.killLevel, low.tag2Level, low.spamSubjectTag], [3, 2, '[LOW] '])
  assert.equal(s.settingsFor('other@example.com').spamLover, false)
  assert.equal(s.settingsFor('x@elsewhere.org').killLevel, 8)
  assert.equal(s.isLocal('x@elsewhere.org'), false)
  assert.equal(s.isLocal('low@example.com'), true)
  assert.equal(s.senderListing('lover@example.com', ['x@spam.example']).blacklisted, true)
  assert.equal(s.senderListing('x@elsewhere.org', ['x@spam.example']).blacklisted, true)
  const s2 = base.withDynamic(
    await fetchDynamicAnswers({
      cfg,
      recipients: ['lover@example.com'],
      sender: 'friend@sender.example',
      isLocal: () => true,
      counts,
    }),
  )
  assert.deepEqual(s2.senderListing('lover@example.com', ['friend@sender.example']), {
    whitelisted: true,
    blacklisted: false,
  })
})

test('bind_dn binds; a wrong password or a stopped server rejects', async (t) => {
  const ok = createLdapLookup(
    { ...settings(), bind_dn: ldap.rootDn, bind_password: ldap.rootPassword },
    DEFAULT_KEY_OPTIONS,
    false,
    3000,
  )
  assert.equal((await ok.lookupAll([{ addr: 'low@example.com', isLocal: true }]))[0][0].mail, 'low@example.com')
  const bad = createLdapLookup(
    { ...settings(), bind_dn: ldap.rootDn, bind_password: 'wrong' },
    DEFAULT_KEY_OPTIONS,
    false,
    3000,
  )
  await assert.rejects(bad.lookupAll([{ addr: 'low@example.com', isLocal: true }]), /InvalidCredentials/)
  const own = await startSlapd(t)
  const gone = createLdapLookup({ ...settings(), hostname: own.url }, DEFAULT_KEY_OPTIONS, false, 2000)
  await own.stop()
  await assert.rejects(gone.lookupAll([{ addr: 'low@example.com', isLocal: true }]), /ECONNREFUSED/)
})
