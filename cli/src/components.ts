// The component registry: which package provides each `vigil` component, its config section and
// its factory. Components are imported lazily, one at a time, so a missing or broken component
// never breaks the others (or `vigil check-config`).
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** The contract every component's src/app.ts factory returns. */
export interface Component {
  start(): Promise<void>
  stop(): Promise<void>
  /** Human lines saying where it listens, printed by `vigil start` as `listening: …`. */
  describe(): string[]
}

export interface ComponentInfo {
  /** Command name and child name in the supervisor. */
  readonly name: string
  /** Workspace directory, e.g. `filter-core`, `dashboard/server`. */
  readonly dir: string
  /** Package name without the scope when it differs from `dir`: `@vigil/<pkg>`. */
  readonly pkg?: string
  /** Key of its section in vigil.yaml. */
  readonly section: string
  /** Export of `<dir>/src/app.ts`; undefined for config-only packages. */
  readonly factory?: string
  /** Export of `<dir>/src/config.ts` holding the section's zod schema. */
  readonly schema: string
  /** The factory's file in `<dir>/src/` when not app.ts. */
  readonly file?: string
}

/** In start-up order: the bus first (it binds the sockets the others connect to), as amavis-mc does. */
export const COMPONENTS: readonly ComponentInfo[] = [
  {
    name: 'collector',
    dir: 'collector',
    section: 'collector',
    factory: 'createCollector',
    schema: 'collectorConfigSchema',
  },
  { name: 'filter', dir: 'filter-core', section: 'filter', factory: 'createFilter', schema: 'filterConfigSchema' },
  {
    name: 'snmp-agent',
    dir: 'snmp-agent',
    section: 'snmp_agent',
    factory: 'createSnmpAgent',
    schema: 'snmpAgentConfigSchema',
  },
  {
    name: 'dashboard',
    dir: 'dashboard/server',
    pkg: 'dashboard-server',
    section: 'dashboard',
    factory: 'createDashboard',
    schema: 'dashboardConfigSchema',
  },
  { name: 'status', dir: 'status-cli', section: 'status', schema: 'statusConfigSchema' },
]

/** The components `vigil start` can run (the status viewer has only a config section). */
export const RUNNABLE = COMPONENTS.filter((c) => c.factory !== undefined)

/** The registry entry of a component name, or undefined. */
export function componentByName(name: string): ComponentInfo | undefined {
  return COMPONENTS.find((c) => c.name === name)
}

const REPO_ROOT = new URL('../../', import.meta.url)

/** Compiled (dist/), a package's `app.ts` is `app.js`. */
const COMPILED = import.meta.url.endsWith('.js')

/** Absolute path of a file in a workspace package, e.g. `filter-core/src/app.ts`. */
export function packageFile(dir: string, file: string): string {
  return fileURLToPath(new URL(`${dir}/src/${COMPILED ? file.replace(/\.ts$/, '.js') : file}`, REPO_ROOT))
}

/** True when the package file exists (the component is part of this checkout). */
export function hasPackageFile(dir: string, file: string): boolean {
  return existsSync(packageFile(dir, file))
}

/**
 * Imports `@vigil/<pkg>/<file>` (pkg defaults to dir) by a computed specifier, so the type checker
 * does not require the file to exist yet. Resolves undefined when the file does not exist; rejects
 * when it exists but fails to load, so a broken component is reported, not mistaken for an absent one.
 */
export async function importPackageFile(
  dir: string,
  file: string,
  pkg: string = dir,
): Promise<Record<string, unknown> | undefined> {
  if (!hasPackageFile(dir, file)) return undefined
  const specifier = `@vigil/${pkg}/${file}`
  return (await import(specifier)) as Record<string, unknown>
}
