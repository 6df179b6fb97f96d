// Query AST → one SQL boolean expression over `docs d` (collector/src/search/query.ts), with the
// per-type semantics the engine backend gets from its mapping, so both answer alike:
//   keyword  term/phrase/wildcard case-insensitive on the whole value (kw.lower); fuzzy and
//            regexp case-sensitive on the value; ranges byte-wise (SQLite BINARY = UTF-8 bytes,
//            the order of Lucene's BytesRef).
//   text     term = every analysed word of the value, anywhere in the field (match, AND);
//            phrase = Lucene's (sloppy) phrase over positions; wildcard/fuzzy on single
//            lower-cased words; regexp on single words with the pattern as written.
//   ip       address or CIDR, v4 = its ::ffff: mapped v6; ranges on the 16-byte form.
//   numbers  equality/ranges on the stored value (float fields are float32, as in the engines).
//   date     epoch ms; a term with a partial date (`2024-01-01`) covers the whole unit.
// Every leaf is `d.rid IN (SELECT rid FROM <side table> WHERE fid = ? AND …)`, an index range
// on (fid, value…), materialised once per statement by SQLite.
import { DEFAULT_FIELDS, isDoubleField, type FieldSpec } from '../../search/fields.ts'
import { QueryError, type Query } from '../../search/query.ts'
import { dateRange, parseDateMs, parseIp, parseIpOrCidr } from './coerce.ts'
import { fuzzyEdits, luceneRegexToRegex, wildcardPrefix, wildcardToRegex } from './matchers.ts'
import type { StoredField } from './schema.ts'
import { tokenize } from './tokenize.ts'

export interface SqlFragment {
  readonly sql: string
  readonly params: unknown[]
}

export const TRUE: SqlFragment = { sql: '1', params: [] }
export const FALSE: SqlFragment = { sql: '0', params: [] }

export interface CompileContext {
  readonly fields: ReadonlyMap<string, StoredField>
  /** The query text, for QueryError messages. */
  readonly text?: string
}

type Leaf = Exclude<Query, { kind: 'all' | 'none' | 'bool' }>

/** Compiles a query; throws QueryError where a qualified term cannot be a value of its field. */
export function compileQuery(q: Query, ctx: CompileContext): SqlFragment {
  switch (q.kind) {
    case 'all':
      return TRUE
    case 'none':
      return FALSE
    case 'bool':
      return compileBool(q, ctx)
    default:
      if ((q.kind === 'range' || q.kind === 'exists') && q.field === null) return FALSE
      if (q.field === null) return or(DEFAULT_FIELDS.map((f) => compileLeaf(q, f, ctx, true)).filter(isFragment))
      return compileLeaf(q, q.field, ctx, false) ?? FALSE
  }
}

// Lucene's classic bool (query.ts): with must or mustNot clauses, should clauses only filter
// when minimumShould is 1; a bool of should clauses alone needs one of them; an empty bool, or
// one with only mustNot clauses, starts from every document.
function compileBool(q: Extract<Query, { kind: 'bool' }>, ctx: CompileContext): SqlFragment {
  const parts = q.must.map((c) => compileQuery(c, ctx))
  const shouldFilters = q.minimumShould === 1 || (q.must.length === 0 && q.mustNot.length === 0)
  if (q.should.length && shouldFilters) parts.push(or(q.should.map((c) => compileQuery(c, ctx))))
  for (const c of q.mustNot) parts.push(not(compileQuery(c, ctx)))
  return and(parts)
}

function isFragment(x: SqlFragment | null): x is SqlFragment {
  return x !== null
}

export function and(parts: readonly SqlFragment[]): SqlFragment {
  if (parts.some((p) => p === FALSE)) return FALSE
  const rest = parts.filter((p) => p !== TRUE)
  if (!rest.length) return TRUE
  if (rest.length === 1) return rest[0]
  return { sql: rest.map((p) => `(${p.sql})`).join(' AND '), params: rest.flatMap((p) => p.params) }
}

export function or(parts: readonly SqlFragment[]): SqlFragment {
  if (parts.some((p) => p === TRUE)) return TRUE
  const rest = parts.filter((p) => p !== FALSE)
  if (!rest.length) return FALSE
  if (rest.length === 1) return rest[0]
  return { sql: rest.map((p) => `(${p.sql})`).join(' OR '), params: rest.flatMap((p) => p.params) }
}

export function not(p: SqlFragment): SqlFragment {
  if (p === TRUE) return FALSE
  if (p === FALSE) return TRUE
  return { sql: `NOT (${p.sql})`, params: p.params }
}

