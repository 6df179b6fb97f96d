// Worker processes run from a plain-JS bundle of worker-main.ts built with esbuild at master
// start, so they start fast and do not carry the tsx loader (~35 MB RSS per worker). Native and
// connection-pool packages (zeromq, ioredis) stay external, imported by absolute path. The file
// is named by its content hash in the temp directory and shared by every filter of the same code.
// Any problem building the bundle falls back to running the TypeScript entry through tsx.
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createHash, randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'

export const WORKER_MAIN_TS = fileURLToPath(new URL('./worker-main.ts', import.meta.url))

export interface WorkerEntry {
  file: string
  execArgv: string[]
  bundled: boolean
}

export async function prepareWorkerEntry(outDir: string, onFallback?: (err: unknown) => void): Promise<WorkerEntry> {
  const fallback: WorkerEntry = { file: WORKER_MAIN_TS, execArgv: ['--import', 'tsx'], bundled: false }
  if (process.env.VIGIL_WORKER_TSX === '1') return fallback
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
    // A small young generation keeps a worker's RSS low (messages are short-lived garbage).
    return { file: outfile, execArgv: ['--max-semi-space-size=4', '--optimize-for-size'], bundled: true }
  } catch (err) {
    onFallback?.(err)
    return fallback
  }
}
