// The normalised Query (search/query.ts) → the engines' own query DSL, the same body for
// Elasticsearch 8/9 and OpenSearch 2/3: bool/term/match/match_phrase/wildcard/prefix/fuzzy/
// regexp/range/exists only, never query_string, so the engine applies Vigil's semantics and not
// its own Lucene reading (query_string takes `action:(REJECT DISCARD BOUNCE)` on a keyword field as
// ONE term: /work/shared/notes/search-engines.md). The embedded store's SQL compiler implements
// the same table; a change here is a change there:
//
//   field type   term                       phrase           wildcard            fuzzy               regexp
//   keyword      whole value, any case      = term           any case            exact case          exact case
//   text         all words (analyser)       words in order   one word, lowered   one word, lowered   one word, as written
//   ip           address or CIDR            = term           —                   —                   —
//   long/float   number equality            = term           —                   —                   —
//   boolean      true/false                 = term           —                   —                   —
//   date         that millisecond           = term           —                   —                   —
//
// Ranges compare numbers (long, float, date as epoch ms), addresses (ip) or bytes (keyword).
// Fuzzy and regexp are case-sensitive on keyword fields: the engines have no case_insensitive
// fuzzy, and regexp's case_insensitive folds ASCII only (RegExp.ASCII_CASE_INSENSITIVE), which
// the embedded store could not reproduce for other scripts. On text fields wildcard patterns and
// fuzzy values are lower-cased, as the indexed words are. A regexp is never rewritten (it is the
// user's own automaton, and the embedded store runs it as written too), so on a text field it
// must be written in lower case: `subject:/news.*/` finds "Newsletter", `/News.*/` nothing.
import { DEFAULT_FIELDS, fieldSpec, type FieldSpec } from './fields.ts'
import { isIpOrCidr } from './lucene.ts'
import type { Query } from './query.ts'

type Dsl = Record<string, unknown>
type Leaf = Extract<Query, { kind: 'term' | 'phrase' | 'wildcard' | 'fuzzy' | 'regexp' }>

const MATCH_NONE: Dsl = { match_none: {} }
const INTEGER = /^[+-]?\d+$/
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/

/** The engine query for a Query. Pure; never throws (an unknown field matches nothing). */
export function compileDsl(q: Query): Dsl {
  switch (q.kind) {
    case 'all':
      return { match_all: {} }
    case 'none':
      return MATCH_NONE
    case 'bool':
      return compileBool(q)
    case 'exists':
      return { exists: { field: q.field } }
    case 'range':
      return compileRange(q)
    default:
      return q.field === null ? compileUnqualified(q) : compileLeaf(q, q.field, fieldSpec(q.field))
  }
}

/** A range on @timestamp (epoch ms, both ends inclusive), or undefined when neither end is given. */
export function compileTimeRange(fromMs?: number, toMs?: number): Dsl | undefined {
  if (fromMs === undefined && toMs === undefined) return undefined
  const bounds: Dsl = { format: 'epoch_millis' }
  if (fromMs !== undefined) bounds.gte = fromMs
  if (toMs !== undefined) bounds.lte = toMs
  return { range: { '@timestamp': bounds } }
}

/** The query restricted to the time range (a non-scoring filter), or the query alone without one. */
export function withTimeRange(q: Query, fromMs?: number, toMs?: number): Dsl {
  const main = compileDsl(q)
  const time = compileTimeRange(fromMs, toMs)
  if (!time) return main
  return q.kind === 'all' ? { bool: { filter: [time] } } : { bool: { must: [main], filter: [time] } }
}

/**
 * Whether an unqualified leaf (`newsletter`, `"Hello Kitty"`, `10.1.2.3`) is looked up in a
 * default field of this type: a value the type cannot hold is skipped, not an error.
 */
export function acceptsUnqualified(spec: FieldSpec, q: Leaf): boolean {
  if (spec.type === 'keyword' || spec.type === 'text') return true
  if (q.kind !== 'term' && q.kind !== 'phrase') return false
  switch (spec.type) {
    case 'ip':
      return isIpOrCidr(q.value)
    case 'long':
      return INTEGER.test(q.value)
    case 'float':
      return NUMBER.test(q.value)
    case 'boolean':
      return q.value === 'true' || q.value === 'false'
    default:
      return false
  }
}

