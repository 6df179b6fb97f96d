// Standalone entry of the filter: `node --import tsx filter-core/src/main.ts [--config vigil.yaml]
// [--home DIR] [--test-message FILE.eml]`. The only module of the package with process-wide side
// effects. (`vigil filter` in the cli package does the same through createFilter/testMessage.)
import { readFileSync } from 'node:fs'
import { parse as parseYaml } from 'yaml'
import { z } from 'zod'
import { commonConfigSchema, createLogger, EX_CONFIG, installCrashGuard } from '@vigil/protocol'
import { filterConfigSchema } from './config.ts'
import { createFilter } from './app.ts'
import { testMessage } from './tools/test-message.ts'

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name)
  return i >= 0 ? process.argv[i + 1] : undefined
}

async function main() {
  const file = arg('--config')
  let doc: Record<string, unknown> = {}
  try {
    if (file) doc = (parseYaml(readFileSync(file, 'utf8')) as Record<string, unknown>) ?? {}
  } catch (e) {
    process.stderr.write(`vigil filter: cannot read ${file}: ${(e as Error).message}\n`)
    process.exit(EX_CONFIG)
  }
  const { filter, collector: _c, snmp_agent: _s, status: _st, ...top } = doc
  void _c
  void _s
  void _st
  if (arg('--home')) top.home = arg('--home')
  const c = commonConfigSchema.safeParse(top)
  const f = filterConfigSchema.safeParse(filter ?? {})
  if (!c.success || !f.success) {
    const issues = [
      ...(c.success ? [] : c.error.issues),
      ...(f.success ? [] : f.error.issues.map((i) => ({ ...i, path: ['filter', ...i.path] }))),
    ]
    process.stderr.write(`vigil filter: invalid configuration:\n${z.prettifyError({ issues } as never)}\n`)
    process.exit(EX_CONFIG)
  }
  const common = c.data
  const cfg = f.data
  const log = createLogger({
    name: 'filter',
    level: common.log_level,
    write: (l) => (common.log_to === 'stderr' ? process.stderr : process.stdout).write(l + '\n'),
  })
  const testFile = arg('--test-message')
  if (testFile) {
    const code = await testMessage(common, cfg, testFile, (s) => process.stdout.write(s))
    process.exit(code)
  }
  const app = createFilter(common, cfg, { log })
  installCrashGuard({ log, stop: () => app.stop() })
  await app.start()
  for (const line of app.describe()) log.info(`Listening: ${line}`)
  let stopping = false
  const stop = async () => {
    if (stopping) return
    stopping = true
    await app.stop()
    process.exit(0)
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}

main().catch((e) => {
  process.stderr.write(`vigil filter: ${(e as Error).stack ?? e}\n`)
  process.exit(1)
})
