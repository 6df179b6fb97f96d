// Starts the search engines a test run shares (in parallel, each distribution once), prints one
// JSON line {"env": {"VIGIL_TEST_ES_URL": url, …}, "pids": {"elasticsearch@9.5.3": pid, …}} on
// stdout, and keeps them until stdin closes or SIGTERM/SIGINT arrives; then stops them and exits.
// Used by scripts/run-tests.mjs, which puts `env` in the tests' environment; stdin is the parent's
// pipe, so the engines also go when the parent dies without a word.
// Usage: node --import tsx scripts/test-engines.ts [--for <test file>…] [kind | kind@version …]
//   --for   the distributions those files need (enginesRequiredBy on their sources)
//   none    Elasticsearch and OpenSearch at their default versions
import { readFileSync } from 'node:fs'
import {
  createScope,
  engineDist,
  engineDistById,
  enginesRequiredBy,
  startSearchEngine,
  type EngineDist,
  type EngineKind,
} from '../test/harness/index.ts'

function wanted(args: string[]): EngineDist[] {
  const at = args.indexOf('--for')
  const named = (at < 0 ? args : args.slice(0, at)).map((a) =>
    a.includes('@') ? engineDistById(a) : engineDist(a as EngineKind),
  )
  const files = at < 0 ? [] : args.slice(at + 1)
  const needed = new Set<EngineDist>(named)
  for (const f of files) for (const d of enginesRequiredBy(readFileSync(f, 'utf8'))) needed.add(d)
  if (at < 0 && named.length === 0) for (const k of ['elasticsearch', 'opensearch'] as const) needed.add(engineDist(k))
  return [...needed]
}

const scope = createScope()
let stopping: Promise<void> | null = null

function stopAll(code: number): Promise<void> {
  stopping ??= scope
    .close()
    .catch((err: unknown) => {
      process.stderr.write(`test-engines: stop failed: ${String(err)}\n`)
      code = code || 1
    })
    .then(() => process.exit(code))
  return stopping
}

for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => void stopAll(0))
process.stdin.on('end', () => void stopAll(0))
process.stdin.on('error', () => void stopAll(0))
process.stdin.resume()

try {
  const dists = wanted(process.argv.slice(2))
  const engines = await Promise.all(dists.map((d) => startSearchEngine(d.kind, scope, { version: d.version })))
  const env: Record<string, string> = {}
  const pids: Record<string, number | null> = {}
  dists.forEach((d, i) => {
    env[d.sharedEnv] = engines[i].url
    pids[d.id] = engines[i].pid
  })
  process.stdout.write(JSON.stringify({ env, pids }) + '\n')
} catch (err) {
  process.stderr.write(`test-engines: ${err instanceof Error ? err.message : String(err)}\n`)
  await stopAll(1)
}
