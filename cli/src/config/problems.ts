// Turns zod issues into the one-line problems `vigil` prints: `<path>: <problem>`, e.g.
//   filter.max_servers: expected a positive integer, got "x" (line 12)
// What a key expects is read from the schema itself (via its JSON Schema), so component
// schemas need no custom messages to get readable errors. Pure.
import type { z } from 'zod'

type JsonSchema = {
  type?: string | string[]
  properties?: Record<string, JsonSchema>
  additionalProperties?: boolean | JsonSchema
  items?: JsonSchema
  prefixItems?: JsonSchema[]
  anyOf?: JsonSchema[]
  oneOf?: JsonSchema[]
  allOf?: JsonSchema[]
  enum?: unknown[]
  const?: unknown
  minimum?: number
  maximum?: number
  exclusiveMinimum?: number
  exclusiveMaximum?: number
  minLength?: number
  maxLength?: number
  minItems?: number
  maxItems?: number
  pattern?: string
  format?: string
  $ref?: string
  $defs?: Record<string, JsonSchema>
  description?: string
}

/** `filter.max_servers`, `zmq.inner[0]`, `(top level)` for the root. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = ''
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`
    else out += (out ? '.' : '') + String(seg)
  }
  return out || '(top level)'
}

/** A short, readable rendering of a bad value: strings quoted, structures named. */
export function showValue(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'a list'
  if (typeof v === 'object') return 'a mapping'
  if (typeof v === 'string') {
    const s = JSON.stringify(v)
    return s.length > 60 ? s.slice(0, 56) + '..."' : s
  }
  if (typeof v === 'bigint') return `${v}`
  return String(v)
}

const SAFE = Number.MAX_SAFE_INTEGER

function deref(js: JsonSchema | undefined, root: JsonSchema): JsonSchema | undefined {
  let cur = js
  for (let i = 0; cur?.$ref !== undefined && i < 10; i++) {
    const m = /^#\/(?:\$defs|definitions)\/(.+)$/.exec(cur.$ref)
    cur = m ? root.$defs?.[decodeURIComponent(m[1])] : undefined
  }
  return cur
}

/** The JSON Schema of the value at `path`, or undefined when the path leaves the schema. */
export function schemaAt(root: JsonSchema, path: readonly PropertyKey[]): JsonSchema | undefined {
  let cur = deref(root, root)
  for (const seg of path) {
    if (cur === undefined) return undefined
    const alts = cur.anyOf ?? cur.oneOf
    if (alts) {
      const next = alts.map((a) => step(deref(a, root), seg)).find((x) => x !== undefined)
      cur = deref(next, root)
      continue
    }
    cur = deref(step(cur, seg), root)
  }
  return cur
}

function step(js: JsonSchema | undefined, seg: PropertyKey): JsonSchema | undefined {
  if (js === undefined) return undefined
  if (typeof seg === 'number') return js.prefixItems?.[seg] ?? js.items
  const prop = js.properties?.[String(seg)]
  if (prop) return prop
  return typeof js.additionalProperties === 'object' ? js.additionalProperties : undefined
}

function bound(min?: number, exclusive?: number, sign = 1): number | undefined {
  if (exclusive !== undefined && Math.abs(exclusive) < SAFE) return exclusive + sign
  if (min !== undefined && Math.abs(min) < SAFE) return min
  return undefined
}