/**
 * The time range of the request being compiled (compileQueryIn). kw, num and ip rows repeat their
 * document's ts_ms, so a leaf can drop out-of-range rows inside its own index scan instead of
 * looking every match up in `docs` first: `size:[9000 TO *]` over the last day reads that day's
 * matches, not a month's. Equivalent under NOT too, since the caller keeps `d.ts_ms` in range.
 */
let leafRange: { fromMs?: number; toMs?: number } | undefined
const TIMED_TABLES = new Set(['kw', 'num', 'ip'])

function side(table: string, where: string, params: unknown[]): SqlFragment {
  if (leafRange && TIMED_TABLES.has(table)) {
    const extra: string[] = []
    const p = [...params]
    if (leafRange.fromMs !== undefined) {
      extra.push('ts_ms >= ?')
      p.push(Math.trunc(leafRange.fromMs))
    }
    if (leafRange.toMs !== undefined) {
      extra.push('ts_ms <= ?')
      p.push(Math.trunc(leafRange.toMs))
    }
    if (extra.length)
      return { sql: `d.rid IN (SELECT rid FROM ${table} WHERE ${where} AND ${extra.join(' AND ')})`, params: p }
  }
  return { sql: `d.rid IN (SELECT rid FROM ${table} WHERE ${where})`, params }
}

/** compileQuery for a request limited to [fromMs, toMs] on @timestamp (the caller still ANDs timeRange). */
export function compileQueryIn(q: Query, ctx: CompileContext, fromMs?: number, toMs?: number): SqlFragment {
  leafRange = fromMs === undefined && toMs === undefined ? undefined : { fromMs, toMs }
  try {
    return compileQuery(q, ctx)
  } finally {
    leafRange = undefined
  }
}

// null: the field's type cannot take this value (skipped for unqualified terms, a QueryError
// for a qualified one).
function compileLeaf(q: Leaf, name: string, ctx: CompileContext, lenient: boolean): SqlFragment | null {
  if (name === '@timestamp') return timestampLeaf(q, ctx, lenient)
  const f = ctx.fields.get(name)
  if (!f) return unknownField(q, name, ctx)
  const bad = (what: string): null => {
    if (lenient) return null
    throw new QueryError(what, q.span, ctx.text ?? '')
  }
  if (q.kind === 'exists') return side(f.table, 'fid = ?', [f.id])
  switch (f.table) {
    case 'kw':
      return keywordLeaf(q, f, ctx)
    case 'tok':
      return textLeaf(q, f, ctx)
    case 'num':
      return numberLeaf(q, f, bad)
    case 'ip':
      return ipLeaf(q, f, bad)
    case 'geo':
      return bad(`Field "${name}" (geo_point) supports only _exists_`)
  }
}

// A name outside the catalogue: `_exists_:recipients` means any of its sub-fields (as the
// engines read an object path); anything else matches nothing (the API rejects unknown fields
// before this, the same on every backend).
function unknownField(q: Leaf, name: string, ctx: CompileContext): SqlFragment {
  if (q.kind !== 'exists') return FALSE
  const subs = [...ctx.fields.values()].filter((f) => f.spec.name.startsWith(`${name}.`))
  return or(subs.map((f) => side(f.table, 'fid = ?', [f.id])))
}

function keywordLeaf(q: Leaf, f: StoredField, ctx: CompileContext): SqlFragment | null {
  switch (q.kind) {
    case 'term':
    case 'phrase':
      return side('kw', 'fid = ? AND lower = ?', [f.id, q.value.toLowerCase()])
    case 'wildcard':
      return wildcardOn('kw', 'lower', f, q.pattern.toLowerCase())
    case 'fuzzy': {
      const edits = fuzzyEdits(q.value, q.maxEdits)
      if (edits === 0) return side('kw', 'fid = ? AND lower = ? AND value = ?', [f.id, q.value.toLowerCase(), q.value])
      return fuzzyOn('kw', 'value', f, q.value, edits)
    }
    case 'regexp':
      return side('kw', 'fid = ? AND vigil_re(?, value)', [f.id, luceneRegexToRegex(q.pattern, q.span, ctx.text)])
    case 'range':
      return rangeOn('kw', 'value', f, q, (s) => s)
    case 'exists':
      return side('kw', 'fid = ?', [f.id])
  }
}

