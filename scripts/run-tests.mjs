#!/usr/bin/env node
// Runs every test file of the repo on node:test (TypeScript through tsx) and ends with
// the node test runner's summary. Usage: node scripts/run-tests.mjs [--unit] [filter...]
//   --unit   only the suites that need no external service (files not under integration/ or e2e/)
//   filter   substrings; only test files whose path contains one of them run
//   --node24 then the same files again on Node 24 (scripts/ensure-node24.sh fetches it from the
//            npm registry; scripts/node24-preload.mjs loads its better-sqlite3); also VIGIL_TEST_NODE24=1
import { spawn, spawnSync } from 'node:child_process'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const args = process.argv.slice(2)
const unitOnly = args.includes('--unit')
const filters = args.filter((a) => !a.startsWith('--'))

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue
    const p = join(dir, name)
    const st = statSync(p)
    if (st.isDirectory()) walk(p, out)
    else if (name.endsWith('.test.ts')) out.push(relative(root, p))
  }
  return out
}

const roots = ['protocol', 'filter-core', 'collector', 'status-cli', 'snmp-agent', 'cli', 'dashboard', 'test']
let files = []
for (const r of roots) {
  try {
    walk(join(root, r), files)
  } catch {}
}
files = files.filter((f) => f.includes('/test/') || f.startsWith('test/'))
if (unitOnly) files = files.filter((f) => !/\/(integration|e2e)\//.test(f) && !f.startsWith('test/'))
if (filters.length) files = files.filter((f) => filters.some((x) => f.includes(x)))
files.sort()
if (files.length === 0) {
  console.error('run-tests: no test files matched')
  process.exit(1)
}
// Suites that call requireEngine() share one instance of each engine distribution they name per
// run (each takes 6-15 s and ~0.8 GB to start): started here, in parallel, by
// scripts/test-engines.ts, their URLs passed in VIGIL_TEST_ES_URL / VIGIL_TEST_OS_URL /
// VIGIL_TEST_ES8_URL / VIGIL_TEST_OS2_URL, stopped by PID when the runner ends.
// The helper also stops them when its stdin (our pipe) closes, should this process die first.
async function startSharedEngines(env) {
  if (env.VIGIL_TEST_ES_URL && env.VIGIL_TEST_OS_URL) return null
  const users = files.filter((f) => readFileSync(join(root, f), 'utf8').includes('requireEngine('))
  if (!users.length) return null
  const prov = spawnSync('bash', [join(root, 'scripts/provision-engines.sh')], { cwd: root, stdio: 'inherit' })
  if (prov.status !== 0) {
    console.error('run-tests: provision-engines.sh failed; engine suites will try to start their own')
    return null
  }
  // the distributions those files name (scripts/test-engines.ts reads their sources)
  const helper = spawn(
    process.execPath,
    ['--import', 'tsx', join(root, 'scripts/test-engines.ts'), '--for', ...users],
    {
      cwd: root,
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { ...process.env, NODE_NO_WARNINGS: '1' },
    },
  )
  const line = await new Promise((resolve) => {
    let buf = ''
    helper.stdout.on('data', (d) => {
      buf += d
      const nl = buf.indexOf('\n')
      if (nl >= 0) resolve(buf.slice(0, nl))
    })
    helper.once('exit', () => resolve(null))
  })
  if (!line) {
    console.error('run-tests: the shared search engines did not start; engine suites will try to start their own')
    return null
  }
  Object.assign(env, JSON.parse(line).env)
  return helper
}

function stopHelper(helper) {
  if (!helper || helper.exitCode !== null || helper.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      try {
        process.kill(helper.pid, 'SIGKILL')
      } catch {}
      resolve()
    }, 40_000)
    helper.once('exit', () => {
      clearTimeout(timer)
      resolve()
    })
    try {
      process.kill(helper.pid, 'SIGTERM')
    } catch {}
  })
}

const env = { ...process.env, NODE_NO_WARNINGS: '1', TZ: 'UTC' }
const helper = await startSharedEngines(env)
const concurrency = process.env.VIGIL_TEST_CONCURRENCY ?? '2'
let child = null
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    try {
      child?.kill(sig)
    } catch {}
    void stopHelper(helper).then(() => process.exit(1))
  })
}
/** One pass of node:test over the files with `node`; resolves its exit code. */
function pass(node, passEnv) {
  child = spawn(
    node,
    ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-timeout=300000', ...files],
    { cwd: root, stdio: 'inherit', env: passEnv },
  )
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))))
}
let code = await pass(process.execPath, env)
if (code === 0 && (args.includes('--node24') || process.env.VIGIL_TEST_NODE24 === '1')) {
  const got = spawnSync('bash', [join(root, 'scripts/ensure-node24.sh')], { cwd: root, encoding: 'utf8' })
  if (got.status !== 0) {
    process.stderr.write(got.stderr)
    code = 1
  } else {
    const node24 = got.stdout.trim().split('\n').at(-1)
    console.log(`run-tests: second pass on Node 24 (${node24})`)
    const preload = `--import=${join(root, 'scripts/node24-preload.mjs')}`
    code = await pass(node24, { ...env, NODE_OPTIONS: `${env.NODE_OPTIONS ?? ''} ${preload}`.trim() })
  }
}
await stopHelper(helper)
process.exit(code)