/** A noun phrase for what a schema accepts (`a positive integer`, `one of info, debug`), if known. */
export function describeSchema(js: JsonSchema | undefined, root: JsonSchema = {}): string | undefined {
  js = deref(js, root)
  if (js === undefined) return undefined
  const alts = js.anyOf ?? js.oneOf
  if (alts) {
    const parts = [...new Set(alts.map((a) => describeSchema(a, root)))]
    if (parts.some((p) => p === undefined)) return undefined
    return parts.join(' or ')
  }
  if (js.enum) return `one of ${js.enum.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ')}`
  if (js.const !== undefined) return JSON.stringify(js.const)
  const type = Array.isArray(js.type) ? js.type.find((t) => t !== 'null') : js.type
  switch (type) {
    case 'integer':
    case 'number': {
      const isInt = type === 'integer'
      const min = bound(js.minimum, js.exclusiveMinimum, isInt ? 1 : 0)
      const max = bound(js.maximum, js.exclusiveMaximum, isInt ? -1 : 0)
      const noun = isInt ? 'integer' : 'number'
      if (max === undefined && isInt && min === 1) return 'a positive integer'
      if (max === undefined && !isInt && js.exclusiveMinimum === 0) return 'a positive number'
      if (max === undefined && min === 0) return `a non-negative ${noun}`
      if (min !== undefined && max !== undefined)
        return `an ${noun} from ${min} to ${max}`.replace('an number', 'a number')
      if (min !== undefined) return `${isInt ? 'an' : 'a'} ${noun} >= ${min}`
      if (max !== undefined) return `${isInt ? 'an' : 'a'} ${noun} <= ${max}`
      return isInt ? 'an integer' : 'a number'
    }
    case 'string':
      if (js.pattern !== undefined || js.format !== undefined) return undefined
      if (js.minLength !== undefined && js.minLength > 0 && js.maxLength !== undefined)
        return `a string of ${js.minLength} to ${js.maxLength} characters`
      if (js.minLength === 1) return 'a non-empty string'
      if (js.minLength !== undefined && js.minLength > 1) return `a string of at least ${js.minLength} characters`
      if (js.maxLength !== undefined) return `a string of at most ${js.maxLength} characters`
      return 'a string'
    case 'boolean':
      return 'true or false'
    case 'array':
      if (js.minItems !== undefined && js.minItems > 0)
        return `a list of at least ${js.minItems} item${js.minItems > 1 ? 's' : ''}`
      if (js.maxItems !== undefined) return `a list of at most ${js.maxItems} items`
      return 'a list'
    case 'object':
      return 'a mapping'
    case 'null':
      return 'null'
  }
  return undefined
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]
    dp[0] = i
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]
      dp[j] = Math.min(dp[j] + 1, dp[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1))
      prev = tmp
    }
  }
  return dp[b.length]
}

/** The closest known key, when it is close enough to be a likely typo. */
export function suggestKey(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined
  let bestD = Infinity
  for (const k of known) {
    const d = editDistance(key.toLowerCase(), k.toLowerCase())
    if (d < bestD) [best, bestD] = [k, d]
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(key.length / 3)) ? best : undefined
}

const ZOD_TYPE_NOUN: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1)
}

export interface ProblemContext {
  /** JSON Schema of the root (z.toJSONSchema, io 'input'). */
  readonly jsonSchema: JsonSchema
  /** ` (line 12)` style suffix for a path, when the value came from the file. */
  readonly locate?: (path: readonly PropertyKey[]) => string
}

/** One or more `<path>: <problem>` lines per zod issue (one per unknown key). */
export function formatIssue(issue: z.core.$ZodIssue, ctx: ProblemContext): string[] {
  const where = (path: readonly PropertyKey[]) => ctx.locate?.(path) ?? ''
  const input = (issue as { input?: unknown }).input
  const path = issue.path
  const expected = describeSchema(schemaAt(ctx.jsonSchema, path), ctx.jsonSchema)
  const got = input === undefined ? '' : `, got ${showValue(input)}`
  let text: string
  switch (issue.code) {
    case 'unrecognized_keys': {
      const parent = schemaAt(ctx.jsonSchema, path)
      const known = Object.keys(parent?.properties ?? {})
      return issue.keys.map((key) => {
        const hint = suggestKey(key, known)
        const p = [...path, key]
        return `${formatPath(p)}: unknown key${hint ? ` (did you mean '${hint}'?)` : ''}${where(p)}`
      })
    }
    case 'invalid_type':
      if (input === undefined) text = `required, expected ${expected ?? issue.expected}`
      else text = `expected ${expected ?? ZOD_TYPE_NOUN[issue.expected] ?? issue.expected}${got}`
      break
    case 'invalid_value':
      text = `expected ${expected ?? `one of ${issue.values.map((v) => String(v)).join(', ')}`}${got}`
      break
    case 'too_small':
    case 'too_big':
    case 'not_multiple_of':
    case 'invalid_union':
      text = expected ? `expected ${expected}${got}` : `${lowerFirst(issue.message)}${got}`
      break
    case 'invalid_format':
      text = `${lowerFirst(issue.message)}${got}`
      break
    default:
      text = `${lowerFirst(issue.message)}${input !== undefined && typeof input !== 'object' ? got : ''}`
  }
  return [`${formatPath(path)}: ${text}${where(path)}`]
}
