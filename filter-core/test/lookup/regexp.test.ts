import { test } from 'node:test'
import assert from 'node:assert/strict'
import { compilePerlRegexp, createRegexpTable } from '../../src/lookup/regexp.ts'

// README.lookups, REGULAR EXPRESSION LOOKUPS:
//   $virus_quarantine_to = new_RE(
//     [ qr'^(.*)@example\.com$'i => 'virus-${1}@example.com' ],
//     [ qr'^(.*)(@[^@]*)?$'i     => 'virus-${1}${2}' ] );
const quarantine = createRegexpTable([
  ['/^(.*)@example\\.com$/i', 'virus-${1}@example.com'],
  { re: '^(.*)(@[^@]*)?$', flags: 'i', value: 'virus-${1}${2}' },
])
test('new_RE substitutes captures in the result (README virus_quarantine_to example)', () => {
  assert.equal(quarantine.lookup('Joe@Example.COM'), 'virus-Joe@example.com')
  // (.*) is greedy, so ${2} is empty: "Nonexistent references evaluate to empty strings".
  assert.equal(quarantine.lookup('joe@other.org'), 'virus-joe@other.org')
})

// "$acl_re = new_re->new( qr'@me\.ac\.uk$'i, [ qr'[@.]ac\.uk$'i => 0 ], qr'\.uk$'i );"
const aclRe = createRegexpTable(['/@me\\.ac\\.uk$/i', ['/[@.]ac\\.uk$/i', 0], '/\\.uk$/i'])
const aclCases: [string, unknown, string][] = [
  ['user@me.ac.uk', true, 'matches me.ac.uk, returns true'],
  ['user@you.ac.uk', 0, 'matches .ac.uk, returns false (because of =>0)'],
  ['user@them.co.uk', true, 'matches .uk, returns true'],
  ['user@some.com', undefined, 'does not match anything, falls through'],
]
for (const [addr, want, why] of aclCases) {
  test(`the README's acl_re: ${addr} ${why}`, () => assert.equal(aclRe.lookup(addr), want))
}

test('no implicit anchoring or case folding: "do use qr\'(?i)^user@example\\.com$\'"', () => {
  const sloppy = createRegexpTable(['user@example.com'])
  assert.equal(sloppy.lookup('xuser@example.comx'), true)
  assert.equal(sloppy.lookup('USER@example.com'), undefined)
  const careful = createRegexpTable(['(?i)^user@example\\.com$'])
  assert.equal(careful.lookup('USER@Example.com'), true)
  assert.equal(careful.lookup('xuser@example.com'), undefined)
})

test('Perl anchors \\A and \\z and an escaped @ compile for JavaScript', () => {
  const re = compilePerlRegexp('\\Ajoe\\@example\\.com\\z')
  assert.equal(re.test('joe@example.com'), true)
  assert.equal(re.test('joe@example.com\n'), false)
  assert.equal(re.test('xjoe@example.com'), false)
})

test('a null result is undef: the table stops and says nothing', () => {
  const t = createRegexpTable([['/@example\\.com$/', null], '/./'])
  assert.deepEqual(t.match('a@example.com'), { key: '/@example\\.com$/', value: undefined })
})

test('bad expressions and flags are reported at their index', () => {
  const problems: string[] = []
  createRegexpTable(['/(/', ['/ok/x', 1], { re: 'fine', flags: 'g' }], (p, m) => problems.push(`${p.join('.')} ${m}`))
  assert.equal(problems.length, 3)
  assert.match(problems[0], /^0 bad regular expression/)
  assert.match(problems[1], /^1\.0 .*flag\(s\) x/)
  assert.match(problems[2], /^2\.re .*flag\(s\) g/)
  assert.throws(() => createRegexpTable(['/(/']), { code: 'VIGIL_ERR_CONFIG_INVALID' })
})
