import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createAclTable } from '../../src/lookup/acl.ts'

// README.lookups, LIST LOOKUPS (ACL): every example of the README, verbatim.
const readme: [string[], string, boolean | undefined, string][] = [
  [['me.ac.uk', '!.ac.uk', '.uk'], 'u@me.ac.uk', true, 'matches me.ac.uk, returns true and search stops'],
  [['me.ac.uk', '!.ac.uk', '.uk'], 'u@you.ac.uk', false, "matches .ac.uk, returns false (because of '!')"],
  [['me.ac.uk', '!.ac.uk', '.uk'], 'u@them.co.uk', true, 'matches .uk, returns true'],
  [['me.ac.uk', '!.ac.uk', '.uk'], 'u@some.com', undefined, 'does not match anything, falls through'],
  [['me.ac.uk', '!.ac.uk', '.uk', '!.'], 'u@some.com', false, 'returns 0 instead of undef'],
  [['me.ac.uk', '!.ac.uk', '.uk', '.'], 'u@some.com', true, 'matches catchall "."'],
]
for (const [acl, addr, want, why] of readme) {
  test(`acl ${acl.join(' ')}: ${addr} ${why}`, () => {
    assert.equal(createAclTable(acl).lookup(addr), want)
  })
}

// The README's "more complex example".
const complex = createAclTable([
  '!The.Boss@dept1.xxx.com',
  '.dept1.xxx.com',
  '.dept2.xxx.com',
  '.dept3.xxx.com',
  'lab.dept4.xxx.com',
  'sub.xxx.com',
  '!.sub.xxx.com',
  'me.d.aaa.com',
  'him.d.aaa.com',
  '!.d.aaa.com',
  '.aaa.com',
])
const complexCases: [string, boolean | undefined][] = [
  ['the.boss@dept1.xxx.com', false],
  ['worker@dept1.xxx.com', true],
  ['x@a.dept2.xxx.com', true],
  ['x@lab.dept4.xxx.com', true],
  ['x@other.dept4.xxx.com', undefined],
  ['x@sub.xxx.com', true],
  ['x@a.sub.xxx.com', false],
  ['x@me.d.aaa.com', true],
  ['x@you.d.aaa.com', false],
  ['x@www.aaa.com', true],
]
for (const [addr, want] of complexCases) {
  test(`the README's complex acl answers ${want} for ${addr}`, () => assert.equal(complex.lookup(addr), want))
}

test('acl search is case-insensitive and not aware of address extensions', () => {
  const acl = createAclTable(['joe@Example.COM'])
  assert.equal(acl.lookup('JOE@example.com'), true)
  assert.equal(acl.lookup('joe+tag@example.com'), undefined)
})

test('an even number of ! does not negate', () => {
  assert.equal(createAclTable(['!!example.com']).lookup('a@example.com'), true)
})
