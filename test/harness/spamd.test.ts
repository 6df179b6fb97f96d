import { test } from 'node:test'
import assert from 'node:assert/strict'
import { gtubeMessage, plainMessage, startSpamd } from './index.ts'

test('startSpamd runs a real spamd that scores GTUBE at least 1000 and a plain message low', async (t) => {
  const spamd = await startSpamd(t)
  const spam = await spamd.check(gtubeMessage())
  assert.equal(spam.isSpam, true)
  assert.ok(spam.score >= 1000, `GTUBE scored ${spam.score}`)
  assert.ok(spam.symbols.includes('GTUBE'), spam.symbols.join(','))
  const ham = await spamd.check(plainMessage())
  assert.equal(ham.isSpam, false)
  assert.ok(ham.score < 5, `plain message scored ${ham.score}`)
  assert.ok(!ham.symbols.includes('GTUBE'))
  // The stock spamc client agrees: -c prints score/threshold and exits 1 for spam.
  const c = await spamd.spamc(['-c'], gtubeMessage())
  assert.equal(c.code, 1, c.stderr)
  assert.match(c.stdout, /^10\d\d(\.\d+)?\/5\.0/)
  const r = await spamd.spamc(['-R'], plainMessage())
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /^-?\d+(\.\d+)?\/5\.0/)
})
