import { test } from 'node:test'
import assert from 'node:assert/strict'
import { rewriteHeader, spamStatusHeader } from '../../src/pipeline/headers.ts'
import { createSettingsLookup } from '../../src/pipeline/settings.ts'
import { filterConfigSchema } from '../../src/config.ts'

const s = createSettingsLookup(filterConfigSchema.parse({})).settingsFor('x@example.org')

test('prepends header fields and tags an existing Subject', () => {
  const h = Buffer.from('From: a@example.org\r\nSubject: hello\r\n\r\n')
  const out = rewriteHeader(h, { prepend: ['X-Spam-Flag: YES'], subjectTag: '***Spam*** ', key: '' }).toString()
  assert.equal(out, 'X-Spam-Flag: YES\r\nFrom: a@example.org\r\nSubject: ***Spam*** hello\r\n\r\n')
})

test('adds a Subject carrying only the tag when the message has none', () => {
  const h = Buffer.from('From: a@example.org\r\n\r\n')
  const out = rewriteHeader(h, { prepend: [], subjectTag: '***Spam*** ', key: '' }).toString()
  assert.equal(out, 'From: a@example.org\r\nSubject: ***Spam***\r\n\r\n')
})

test('does not mistake a header whose name ends in subject for the Subject', () => {
  const h = Buffer.from('X-Original-Subject: a\r\nSubject: b\r\n\r\n')
  const out = rewriteHeader(h, { prepend: [], subjectTag: 'T ', key: '' }).toString()
  assert.equal(out, 'X-Original-Subject: a\r\nSubject: T b\r\n\r\n')
})

test('writes X-Spam-Status as amavis does: flag, score, levels, sorted tests, autolearn', () => {
  const v = spamStatusHeader(
    {
      score: 7.5,
      requiredScore: 5,
      tests: [
        { name: 'Z_TEST', score: 1 },
        { name: 'BAYES_99', score: 3.5 },
      ],
      report: '',
      autolearn: 'spam',
    },
    s,
  )
  assert.equal(v, 'Yes, score=7.5 tagged_above=2 required=6.2 tests=[BAYES_99=3.5, Z_TEST=1] autolearn=spam')
  assert.match(spamStatusHeader({ score: 2.5, requiredScore: 5, tests: [], report: '' }, s), /^No, score=2\.5 /)
})
