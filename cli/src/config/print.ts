// `vigil print-config`: the effective configuration as YAML, headed by where it came from, so the
// output can be saved and used as a config file (print-config of it prints the same YAML).
// Secrets (Redis passwords, CURVE secret keys) are redacted unless asked for: this output is what
// people paste into tickets.
import { stringify } from 'yaml'
import type { LoadedConfig } from './load.ts'

/** Keys whose values are secrets: `password`, `*_password`, `secret`, `*_secret_key`, ... */
const SECRET_KEY = /(^|_)(password|secret)(_|$)/i
/** What print-config shows instead of a secret. */
export const REDACTED = '<redacted>'

function redact(value: unknown): { value: unknown; count: number } {
  if (Array.isArray(value)) {
    let count = 0
    const out = value.map((v) => {
      const r = redact(v)
      count += r.count
      return r.value
    })
    return { value: out, count }
  }
  if (value !== null && typeof value === 'object') {
    let count = 0
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) {
      if (SECRET_KEY.test(k) && typeof v === 'string' && v !== '') {
        out[k] = REDACTED
        count++
      } else {
        const r = redact(v)
        out[k] = r.value
        count += r.count
      }
    }
    return { value: out, count }
  }
  return { value, count: 0 }
}

/** The effective configuration as YAML with a comment header naming its sources. Pure. */
export function formatEffectiveConfig(loaded: LoadedConfig, opts: { showSecrets?: boolean } = {}): string {
  const { file, overrides } = loaded.source
  const header = [
    '# Effective Vigil configuration (vigil print-config).',
    `# Source: ${file ?? 'built-in defaults (no --config, no VIGIL_CONFIG)'}`,
  ]
  if (overrides.length > 0) header.push(`# Overridden by: ${overrides.join(', ')}`)
  const { value, count } = opts.showSecrets ? { value: loaded.config, count: 0 } : redact(loaded.config)
  if (count > 0) header.push(`# ${count} secret value(s) shown as ${REDACTED}; --show-secrets prints them.`)
  return header.join('\n') + '\n' + stringify(value, { lineWidth: 0 })
}
