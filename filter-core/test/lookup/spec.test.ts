import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildIpMaps, buildMaps, buildPerRecipientTables, mapsSchema } from '../../src/lookup/spec.ts'

test('every table form of the config builds into one *_maps list, first defined answer winning', () => {
  const maps = buildMaps(
    [
      { 'boss@example.com': 20, 'nobody@example.com': null },
      ['!.sales.example.com'],
      { regexp: [['/^(.*)@lab\\.example\\.com$/i', 12]] },
      null,
      6.9,
    ],
    'number',
  )
  assert.equal(maps.lookup('Boss+x@Example.com'), 20)
  assert.equal(maps.lookup('nobody@example.com'), 6.9)
  assert.equal(maps.lookup('a@eu.sales.example.com'), false)
  assert.equal(maps.lookup('a@LAB.example.com'), 12)
  assert.equal(maps.lookup('a@example.org'), 6.9)
})

test('the schema reports every bad regexp, network and wrong-typed value with its path', () => {
  const r = mapsSchema('number').safeParse([{ 'a@example.com': 'high' }, { regexp: ['/(/'] }, 'six'])
  assert.equal(r.success, false)
  assert.deepEqual(
    r.error!.issues.map((i) => i.path.join('.')),
    ['0.a@example.com', '1.regexp.0', '2'],
  )
  const b = mapsSchema('boolean').safeParse(['user@example.com'])
  assert.match(b.error!.issues[0].message, /always true here; write an ACL as a list/)
  const problems: string[] = []
  buildIpMaps([['10.0.0.0/8', '10.0.0.0/99'], '192.0.2.0/24'], (p) => problems.push(p.join('.')))
  assert.deepEqual(problems, ['0.1', '1'])
})

test('per-recipient sender tables: the recipient chooses a table by hash semantics, the sender is looked up in it', () => {
  const t = buildPerRecipientTables({
    '.example.com': ['friend@partner.test'],
    'joe@example.com': { 'mom@family.test': 1 },
  })
  assert.equal(t.lookup('joe+lists@example.com')?.lookup('mom@family.test'), 1)
  assert.equal(t.lookup('ann@sub.example.com')?.lookup('friend@partner.test'), true)
  assert.equal(t.lookup('ann@example.org'), undefined)
})
