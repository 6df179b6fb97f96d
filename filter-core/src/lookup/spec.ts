// How vigil.yaml writes amavis lookup tables, and the builders that turn them into tables. One
// `*_maps` setting is a list of tables, each of these forms (amavis in brackets):
//   7.5 / 'spam-quarantine' / true     a constant                  ($scalar, \$scalar)
//   null                               undef: answers nothing
//   ['.example.com', '!a@example.com'] an ACL                      (\@acl)
//   { 'user@example.com': 5, '.': 6 }  a hash                      (\%hash, read_hash)
//   { regexp: ['/^(.*)@x\.com$/i', ['/re/', 'v-${1}'], { re, flags, value }] }   (new_RE)
// IP tables (@mynetworks_maps) are ACLs of networks, hashes of addresses, or constants.
import { z } from 'zod'
import { type AddressKeyOptions, DEFAULT_KEY_OPTIONS } from './address-keys.ts'
import { createAclTable } from './acl.ts'
import { createConstantTable } from './constant.ts'
import { createHashTable } from './hash.ts'
import { createIpAclTable, createIpHashTable } from './ip.ts'
import { createMapsList } from './maps.ts'
import { type RegexpEntry, createRegexpTable } from './regexp.ts'
import { type LookupTable, type LookupValue, type ProblemSink, throwOnProblem } from './table.ts'

const scalar = z.union([z.string(), z.number(), z.boolean()])
const regexpEntry = z.union([
  z.string(),
  z.tuple([z.string(), scalar.nullable()]),
  z.strictObject({ re: z.string(), flags: z.string().optional(), value: scalar.nullable().optional() }),
])
const tableSpec = z.union([
  scalar,
  z.null(),
  z.array(z.string()),
  z.strictObject({ regexp: z.array(regexpEntry) }),
  z.record(z.string(), scalar.nullable()),
])
export type TableSpec = z.infer<typeof tableSpec>
export type MapsSpec = readonly TableSpec[]

/** What the answers of a map mean; a constant or hash value of another type is a config problem. */
export type MapKind = 'boolean' | 'number' | 'string'

function valueProblem(v: unknown, kind: MapKind): string | undefined {
  if (v === null) return undefined
  if (kind === 'number' && typeof v !== 'number') return `expected a number, got ${JSON.stringify(v)}`
  if (kind === 'boolean' && typeof v === 'string')
    return `a string is a constant that is always true here; write an ACL as a list: [[${JSON.stringify(v)}]]`
  return undefined
}

/** Builds one table; bad regexps and values of the wrong kind go to `report` at their path. */
export function buildTable(
  spec: TableSpec,
  kind: MapKind,
  opts: AddressKeyOptions = DEFAULT_KEY_OPTIONS,
  report: ProblemSink = throwOnProblem,
): LookupTable<LookupValue> {
  if (spec === null || typeof spec !== 'object') {
    const p = valueProblem(spec, kind)
    if (p) report([], p)
    return createConstantTable(spec)
  }
  if (Array.isArray(spec)) return createAclTable(spec, opts)
  if ('regexp' in spec && Array.isArray(spec.regexp))
    return createRegexpTable(spec.regexp as RegexpEntry[], (path, m) => report(['regexp', ...path], m))
  const hash = spec as Record<string, LookupValue | null>
  for (const [k, v] of Object.entries(hash)) {
    const p = kind === 'boolean' ? undefined : valueProblem(v, kind)
    if (p) report([k], p)
  }
  return createHashTable(hash, opts)
}

/** Builds a `*_maps` list. */
export function buildMaps(
  spec: MapsSpec,
  kind: MapKind,
  opts: AddressKeyOptions = DEFAULT_KEY_OPTIONS,
  report: ProblemSink = throwOnProblem,
): LookupTable<LookupValue> {
  return createMapsList(spec.map((t, i) => buildTable(t, kind, opts, (path, m) => report([i, ...path], m))))
}

/** Builds an IP `*_maps` list (@mynetworks_maps); a bad network is reported at its path. */
export function buildIpMaps(spec: MapsSpec, report: ProblemSink = throwOnProblem): LookupTable<LookupValue> {
  const tables = spec.map((t, i): LookupTable<LookupValue> => {
    if (Array.isArray(t)) return createIpAclTable(t, (path, m) => report([i, ...path], m))
    if (t !== null && typeof t === 'object') {
      if ('regexp' in t) report([i], 'an IP table is a list of networks, a hash of addresses or a constant')
      return createIpHashTable(t as Record<string, LookupValue | null>)
    }
    if (typeof t === 'string')
      report([i], `a string is a constant that is always true here; write networks as a list: [[${JSON.stringify(t)}]]`)
    return createConstantTable(t)
  })
  return createMapsList(tables)
}

/**
 * $per_recip_{white,black}list_sender_lookup_tables: a hash from recipient keys to one table of
 * senders each; the recipient is looked up with hash semantics and answers the sender table.
 */
export function buildPerRecipientTables(
  spec: Readonly<Record<string, TableSpec>>,
  opts: AddressKeyOptions = DEFAULT_KEY_OPTIONS,
  report: ProblemSink = throwOnProblem,
): LookupTable<LookupTable<LookupValue>> {
  const entries = new Map<string, LookupTable<LookupValue>>()
  for (const [k, t] of Object.entries(spec))
    entries.set(
      k,
      buildTable(t, 'boolean', opts, (p, m) => report([k, ...p], m)),
    )
  return createHashTable(entries, opts)
}

/** Zod schema of one `*_maps` setting of `kind`, checked by building it (every problem reported with its path). */
export function mapsSchema(kind: MapKind) {
  return z.array(tableSpec).superRefine((spec, ctx) => {
    buildMaps(spec, kind, DEFAULT_KEY_OPTIONS, (path, message) =>
      ctx.addIssue({ code: 'custom', path: [...path], message }),
    )
  })
}

/** Zod schema of @mynetworks_maps-style settings. */
export const ipMapsSchema = z.array(tableSpec).superRefine((spec, ctx) => {
  buildIpMaps(spec, (path, message) => ctx.addIssue({ code: 'custom', path: [...path], message }))
})

/** Zod schema of $per_recip_*_sender_lookup_tables. */
export const perRecipientTablesSchema = z.record(z.string(), tableSpec).superRefine((spec, ctx) => {
  buildPerRecipientTables(spec, DEFAULT_KEY_OPTIONS, (path, message) =>
    ctx.addIssue({ code: 'custom', path: [...path], message }),
  )
})