function wildcardOn(table: string, col: string, f: StoredField, pattern: string): SqlFragment {
  if (/^\*+$/.test(pattern)) return side(table, 'fid = ?', [f.id])
  const prefix = wildcardPrefix(pattern)
  const re = wildcardToRegex(pattern)
  if (!prefix) return side(table, `fid = ? AND vigil_re(?, ${col})`, [f.id, re])
  return side(table, `fid = ? AND ${col} >= ? AND ${col} < ? AND vigil_re(?, ${col})`, [
    f.id,
    prefix,
    prefixEnd(prefix),
    re,
  ])
}

// The least string greater than every string starting with `prefix` (UTF-8 order = code point order).
function prefixEnd(prefix: string): string {
  const cps = [...prefix]
  const last = cps.pop()!.codePointAt(0)!
  const next = last === 0xd7ff ? 0xe000 : last + 1
  return cps.join('') + String.fromCodePoint(Math.min(next, 0x10ffff))
}

function fuzzyOn(table: string, col: string, f: StoredField, value: string, edits: number): SqlFragment {
  const len = [...value].length
  return side(table, `fid = ? AND length(${col}) BETWEEN ? AND ? AND vigil_fuzzy(${col}, ?, ?)`, [
    f.id,
    Math.max(0, len - edits),
    len + edits,
    value,
    edits,
  ])
}

function rangeOn(
  table: string,
  col: string,
  f: StoredField,
  q: Extract<Leaf, { kind: 'range' }>,
  conv: (s: string) => unknown,
): SqlFragment {
  const conds = ['fid = ?']
  const params: unknown[] = [f.id]
  for (const [op, bound] of [
    ['>=', q.gte],
    ['>', q.gt],
    ['<=', q.lte],
    ['<', q.lt],
  ] as const) {
    if (bound === undefined || bound === '*') continue
    conds.push(`${col} ${op} ?`)
    params.push(conv(bound))
  }
  return side(table, conds.join(' AND '), params)
}

function textLeaf(q: Leaf, f: StoredField, ctx: CompileContext): SqlFragment | null {
  switch (q.kind) {
    case 'term': {
      const toks = [...new Set(tokenize(q.value))]
      if (!toks.length) return FALSE
      return and(toks.map((t) => side('tok', 'fid = ? AND token = ?', [f.id, t])))
    }
    case 'phrase':
      return phraseOn(f, tokenize(q.value), q.slop)
    case 'wildcard':
      return wildcardOn('tok', 'token', f, q.pattern.toLowerCase())
    case 'fuzzy': {
      const v = q.value.toLowerCase()
      const edits = fuzzyEdits(v, q.maxEdits)
      if (edits === 0) return side('tok', 'fid = ? AND token = ?', [f.id, v])
      return fuzzyOn('tok', 'token', f, v, edits)
    }
    case 'regexp':
      return side('tok', 'fid = ? AND vigil_re(?, token)', [f.id, luceneRegexToRegex(q.pattern, q.span, ctx.text)])
    case 'range':
      return rangeOn('tok', 'token', f, q, (s) => s)
    case 'exists':
      return side('tok', 'fid = ?', [f.id])
  }
}

/**
 * Lucene's phrase: term i at position p_i with every (p_i − i) within `slop` of each other
 * (slop 0: consecutive). This is the sloppy matcher's match length, so reordered terms match
 * at their cost ("b a"~2 finds "a b") as in Lucene; a repeated term needs distinct positions.
 */
function phraseOn(f: StoredField, tokens: string[], slop: number): SqlFragment {
  if (!tokens.length) return FALSE
  if (tokens.length === 1) return side('tok', 'fid = ? AND token = ?', [f.id, tokens[0]])
  const joins: string[] = []
  const params: unknown[] = []
  for (let j = 1; j < tokens.length; j++) {
    const conds = [`t${j}.fid = t0.fid`, `t${j}.token = ?`, `t${j}.rid = t0.rid`]
    params.push(tokens[j])
    if (slop === 0) conds.push(`t${j}.pos = t0.pos + ${j}`)
    else
      for (let i = 0; i < j; i++) {
        conds.push(`abs((t${j}.pos - ${j}) - (t${i}.pos - ${i})) <= ${Math.trunc(slop)}`)
        if (tokens[i] === tokens[j]) conds.push(`t${j}.pos != t${i}.pos`)
      }
    joins.push(`JOIN tok t${j} ON ${conds.join(' AND ')}`)
  }
  return {
    sql: `d.rid IN (SELECT t0.rid FROM tok t0 ${joins.join(' ')} WHERE t0.fid = ? AND t0.token = ?)`,
    params: [...params, f.id, tokens[0]],
  }
}

