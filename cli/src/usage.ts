// Help and version texts of `vigil`. Pure strings.
import { readFileSync } from 'node:fs'
import { AMAVIS_VERSION } from '@vigil/protocol'
import { COMMANDS, type CommandName } from './args.ts'

const GLOBAL_OPTIONS = [
  ['-c, --config FILE', 'YAML configuration file (default: $VIGIL_CONFIG, else built-in defaults)'],
  ['--home DIR', 'state directory, overrides `home` and $VIGIL_HOME'],
  ['--log-level LEVEL', 'fatal|error|warn|info|debug|trace, overrides $VIGIL_LOG_LEVEL'],
  ['-h, --help', 'show help'],
  ['-V, --version', 'show the version'],
] as const

/** The full help (no topic) or one command's help. */
export function formatUsage(topic?: CommandName): string {
  const lines: string[] = []
  if (topic !== undefined) {
    const spec = COMMANDS[topic]
    lines.push(`Usage: vigil [options] ${topic}${spec.synopsis ? ' ' + spec.synopsis : ''}`, '', spec.summary)
  } else {
    lines.push('Usage: vigil [options] COMMAND [ARGS]', '', 'Commands:')
    for (const [name, spec] of Object.entries(COMMANDS)) {
      if ('hidden' in spec && spec.hidden) continue
      lines.push(`  ${name.padEnd(14)}${spec.summary}`)
    }
  }
  lines.push('', 'Options:')
  for (const [opt, text] of GLOBAL_OPTIONS) lines.push(`  ${opt.padEnd(20)}${text}`)
  if (topic === 'start')
    lines.push(`  ${'--only LIST'.padEnd(20)}start only these components (collector,filter,snmp-agent,dashboard)`)
  if (topic === 'filter')
    lines.push(
      `  ${'--test-message FILE'.padEnd(20)}run one .eml through the checks, print the verdicts, forward nothing`,
    )
  if (topic === 'user')
    lines.push(
      `  ${'--role ROLE'.padEnd(20)}admin (everything, user management) or viewer (read-only; subjects in rot13 unless dashboard.viewer_subjects: raw)`,
      `  ${'--password-stdin'.padEnd(20)}read the password from the first line of stdin (the default when stdin is not a terminal)`,
    )
  if (topic === 'demo')
    lines.push(
      `  ${'--count N'.padEnd(20)}number of demo messages (default: one round of the mix)`,
      `  ${'--host H, --port P'.padEnd(20)}where to send (default: the filter's first TCP listener)`,
      `  ${'--delay-ms MS'.padEnd(20)}pause between messages`,
    )
  lines.push(
    '',
    'Exit codes: 0 ok, 64 usage, 69 component unavailable, 73 cannot create, 75 already running, 78 config.',
  )
  return lines.join('\n') + '\n'
}

/** `vigil 0.1.0 (compatible with amavis-2.13.0 (20230106))`. */
export function formatVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  return `vigil ${pkg.version} (compatible with ${AMAVIS_VERSION})\n`
}
