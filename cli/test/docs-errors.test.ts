// docs/errors.md must list every code of the registry, and nothing else.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { it } from 'node:test'
import { ErrorCode } from '@vigil/protocol'
import { EXIT } from '../src/exit-codes.ts'

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8')

it('docs/errors.md documents every error code of the registry', () => {
  const documented = new Set([...doc.matchAll(/^\| `(VIGIL_ERR_[A-Z0-9_]+)` \|/gm)].map((m) => m[1]))
  const missing = Object.values(ErrorCode).filter((code) => !documented.has(code))
  assert.deepEqual(missing, [], `add these codes to docs/errors.md: ${missing.join(', ')}`)
  const stale = [...documented].filter((code) => !(Object.values(ErrorCode) as string[]).includes(code))
  assert.deepEqual(stale, [], `docs/errors.md lists codes that are no longer in the registry: ${stale.join(', ')}`)
})

it('docs/errors.md documents every exit code of vigil', () => {
  const documented = new Set([...doc.matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1])))
  const missing = Object.values(EXIT).filter((code) => !documented.has(code))
  assert.deepEqual(missing, [])
})
