import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { engineRequest, requireEngine, startSearchEngine, SHARED_ENGINE_ENV } from './index.ts'

const alive = (pid: number) => existsSync(`/proc/${pid}`)

test('startSearchEngine runs a private Elasticsearch as the engine account and stops all of it by PID', async (t) => {
  const es = await startSearchEngine('elasticsearch', t)
  assert.equal(es.shared, false)
  const health = await engineRequest(es.url, 'GET', '/_cluster/health')
  assert.equal(health.body.cluster_name, 'vigil-test-elasticsearch')
  assert.equal(health.body.number_of_nodes, 1)
  // The launcher we hold runs the server as a child; both run as the unprivileged account.
  const serverPid = Number(readFileSync(join(es.dir!, 'pid'), 'utf8'))
  assert.notEqual(serverPid, es.pid)
  if (process.getuid?.() === 0) assert.notEqual(statSync(`/proc/${serverPid}`).uid, 0)
  await es.stop()
  assert.equal(alive(es.pid!), false)
  assert.equal(alive(serverPid), false)
  assert.equal(existsSync(es.dir!), false)
  await assert.rejects(engineRequest(es.url, 'GET', '/_cluster/health', undefined, 2000))
  await es.stop() // idempotent
})

test('requireEngine uses the run’s shared instance when one is named, and leaves it running', async (t) => {
  const os = await requireEngine('opensearch', t)
  const saved = process.env[SHARED_ENGINE_ENV.opensearch]
  process.env[SHARED_ENGINE_ENV.opensearch] = os.url
  t.after(() => {
    if (saved === undefined) delete process.env[SHARED_ENGINE_ENV.opensearch]
    else process.env[SHARED_ENGINE_ENV.opensearch] = saved
  })
  const shared = await requireEngine('opensearch', t)
  assert.equal(shared.shared, true)
  assert.equal(shared.url, os.url)
  await shared.stop()
  const root = await engineRequest(os.url, 'GET', '/')
  assert.equal(root.body.version.distribution, 'opensearch')
})

test('enginesRequiredBy: the distributions a test file names, both defaults for a call without a version', async () => {
  const { enginesRequiredBy } = await import('./search-engine.ts')
  const ids = (src: string) => enginesRequiredBy(src).map((d) => d.id)
  assert.deepEqual(ids(`await requireEngine('elasticsearch', t)`), ['elasticsearch@9.5.3', 'opensearch@3.8.0'])
  assert.deepEqual(ids(`requireEngine('opensearch', scope, { version: '2.19.6' })`), ['opensearch@2.19.6'])
  // a table of ids and a call taking its version from it: only the table
  assert.deepEqual(
    ids(`const D = ['elasticsearch@8.19.21', 'opensearch@2.19.6']\nrequireEngine(kind, s, { version })`),
    ['elasticsearch@8.19.21', 'opensearch@2.19.6'],
  )
  assert.deepEqual(ids('no engine here'), [])
})
