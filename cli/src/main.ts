// The `vigil` process entry: the only module with process-wide side effects. bin/vigil.mjs calls
// main(); the supervisor starts its children by running this file directly
// (`node --import tsx cli/src/main.ts <component> …`).
import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { runCli } from './cli.ts'

/** Runs `vigil` with `argv` (without node and script) and exits the process with its code. */
export async function main(argv: readonly string[]): Promise<never> {
  // A supervised component whose supervisor died has no reader on its pipes; losing that output is
  // fine, crashing on EPIPE before the clean stop (triggered by the IPC disconnect) is not.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {})
  const code = await runCli(argv, {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    cwd: process.cwd(),
    stdin: process.stdin,
    proc: process,
    guard: process,
  })
  process.exit(code)
}

function isEntry(): boolean {
  try {
    return !!process.argv[1] && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))
  } catch {
    return false
  }
}

if (isEntry()) await main(process.argv.slice(2))
