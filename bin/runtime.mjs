// Which runtime the `vigil` and `amavis-status` entries load (docs/adr/0016-runtime-without-tsx.md):
//   VIGIL_RUNTIME=dist    the compiled JavaScript in dist/ (scripts/build.mjs): no devDependency
//   VIGIL_RUNTIME=source  the TypeScript sources through tsx (a devDependency)
//   unset                 source when tsx is installed (a development checkout), else dist
// Child processes (components, filter workers) then spawn the same runtime as their parent.
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'

const root = new URL('../', import.meta.url)

function hasTsx() {
  try {
    createRequire(import.meta.url).resolve('tsx')
    return true
  } catch {
    return false
  }
}

/** Imports `<rel>.ts` from the sources or `dist/<rel>.js`, as VIGIL_RUNTIME says. */
export async function loadEntry(rel) {
  const wanted = process.env.VIGIL_RUNTIME || (hasTsx() ? 'source' : 'dist')
  if (wanted === 'source') {
    const { register } = await import('tsx/esm/api')
    register()
    return import(new URL(`${rel}.ts`, root).href)
  }
  const compiled = new URL(`dist/${rel}.js`, root)
  if (wanted !== 'dist' || !existsSync(compiled)) {
    process.stderr.write(
      wanted === 'dist'
        ? `vigil: ${compiled.pathname} is missing: run \`node scripts/build.mjs\` first\n`
        : `vigil: VIGIL_RUNTIME must be dist or source, not '${wanted}'\n`,
    )
    process.exit(70)
  }
  return import(compiled.href)
}
