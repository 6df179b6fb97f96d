// Configuration of the collector package's standalone entries (main.ts, shipper-main.ts):
// `--config vigil.yaml --home DIR` → the common keys and the `collector` section, validated once
// with every problem listed. Exits 78 (EX_CONFIG) on a bad file: only the entries call it.
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { parse as parseYaml } from 'yaml'
import { EX_CONFIG, commonConfigSchema, type CommonConfig } from '@vigil/protocol'
import { collectorConfigSchema, type CollectorConfig } from './config.ts'

export function loadStandaloneConfig(name: string): { common: CommonConfig; cfg: CollectorConfig } {
  const { values } = parseArgs({ options: { config: { type: 'string' }, home: { type: 'string' } } })
  let doc: Record<string, unknown> = {}
  try {
    if (values.config) doc = (parseYaml(readFileSync(values.config, 'utf8')) ?? {}) as Record<string, unknown>
  } catch (err) {
    process.stderr.write(`vigil ${name}: cannot read ${values.config}: ${(err as Error).message}\n`)
    process.exit(EX_CONFIG)
  }
  const { collector: section, filter: _f, snmp_agent: _s, status: _st, ...rest } = doc
  if (values.home) rest.home = values.home
  const common = commonConfigSchema.safeParse(rest)
  const cfg = collectorConfigSchema.safeParse(section ?? {})
  if (!common.success || !cfg.success) {
    const issues = [
      ...(common.success ? [] : common.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)),
      ...(cfg.success ? [] : cfg.error.issues.map((i) => `collector.${i.path.join('.')}: ${i.message}`)),
    ]
    process.stderr.write(`vigil ${name}: invalid configuration:\n  ${issues.join('\n  ')}\n`)
    process.exit(EX_CONFIG)
  }
  common.data.home = resolve(common.data.home)
  return { common: common.data, cfg: cfg.data }
}
