// Worker processes run from a plain-JS bundle of worker-main.ts built with esbuild at master
// start, so they start fast and do not carry the tsx loader (~35 MB RSS per worker). Native and
// connection-pool packages (zeromq, ioredis) stay external, imported by absolute path. The file
// is named by its content hash in the temp directory and shared by every filter of the same code.
// Any problem building the bundle falls back to running the TypeScript entry through tsx.
// Compiled (dist/, scripts/build.mjs) there is no TypeScript and no esbuild: workers run the
// bundle built with dist/ (worker.bundle.mjs), else the compiled worker-main.js, with no loader.
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createHash, randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'

const COMPILED = import.meta.url.endsWith('.js')
export const WORKER_MAIN_TS = fileURLToPath(
  new URL(COMPILED ? './worker-main.js' : './worker-main.ts', import.meta.url),
)
const PREBUILT_BUNDLE = fileURLToPath(new URL('./worker.bundle.mjs', import.meta.url))
/** Small young generation: a worker's RSS stays low (messages are short-lived garbage). */
const BUNDLE_ARGS = ['--max-semi-space-size=4', '--optimize-for-size']

/** The worker entry without a bundle, run by the same runtime as this process (tsx, or none compiled). */
export function unbundledEntry(): WorkerEntry {
  return { file: WORKER_MAIN_TS, execArgv: COMPILED ? [] : ['--import', 'tsx'], bundled: false }
}

export interface WorkerEntry {
  file: string
  execArgv: string[]
  bundled: boolean
}

export async function prepareWorkerEntry(outDir: string, onFallback?: (err: unknown) => void): Promise<WorkerEntry> {
  const fallback = unbundledEntry()
  if (process.env.VIGIL_WORKER_TSX === '1') return fallback
  if (COMPILED)
    return existsSync(PREBUILT_BUNDLE) ? { file: PREBUILT_BUNDLE, execArgv: BUNDLE_ARGS, bundled: true } : fallback
  try {
    const esbuild = (await import('esbuild')) as typeof import('esbuild')
    mkdirSync(outDir, { recursive: true })
    const built = await esbuild.build({
      entryPoints: [WORKER_MAIN_TS],
      write: false,
      outfile: 'vigil-worker.mjs',
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      logLevel: 'silent',
      banner: {
        js: "import { createRequire as __vigilCreateRequire } from 'node:module'; const require = __vigilCreateRequire(import.meta.url);",
      },
      plugins: [
        {
          name: 'absolute-externals',
          setup(b) {
            b.onResolve({ filter: /^(zeromq|ioredis)$/ }, (a) => ({
              path: fileURLToPath(import.meta.resolve(a.path)),
              external: true,
            }))
          },
        },
      ],
    })
    // Named by content: every filter of the same code shares one file (no per-run leftovers).
    const code = built.outputFiles[0].contents
    const outfile = join(outDir, `vigil-worker-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.mjs`)
    if (!existsSync(outfile)) {
      const tmp = `${outfile}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
      writeFileSync(tmp, code)
      renameSync(tmp, outfile)
    }
    return { file: outfile, execArgv: BUNDLE_ARGS, bundled: true }
  } catch (err) {
    onFallback?.(err)
    return fallback
  }
}