function compileBool(q: Extract<Query, { kind: 'bool' }>): Dsl {
  const bool: Dsl = {}
  if (q.must.length) bool.must = q.must.map(compileDsl)
  if (q.should.length) {
    bool.should = q.should.map(compileDsl)
    bool.minimum_should_match = q.minimumShould
  }
  if (q.mustNot.length) bool.must_not = q.mustNot.map(compileDsl)
  return Object.keys(bool).length ? { bool } : { match_all: {} }
}

function compileUnqualified(q: Leaf): Dsl {
  const clauses: Dsl[] = []
  for (const name of DEFAULT_FIELDS) {
    const spec = fieldSpec(name)
    if (spec && acceptsUnqualified(spec, q)) clauses.push(compileLeaf(q, name, spec))
  }
  if (!clauses.length) return MATCH_NONE
  return clauses.length === 1 ? clauses[0] : { bool: { should: clauses, minimum_should_match: 1 } }
}

function compileLeaf(q: Leaf, name: string, spec: FieldSpec | undefined): Dsl {
  if (!spec) return MATCH_NONE
  switch (q.kind) {
    case 'term':
      return compileTerm(name, spec, q.value)
    case 'phrase':
      return spec.type === 'text'
        ? { match_phrase: { [name]: { query: q.value, slop: q.slop } } }
        : compileTerm(name, spec, q.value)
    case 'wildcard':
      if (spec.type === 'keyword') return compileWildcard(name, q.pattern)
      return spec.type === 'text' ? compileWildcard(name, q.pattern.toLowerCase()) : MATCH_NONE
    case 'fuzzy':
      if (spec.type !== 'keyword' && spec.type !== 'text') return MATCH_NONE
      return {
        fuzzy: {
          [name]: {
            value: spec.type === 'text' ? q.value.toLowerCase() : q.value,
            fuzziness: q.maxEdits === 'auto' ? 'AUTO' : q.maxEdits,
            transpositions: true,
            prefix_length: 0,
            max_expansions: 50,
          },
        },
      }
    case 'regexp':
      return spec.type === 'keyword' || spec.type === 'text' ? { regexp: { [name]: { value: q.pattern } } } : MATCH_NONE
  }
}

function compileTerm(name: string, spec: FieldSpec, value: string): Dsl {
  switch (spec.type) {
    case 'keyword':
      return { term: { [name]: { value, case_insensitive: true } } }
    case 'text':
      return { match: { [name]: { query: value, operator: 'and' } } }
    case 'ip':
      return { term: { [name]: value } }
    case 'long':
    case 'float':
      return { term: { [name]: toNumber(value) } }
    case 'boolean':
      return { term: { [name]: value === 'true' } }
    case 'date':
      return { range: { [name]: { gte: value, lte: value, format: 'epoch_millis' } } }
    case 'geo_point':
      return MATCH_NONE
  }
}

function compileRange(q: Extract<Query, { kind: 'range' }>): Dsl {
  const spec = fieldSpec(q.field)
  if (!spec) return MATCH_NONE
  const numeric = spec.type === 'long' || spec.type === 'float'
  const bounds: Dsl = {}
  for (const k of ['gte', 'gt', 'lte', 'lt'] as const) {
    const v = q[k]
    if (v !== undefined) bounds[k] = numeric ? toNumber(v) : v
  }
  if (spec.type === 'date') bounds.format = 'epoch_millis'
  return { range: { [q.field]: bounds } }
}

// `literal*` is a prefix query (cheaper on the engines); anything else a wildcard query.
function compileWildcard(name: string, pattern: string): Dsl {
  const literal = trailingStarLiteral(pattern)
  if (literal !== undefined) return { prefix: { [name]: { value: literal, case_insensitive: true } } }
  return { wildcard: { [name]: { value: pattern, case_insensitive: true } } }
}

/** The unescaped literal of a pattern that is `literal*`, else undefined. */
function trailingStarLiteral(pattern: string): string | undefined {
  let out = ''
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]
    if (c === '\\' && i + 1 < pattern.length) out += pattern[++i]
    else if (c === '*' && i === pattern.length - 1 && out) return out
    else if (c === '*' || c === '?') return undefined
    else out += c
  }
  return undefined
}

// Numbers beyond 2^53 stay strings: the engines parse them exactly, a JS number would round.
function toNumber(v: string): number | string {
  const n = Number(v)
  if (!Number.isFinite(n)) return v
  return INTEGER.test(v) && !Number.isSafeInteger(n) ? v : n
}
