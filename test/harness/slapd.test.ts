import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Client } from 'ldapts'
import { startSlapd } from './index.ts'

test('startSlapd serves the amavis schema Debian ships: an amavisAccount entry is stored and found', async (t) => {
  const ldap = await startSlapd(t)
  assert.equal(ldap.url, `ldap://127.0.0.1:${ldap.port}`)
  await ldap.add(
    [
      'dn: cn=u1,dc=example,dc=com',
      'objectClass: inetOrgPerson',
      'objectClass: amavisAccount',
      'cn: u1',
      'sn: u1',
      'mail: u1@example.com',
      'amavisSpamKillLevel: 4.5',
      'amavisSpamLover: TRUE',
      'amavisBlacklistSender: @.spam.example',
      '',
    ].join('\n'),
  )
  // An attribute the schema does not define is refused: the schema really is loaded and enforced.
  await assert.rejects(
    ldap.add('dn: cn=u2,dc=example,dc=com\nobjectClass: inetOrgPerson\ncn: u2\nsn: u2\namavisSpamLover: TRUE\n'),
    /amavisSpamLover|objectClass|not allowed/i,
  )
  const client = new Client({ url: ldap.url, timeout: 2000, connectTimeout: 2000 })
  t.after(() => client.unbind().catch(() => {}))
  const { searchEntries } = await client.search(ldap.suffix, {
    filter: '(&(objectClass=amavisAccount)(mail=u1@example.com))',
  })
  assert.equal(searchEntries.length, 1)
  assert.equal(searchEntries[0].amavisSpamKillLevel, '4.5')
  assert.equal(searchEntries[0].amavisSpamLover, 'TRUE')
})

test('stopping slapd frees its port', async (t) => {
  const ldap = await startSlapd(t)
  await ldap.stop()
  assert.equal(ldap.process.running(), false)
  const client = new Client({ url: ldap.url, timeout: 1000, connectTimeout: 1000 })
  await assert.rejects(client.search(ldap.suffix, { filter: '(objectClass=*)' }), /ECONNREFUSED/)
})