function numberLeaf(q: Leaf, f: StoredField, bad: (what: string) => null): SqlFragment | null {
  const parse = (s: string) => parseNumber(f.spec, s)
  switch (q.kind) {
    case 'term':
    case 'phrase': {
      if (f.spec.type === 'date') {
        const r = dateRange(q.value) ?? (/^-?\d+$/.test(q.value) ? [Number(q.value), Number(q.value)] : undefined)
        if (!r) return bad(`"${q.value}" is not a date`)
        return side('num', 'fid = ? AND value BETWEEN ? AND ?', [f.id, r[0], r[1]])
      }
      const n = parse(q.value)
      if (n === undefined) return bad(`"${q.value}" is not a valid ${f.spec.type} for field "${f.spec.name}"`)
      // A long term with a decimal part matches nothing (ES: "Value [1.5] has a decimal part").
      if (f.spec.type === 'long' && !Number.isInteger(n)) return FALSE
      return side('num', 'fid = ? AND value = ?', [f.id, n])
    }
    case 'range': {
      for (const b of [q.gte, q.gt, q.lte, q.lt])
        if (b !== undefined && b !== '*' && parse(b) === undefined)
          return bad(`"${b}" is not a valid ${f.spec.type} for field "${f.spec.name}"`)
      return rangeOn('num', 'value', f, q, (s) => parse(s))
    }
    case 'exists':
      return side('num', 'fid = ?', [f.id])
    default:
      return bad(`Field "${f.spec.name}" (${f.spec.type}) does not support ${q.kind} queries`)
  }
}

/** A query value in a numeric field's stored form (float32 for float, 0/1 for boolean), or undefined. */
export function parseNumber(spec: FieldSpec, s: string): number | undefined {
  const t = s.trim()
  switch (spec.type) {
    case 'boolean':
      return t === 'true' ? 1 : t === 'false' ? 0 : undefined
    case 'date':
      return parseDateMs(t)
    case 'float':
    case 'long': {
      if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return undefined
      const n = Number(t)
      return spec.type === 'float' && !isDoubleField(spec.name) ? Math.fround(n) : n
    }
    default:
      return undefined
  }
}

function ipLeaf(q: Leaf, f: StoredField, bad: (what: string) => null): SqlFragment | null {
  switch (q.kind) {
    case 'term':
    case 'phrase': {
      const r = parseIpOrCidr(q.value)
      if (!r) return bad(`"${q.value}" is not an IP address or CIDR`)
      return side('ip', 'fid = ? AND value BETWEEN ? AND ?', [f.id, r[0], r[1]])
    }
    case 'range': {
      for (const b of [q.gte, q.gt, q.lte, q.lt])
        if (b !== undefined && b !== '*' && !parseIp(b)) return bad(`"${b}" is not an IP address`)
      return rangeOn('ip', 'value', f, q, (s) => parseIp(s))
    }
    case 'exists':
      return side('ip', 'fid = ?', [f.id])
    default:
      return bad(`Field "${f.spec.name}" (ip) does not support ${q.kind} queries`)
  }
}

// @timestamp is the docs.ts_ms column (indexed), not a side table: every document has it.
function timestampLeaf(q: Leaf, ctx: CompileContext, lenient: boolean): SqlFragment | null {
  const bad = (what: string): null => {
    if (lenient) return null
    throw new QueryError(what, q.span, ctx.text ?? '')
  }
  switch (q.kind) {
    case 'exists':
      return TRUE
    case 'term':
    case 'phrase': {
      const r = /^-?\d+$/.test(q.value) ? [Number(q.value), Number(q.value)] : dateRange(q.value)
      if (!r) return bad(`"${q.value}" is not a date`)
      return { sql: 'd.ts_ms BETWEEN ? AND ?', params: [r[0], r[1]] }
    }
    case 'range': {
      const conds: string[] = []
      const params: unknown[] = []
      for (const [op, b] of [
        ['>=', q.gte],
        ['>', q.gt],
        ['<=', q.lte],
        ['<', q.lt],
      ] as const) {
        if (b === undefined || b === '*') continue
        const ms = parseDateMs(b)
        if (ms === undefined) return bad(`"${b}" is not a date`)
        conds.push(`d.ts_ms ${op} ?`)
        params.push(ms)
      }
      return conds.length ? { sql: conds.join(' AND '), params } : TRUE
    }
    default:
      return bad(`Field "@timestamp" (date) does not support ${q.kind} queries`)
  }
}
