#!/usr/bin/env node
// Compiles the workspace packages into dist/ (tsc with rewriteRelativeImportExtensions, see
// docs/adr/0016-runtime-without-tsx.md), so that production runs plain JavaScript on Node 20 and 24
// with no devDependency. dist/ mirrors the repo: dist/<package>/src/**.js, and a package.json per
// workspace whose exports map `@vigil/<pkg>/<file>.ts` to the compiled `.js`, found through
// dist/node_modules/@vigil/* (Node looks there before the repo's node_modules). The filter's
// worker entry is also bundled once here (esbuild, a build-time tool) into worker.bundle.mjs.
// Usage: node scripts/build.mjs   (needs the devDependencies; run by `npm start` and the Dockerfile)
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const dist = join(root, 'dist')
const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))

rmSync(dist, { recursive: true, force: true })
const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
  cwd: root,
  encoding: 'utf8',
})
// TS2877 only says that `@vigil/<pkg>/<file>.ts` is not rewritten: the exports written below map it.
const problems = `${tsc.stdout}${tsc.stderr}`.split('\n').filter((l) => l.trim() && !l.includes('error TS2877'))
if (problems.length || tsc.status === null || !existsSync(join(dist, 'cli/src/main.js'))) {
  console.error(`build: tsc failed\n${problems.join('\n')}`)
  process.exit(1)
}

function link(target, path) {
  mkdirSync(dirname(path), { recursive: true })
  symlinkSync(relative(dirname(path), target), path)
}

writeFileSync(
  join(dist, 'package.json'),
  `${JSON.stringify({ name: rootPkg.name, version: rootPkg.version, private: true, type: 'module' }, null, 2)}\n`,
)
for (const dir of rootPkg.workspaces) {
  const pkg = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'))
  pkg.exports = { '.': './src/index.js', './*.ts': './src/*.js', './*': './src/*' }
  writeFileSync(join(dist, dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`)
  link(join(dist, dir), join(dist, 'node_modules', pkg.name))
  if (existsSync(join(root, dir, 'node_modules')))
    link(join(root, dir, 'node_modules'), join(dist, dir, 'node_modules'))
}
// Worker threads of the collector: the source tree's boot files register tsx; compiled, they need not.
for (const w of ['collector/src/pipeline', 'collector/src/history'])
  writeFileSync(
    join(dist, w, 'worker-boot.mjs'),
    "// Compiled worker thread entry (scripts/build.mjs): no loader to register.\nawait import('./worker-main.js')\n",
  )
// The dashboard serves dashboard/web/dist (built by scripts/build-web.sh) relative to its sources.
link(join(root, 'dashboard/web/dist'), join(dist, 'dashboard/web/dist'))

const esbuild = await import('esbuild')
await esbuild.build({
  entryPoints: [join(dist, 'filter-core/src/cluster/worker-main.js')],
  outfile: join(dist, 'filter-core/src/cluster/worker.bundle.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
  banner: {
    js: "import { createRequire as __vigilCreateRequire } from 'node:module'; const require = __vigilCreateRequire(import.meta.url);",
  },
  // Native and connection-pool packages stay external, resolved from the repo's node_modules.
  external: ['zeromq', 'ioredis'],
})
console.log(`build: dist/ ready (${relative(root, dist)})`)
