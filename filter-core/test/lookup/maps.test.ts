import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createAclTable } from '../../src/lookup/acl.ts'
import { createConstantTable } from '../../src/lookup/constant.ts'
import { createHashTable } from '../../src/lookup/hash.ts'
import { createMapsList } from '../../src/lookup/maps.ts'
import { createRegexpTable } from '../../src/lookup/regexp.ts'
import type { LookupValue } from '../../src/lookup/table.ts'

// README.lookups, A CONSTANT: "a Perl scalar ... matches any key, and the value of the scalar is
// returned as the match value ... useful as a last-resort (catchall, default) value", e.g.
//   @spam_kill_level_maps = (\%some_hash, 6.0);
test('a constant at the end of a list is the default (README @spam_kill_level_maps example)', () => {
  const maps = createMapsList([createHashTable({ 'boss@example.com': 20 }), createConstantTable(6.0)])
  assert.equal(maps.lookup('boss@example.com'), 20)
  assert.equal(maps.lookup('joe@example.com'), 6.0)
})

// "the default sequence of lookups: SQL, LDAP, hash, ACL, regexp, constant. The first that
// returns a definitive answer (not undef/NULL) stops the search."
test('the first table with a defined answer wins; a false answer is an answer', () => {
  const maps = createMapsList<LookupValue>([
    createHashTable<LookupValue>({ 'a@example.com': null }),
    createAclTable(['!b@example.com', '.example.com']),
    createRegexpTable([['/^c@/', 'from-re']]),
    createConstantTable('deflt'),
  ])
  assert.equal(maps.lookup('a@example.com'), true, 'undef in the hash falls through to the ACL')
  assert.equal(maps.lookup('b@example.com'), false, 'the negated ACL entry stops the search')
  assert.equal(maps.lookup('c@other.org'), 'from-re')
  assert.equal(maps.lookup('d@other.org'), 'deflt')
})

test('an empty list and a null constant answer nothing', () => {
  assert.equal(createMapsList([]).lookup('a@example.com'), undefined)
  assert.equal(createMapsList([createConstantTable(null)]).match('a@example.com'), undefined)
})
