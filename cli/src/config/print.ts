// `vigil print-config`: the effective configuration as YAML, headed by where it came from, so the
// output can be saved and used as a config file (print-config of it prints the same YAML).
import { stringify } from 'yaml'
import type { LoadedConfig } from './load.ts'

export function formatEffectiveConfig(loaded: LoadedConfig): string {
  const { file, overrides } = loaded.source
  const header = [
    '# Effective Vigil configuration (vigil print-config).',
    `# Source: ${file ?? 'built-in defaults (no --config, no VIGIL_CONFIG)'}`,
  ]
  if (overrides.length > 0) header.push(`# Overridden by: ${overrides.join(', ')}`)
  return header.join('\n') + '\n' + stringify(loaded.config, { lineWidth: 0 })
}
