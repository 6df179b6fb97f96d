// Starts the search engines a test run shares (one Elasticsearch and one OpenSearch, in parallel),
// prints one JSON line {"elasticsearch": url, "opensearch": url, "pids": {…}} on stdout, and keeps
// them until stdin closes or SIGTERM/SIGINT arrives; then stops both and exits.
// Used by scripts/run-tests.mjs (which passes the URLs in VIGIL_TEST_ES_URL / VIGIL_TEST_OS_URL);
// stdin is the parent's pipe, so the engines also go when the parent dies without a word.
// Usage: node --import tsx scripts/test-engines.ts [elasticsearch] [opensearch]
import { createScope, startSearchEngine, type EngineKind } from '../test/harness/index.ts'

const kinds = (process.argv.slice(2).length ? process.argv.slice(2) : ['elasticsearch', 'opensearch']) as EngineKind[]
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
  const engines = await Promise.all(kinds.map((k) => startSearchEngine(k, scope)))
  const out: Record<string, unknown> = { pids: {} }
  for (const e of engines) {
    out[e.kind] = e.url
    ;(out.pids as Record<string, number | null>)[e.kind] = e.pid
  }
  process.stdout.write(JSON.stringify(out) + '\n')
} catch (err) {
  process.stderr.write(`test-engines: ${err instanceof Error ? err.message : String(err)}\n`)
  await stopAll(1)
}
