#!/usr/bin/env node
// Runs every test file of the repo on node:test (TypeScript through tsx) and ends with
// the node test runner's summary. Usage: node scripts/run-tests.mjs [--unit] [filter...]
//   --unit   only the suites that need no external service (files not under integration/ or e2e/)
//   filter   substrings; only test files whose path contains one of them run
import { spawn } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
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
const concurrency = process.env.VIGIL_TEST_CONCURRENCY ?? '2'
const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-timeout=300000', ...files],
  { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_NO_WARNINGS: '1', TZ: 'UTC' } },
)
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
