// The root schema of vigil.yaml: @vigil/protocol's common keys plus one section per component,
// each owned by its package's src/config.ts. Sections are imported lazily: a package whose
// config.ts does not exist yet gets an empty strict section (any key in it is reported), and a
// package whose config.ts fails to load gets an unchecked section plus a warning, so one broken
// package never stops the others from starting.
import { z } from 'zod'
import { commonConfigSchema } from '@vigil/protocol'
import { COMPONENTS, importPackageFile, type ComponentInfo } from '../components.ts'

export interface RootSchema {
  readonly schema: z.ZodType<Record<string, unknown>>
  /** Human lines about sections that could not be checked (printed on stderr, not fatal). */
  readonly warnings: readonly string[]
}

function isZodSchema(x: unknown): x is z.ZodType {
  return typeof x === 'object' && x !== null && typeof (x as { safeParse?: unknown }).safeParse === 'function'
}

/** Loads `<dir>/src/<file>`: undefined when absent, rejects when present but broken. */
export type PackageImporter = (dir: string, file: string, pkg?: string) => Promise<Record<string, unknown> | undefined>

async function sectionSchema(importer: PackageImporter, c: ComponentInfo, warnings: string[]): Promise<z.ZodType> {
  const { dir, schema: exportName, section } = c
  let mod: Record<string, unknown> | undefined
  try {
    mod = await importer(dir, 'config.ts', c.pkg)
  } catch (err) {
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err)
    warnings.push(`${section}: not checked, ${dir}/src/config.ts failed to load: ${why}`)
    return z.record(z.string(), z.unknown())
  }
  if (mod === undefined) return z.strictObject({})
  const schema = mod[exportName]
  if (!isZodSchema(schema)) {
    warnings.push(`${section}: not checked, ${dir}/src/config.ts does not export a zod schema '${exportName}'`)
    return z.record(z.string(), z.unknown())
  }
  return schema
}

/** Builds the root schema from every package's section schema, loaded through `importer`. Never rejects. */
export async function buildRootSchema(importer: PackageImporter = importPackageFile): Promise<RootSchema> {
  const warnings: string[] = []
  const shape: Record<string, z.ZodType> = {}
  for (const c of COMPONENTS) {
    const s = await sectionSchema(importer, c, warnings)
    shape[c.section] = s.prefault({})
  }
  return { schema: commonConfigSchema.extend(shape) as unknown as z.ZodType<Record<string, unknown>>, warnings }
}

let cached: Promise<RootSchema> | undefined

/** The root schema of this checkout, built once per process. */
export function loadRootSchema(): Promise<RootSchema> {
  cached ??= buildRootSchema()
  return cached
}
