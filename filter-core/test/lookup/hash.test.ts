import { test } from 'node:test'
import assert from 'node:assert/strict'
import { hashQueryKeys } from '../../src/lookup/address-keys.ts'
import { createHashTable } from '../../src/lookup/hash.ts'
import { createMapsList } from '../../src/lookup/maps.ts'
import { createConstantTable } from '../../src/lookup/constant.ts'

const plus = { recipientDelimiter: '+', localpartIsCaseSensitive: false }

// README.lookups, HASH LOOKUPS: "Hash lookups (e.g. for User+foo@Sub.Example.com) are performed
// in the following order: user+foo@sub.example.com, user@sub.example.com (only if
// $recipient_delimiter is '+'), user+foo@, user@ (only if $recipient_delimiter is '+'),
// sub.example.com, .sub.example.com, .example.com, .com, ."
test('tries the keys of README.lookups in order, most specific first', () => {
  assert.deepEqual(hashQueryKeys('User+foo@Sub.Example.com', plus).keys, [
    'User+foo@Sub.Example.com', // the key as is, tried first by make_query_keys
    'user+foo@sub.example.com',
    'user@sub.example.com',
    'user+foo@',
    'user@',
    'sub.example.com',
    '.sub.example.com',
    '.example.com',
    '.com',
    '.',
  ])
})

test('without a recipient delimiter the extension is not stripped', () => {
  const keys = hashQueryKeys('user+foo@example.com', { recipientDelimiter: '', localpartIsCaseSensitive: false }).keys
  assert.equal(keys.includes('user@example.com'), false)
  assert.equal(keys.includes('user+foo@example.com'), true)
})

test('a configurable delimiter set splits at the first of its characters, not postmaster or owner-', () => {
  const d = { recipientDelimiter: '+-', localpartIsCaseSensitive: false }
  assert.ok(hashQueryKeys('joe-list@example.com', d).keys.includes('joe@example.com'))
  assert.ok(!hashQueryKeys('owner-list@example.com', d).keys.includes('owner@example.com'))
  assert.ok(!hashQueryKeys('list-request@example.com', d).keys.includes('list@example.com'))
})

// "The lookup_hash for null address goes through the following sequence of keys: "", "@", "."."
test('the null reverse path is looked up as "", "@", "."', () => {
  assert.deepEqual(hashQueryKeys('', plus).keys, ['', '@', '.'])
})

const cases: [Record<string, string | number | null>, string, unknown][] = [
  [{ 'user@example.com': 1 }, 'User+Foo@EXAMPLE.com', 1],
  [{ 'user+foo@example.com': 'ext', 'user@example.com': 'plain' }, 'user+foo@example.com', 'ext'],
  [{ 'user@': 2 }, 'user+x@anywhere.org', 2],
  [{ 'example.com': 3 }, 'a@example.com', 3],
  [{ 'example.com': 3 }, 'a@sub.example.com', undefined],
  [{ '.example.com': 4 }, 'a@example.com', 4],
  [{ '.example.com': 4 }, 'a@deep.sub.example.com', 4],
  [{ '.example.com': 4 }, 'a@badexample.com', undefined],
  [{ '.': 5 }, 'a@anything.test', 5],
  [{ 'Sub.Example.COM': 6 }, 'a@sub.example.com', 6],
  [{ '@example.com': 7 }, 'a@example.com', undefined], // a hash has no @domain key (that is SQL)
]
for (const [h, addr, want] of cases) {
  test(`hash ${JSON.stringify(h)} answers ${JSON.stringify(want)} for ${addr}`, () => {
    assert.equal(createHashTable(h, plus).lookup(addr), want)
  })
}

// "A field value undef implies that the next lookup table (if there are more) is to be tried
// ... Further searching in this table (for possibly more general defaults) is terminated."
test('a key with an undef (null) value ends the search in this table and asks the next one', () => {
  const h = createHashTable({ 'boss@example.com': null, '.example.com': 9 }, plus)
  assert.deepEqual(h.match('boss@example.com'), { key: 'boss@example.com', value: undefined })
  const maps = createMapsList([h, createConstantTable(6.9)])
  assert.equal(maps.lookup('boss@example.com'), 6.9)
  assert.equal(maps.lookup('other@example.com'), 9)
})

test('string values take $1..$5 from the address (address, localpart, user, extension, domain)', () => {
  const h = createHashTable({ '.example.com': 'spam-${3}${4}@$5 <$2>' }, plus)
  assert.equal(h.lookup('Joe+Tag@Example.COM'), 'spam-joe+tag@example.com <Joe+Tag>')
})
