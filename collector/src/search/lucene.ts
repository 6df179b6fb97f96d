// The one Lucene front end of Vigil's search: a query string → the normalised Query of
// search/query.ts, which every backend compiles (compile-dsl.ts for the engines, backends/embedded/
// for SQLite). The `lucene` package (bripkens, 2.1.1) parses; this module fixes what it gets wrong
// or leaves open (measured in /work/shared/notes/dashboard-libraries.md §5):
//   - it has no precedence and nests to the right (`a AND b OR c` → a AND (b OR c)), and it drops
//     operators silently (`a OR`, `a AND AND b`, `a && NOT b` → a AND b, `a AND  NOT b` likewise).
//     So the boolean structure is read from the query text between the leaves it found (`lintChains`):
//     every operator and parenthesis is checked there, each operand gets its connector, and the
//     chains are rebuilt with NOT > AND > OR and Lucene's +/- clause semantics (`buildChain`);
//   - `-(a b)` is a syntax error for it: a sign before a parenthesis is swapped for a private-use
//     sentinel character of the same length (offsets stay those of the user's text);
//   - `roam~1` comes back as the fuzzy `roam~` and a separate term `1`: merged again;
//   - wildcards, `field:*`, `_exists_:f`, `x:>=5`, escapes and typed values are left to us.
import lucene from 'lucene'
import { isIP } from 'node:net'
import { resolveDateMath, type DateRounding } from './date-math.ts'
import { fieldNames, fieldSpec, type FieldSpec } from './fields.ts'
import { QueryError, type Query, type Span } from './query.ts'

/** The parser's nodes, as observed (its typings omit `&&`/`||`, `proximity` and the range leaf's fields). */
interface Loc {
  readonly start: { readonly offset: number }
  readonly end: { readonly offset: number }
}
interface RawNode {
  readonly left?: RawNode
  readonly right?: RawNode
  readonly operator?: string
  readonly start?: string
  readonly parenthesized?: boolean
  readonly field?: string
  readonly fieldLocation?: Loc | null
  readonly term?: string
  readonly quoted?: boolean
  readonly regex?: boolean
  readonly prefix?: string | null
  readonly similarity?: number | null
  readonly proximity?: number | null
  readonly termLocation?: Loc
  readonly term_min?: string
  readonly term_max?: string
  readonly inclusive?: 'both' | 'none' | 'left' | 'right'
}

type Sign = '+' | '-' | '!'
type Word = 'AND' | 'OR' | 'NOT'

/** What joins an operand to the one before it, read from the query text. */
interface Connector {
  readonly op?: 'AND' | 'OR'
  readonly not: boolean
}

const SENTINEL: Readonly<Record<Sign, string>> = { '+': '\uE000', '-': '\uE001', '!': '\uE002' }
// The package's range bounds cannot hold `/`, which date math needs (`[now/d TO now]`, as Lucene allows).
const RANGE_SLASH = '\uE003'
const SENTINEL_SIGN = new Map<string, Sign>(Object.entries(SENTINEL).map(([s, c]) => [c, s as Sign]))
const OPERATOR_WORDS = new Map<string, Word>([
  ['AND', 'AND'],
  ['&&', 'AND'],
  ['OR', 'OR'],
  ['||', 'OR'],
  ['NOT', 'NOT'],
])

/** One parse: the text the package saw, and what we learnt about it. */
interface Ctx {
  readonly query: string
  readonly text: string
  readonly nowMs: number
  /** Spans of leaves (terms, ranges) and field-group heads (`action:(`), by node. */
  readonly spans: Map<RawNode, Span>
  /** Connector of every operand start (leaf, group head or parenthesis), by offset. */
  readonly connectors: Map<number, Connector>
  /** Opening parentheses: offset, and the nesting depth outside them. */
  readonly parens: { offset: number; depth: number }[]
  /** Range leaves: from the opening to the closing bracket. */
  readonly brackets: Map<RawNode, Span>
}

/**
 * Parses a Lucene query string into the normalised Query. `nowMs` anchors date math (`now-1h`).
 * Throws QueryError (message and 0-based span) for a syntax error, a dangling or doubled
 * operator, an unknown field, or a value its field's type cannot hold.
 */
export function parseQuery(q: string, nowMs: number = Date.now()): Query {
  if (q.trim() === '') return { kind: 'all' }
  const reserved = /[\uE000-\uE003]/.exec(q)
  if (reserved) throw new QueryError('Unexpected character', { start: reserved.index, end: reserved.index + 1 }, q)
  const lex = scanLexical(q)
  const text = withSentinels(q, lex)
  let ast: RawNode
  try {
    ast = lucene.parse(text) as unknown as RawNode
  } catch (err) {
    throw toQueryError(err, q, lex)
  }
  const ctx: Ctx = { query: q, text, nowMs, spans: new Map(), connectors: new Map(), parens: [], brackets: new Map() }
  lintChains(ctx, ast, lex.ranges)
  if (!ast.left) return { kind: 'all' }
  return normChain(ctx, ast, 0, null)
}

// ---------------------------------------------------------------------------------------------
// Lexical scan: where ranges are (the package gives them no location), which signs stand
// before a parenthesis, and what is left open at the end (for the syntax error's hint).

interface Lexical {
  readonly ranges: Span[]
  readonly signParens: number[]
  readonly open: { quote?: number; regex?: number; range?: number; parens: number }
}

function scanLexical(q: string): Lexical {
  const ranges: Span[] = []
  const signParens: number[] = []
  let parens = 0
  let i = 0
  const skipTo = (close: string, from: number): number => {
    for (let j = from; j < q.length; j++) {
      if (q[j] === '\\') j++
      else if (close.includes(q[j])) return j
    }
    return -1
  }
  while (i < q.length) {
    const c = q[i]
    if (c === '\\') {
      i += 2
      continue
    }
    if (c === '"' || c === '/' || c === '[' || c === '{') {
      const end = skipTo(c === '"' ? '"' : c === '/' ? '/' : ']}', i + 1)
      if (end < 0) {
        const key = c === '"' ? 'quote' : c === '/' ? 'regex' : 'range'
        return { ranges, signParens, open: { [key]: i, parens } }
      }
      if (c === '[' || c === '{') ranges.push({ start: i, end: end + 1 })
      i = end + 1
      continue
    }
    if (c === '(') parens++
    else if (c === ')') parens--
    else if ((c === '+' || c === '-' || c === '!') && q[i + 1] === '(' && isClauseStart(q, i)) signParens.push(i)
    else if ((c === '+' || c === '-' || c === '!') && q[i + 1] === '(' && q[i - 1] === ':') {
      throw new QueryError(`Put "${c}" before the field name`, { start: i, end: i + 1 }, q)
    }
    i++
  }
  return { ranges, signParens, open: { parens } }
}

function isClauseStart(q: string, i: number): boolean {
  return i === 0 || /[\s(]/.test(q[i - 1])
}

/** The text the package parses: same length and offsets as the user's. */
function withSentinels(q: string, lex: Lexical): string {
  const chars = q.split('')
  for (const i of lex.signParens) chars[i] = SENTINEL[chars[i] as Sign]
  for (const r of lex.ranges) {
    for (let i = r.start; i < r.end; i++) if (chars[i] === '/' && chars[i - 1] !== '\\') chars[i] = RANGE_SLASH
  }
  return chars.join('')
}

// ---------------------------------------------------------------------------------------------
// Syntax errors: the package's message lists up to 194 expectations; ours says what was found.

interface PegError {
  name: string
  found: string | null
  location: Loc
  expected?: { type: string; text?: string; parts?: unknown[] }[]
}

function toQueryError(err: unknown, q: string, lex: Lexical): unknown {
  const e = err as PegError
  if (!e || e.name !== 'SyntaxError' || !e.location) return err
  const at = e.location.start.offset
  const literals = new Set((e.expected ?? []).filter((x) => x.type === 'literal').map((x) => x.text))
  if (e.found === null) {
    if (lex.open.regex !== undefined) {
      const slash = slashHint(q, lex.open.regex)
      if (slash) return new QueryError(slash, { start: lex.open.regex, end: lex.open.regex + 1 }, q)
    }
    let hint = ''
    if (lex.open.quote !== undefined) hint = '; expected a closing quote'
    else if (lex.open.regex !== undefined) hint = '; expected "/"'
    else if (lex.open.range !== undefined) hint = literals.has(']') ? '; expected "]" or "}"' : ''
    else if (lex.open.parens > 0 && literals.has(')')) hint = '; expected ")"'
    else if ((e.expected ?? []).every((x) => x.type === 'class')) hint = digitsOnly(e) ? '; expected a number' : ''
    return new QueryError(`Unexpected end of query${hint}`, { start: at, end: at }, q)
  }
  const span = { start: at, end: Math.max(e.location.end.offset, at + 1) }
  const found = e.found === RANGE_SLASH ? '/' : (SENTINEL_SIGN.get(e.found) ?? e.found)
  const hint = found === ':' ? colonHint(q, at) : ''
  return new QueryError(`Unexpected ${JSON.stringify(found)}${hint}`, span, q)
}

function digitsOnly(e: PegError): boolean {
  return (e.expected ?? []).length > 0 && (e.expected ?? []).every((x) => JSON.stringify(x.parts) === '[["0","9"]]')
}

/** The whitespace-delimited word around offset `at`. */
function wordAround(q: string, at: number): { start: number; word: string } {
  let start = at
  while (start > 0 && !/[\s()]/.test(q[start - 1])) start--
  let end = at
  while (end < q.length && !/[\s()]/.test(q[end])) end++
  return { start, word: q.slice(start, end) }
}

const IPV6ISH = /^[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}(?:\/\d{1,3})?$/i

// Unquoted IPv6 (`client_ip:2001:db8::1`) fails at the second colon; so do times.
function colonHint(q: string, at: number): string {
  const { word } = wordAround(q, at)
  const m = /^([+\-!]?)([^:]+):(.*)$/.exec(word)
  if (IPV6ISH.test(word) && /\d/.test(word)) return `; quote IPv6 addresses: "${word}"`
  if (!m) return ''
  const spec = fieldSpec(m[2])
  if (spec?.type === 'date') return `; quote date-times: ${m[1]}${m[2]}:"${m[3]}"`
  if (spec?.type === 'ip' || (IPV6ISH.test(m[3]) && /\d/.test(m[3]))) {
    return `; quote IPv6 addresses: ${m[1]}${m[2]}:"${m[3]}"`
  }
  return ''
}

// Unquoted CIDR (`client_ip:10.0.0.0/8`) or date math (`@timestamp:now/d`): the slash opens a
// regular expression that never ends.
function slashHint(q: string, slash: number): string | undefined {
  const { word } = wordAround(q, slash)
  const m = /^([+\-!]?([^:]+):)?(.+)$/.exec(word)
  if (!m) return undefined
  const field = m[1] ?? ''
  if (/^[0-9a-f.:]+\/\d{1,3}$/i.test(m[3]) && isIpOrCidr(m[3])) return `Unexpected "/"; quote CIDRs: ${field}"${m[3]}"`
  if (m[2] && fieldSpec(m[2])?.type === 'date') return `Unexpected "/"; quote date math: ${field}"${m[3]}"`
  return undefined
}

// ---------------------------------------------------------------------------------------------
// Chains: the boolean structure between the leaves, read from the text.

type Item =
  | { kind: 'leaf'; node: RawNode; span: Span }
  | { kind: 'head'; node: RawNode; span: Span }
  | { kind: 'sign'; sign: Sign; span: Span }
  | { kind: 'word'; word: Word; text: string; span: Span }

function lintChains(ctx: Ctx, ast: RawNode, ranges: readonly Span[]): void {
  const items = collectItems(ctx, ast, [...ranges])
  const state = createChainLinter(ctx)
  let pos = 0
  for (const item of items) {
    if (item.span.start < pos) throw new QueryError('Cannot read this query', item.span, ctx.query)
    gapTokens(ctx, pos, item.span.start).forEach(state.token)
    state.item(item)
    pos = item.span.end
  }
  gapTokens(ctx, pos, ctx.text.length).forEach(state.token)
  state.end()
}

/** Leaves and group heads in text order (the package builds its tree left to right). */
function collectItems(ctx: Ctx, node: RawNode, ranges: Span[]): Item[] {
  const out: Item[] = []
  const walk = (n: RawNode | undefined): void => {
    if (!n) return
    if (n.term_min !== undefined) {
      const r = ranges.shift()
      if (!r) throw new QueryError('Cannot read this query', { start: 0, end: ctx.query.length }, ctx.query)
      const span = { start: n.fieldLocation ? n.fieldLocation.start.offset : r.start, end: r.end }
      ctx.spans.set(n, span)
      ctx.brackets.set(n, r)
      out.push({ kind: 'leaf', node: n, span })
      return
    }
    if (n.termLocation) {
      out.push(leafItem(ctx, n))
      return
    }
    if (n.field !== undefined && n.fieldLocation) {
      const open = ctx.text.indexOf('(', n.fieldLocation.end.offset)
      const span = { start: n.fieldLocation.start.offset, end: open + 1 }
      ctx.spans.set(n, span)
      out.push({ kind: 'head', node: n, span })
    }
    walk(n.left)
    walk(n.right)
  }
  walk(node)
  return out
}

function leafItem(ctx: Ctx, n: RawNode): Item {
  const t = trimSpan(ctx.text, n.termLocation!)
  const span = { start: n.fieldLocation ? n.fieldLocation.start.offset : t.start, end: t.end }
  ctx.spans.set(n, span)
  const sign = sentinelSign(n)
  if (sign) return { kind: 'sign', sign, span }
  const word = operatorWord(n)
  if (word) return { kind: 'word', word, text: n.term!, span }
  return { kind: 'leaf', node: n, span }
}

function isBareTerm(n: RawNode): boolean {
  return !!n.termLocation && n.field === '<implicit>' && !n.quoted && !n.regex && !n.prefix && n.similarity == null
}

/** A sign we put before a parenthesis. */
function sentinelSign(n: RawNode): Sign | undefined {
  return isBareTerm(n) ? SENTINEL_SIGN.get(n.term!) : undefined
}

/** `NOT(a)`, `(a OR)`: the package reads an operator glued to a parenthesis as a term. */
function operatorWord(n: RawNode): Word | undefined {
  return isBareTerm(n) ? OPERATOR_WORDS.get(n.term!) : undefined
}

/** termLocation includes the whitespace around the term ("a b": `a` is 0–2). */
function trimSpan(text: string, loc: Loc): Span {
  let start = loc.start.offset
  let end = loc.end.offset
  while (start < end && /\s/.test(text[start])) start++
  while (end > start && /\s/.test(text[end - 1])) end--
  return { start, end }
}

type GapToken = { kind: 'open' | 'close'; span: Span } | Item

function gapTokens(ctx: Ctx, from: number, to: number): GapToken[] {
  const out: GapToken[] = []
  const re = /\s+|\(|\)|&&|\|\||[^\s()]+/gy
  re.lastIndex = from
  const gap = ctx.text.slice(0, to)
  for (let m = re.exec(gap); m; m = re.exec(gap)) {
    const span = { start: m.index, end: m.index + m[0].length }
    if (/^\s/.test(m[0])) continue
    if (m[0] === '(') out.push({ kind: 'open', span })
    else if (m[0] === ')') out.push({ kind: 'close', span })
    else {
      const word = OPERATOR_WORDS.get(m[0])
      if (!word) throw new QueryError(`Unexpected ${JSON.stringify(m[0])}`, span, ctx.query)
      out.push({ kind: 'word', word, text: m[0], span })
    }
    if (re.lastIndex >= to) break
  }
  return out
}

/**
 * The state machine that checks the operators between operands and records each operand's
 * connector: `a OR`, `AND a`, `a AND AND b`, `NOT NOT a`, `(a OR)` are errors with the
 * operator's span.
 */
function createChainLinter(ctx: Ctx) {
  const q = ctx.query
  let expectOperand = true
  let atGroupStart = true
  let depth = 0
  let op: { op: 'AND' | 'OR'; text: string; span: Span } | undefined
  let not: Span | undefined
  let sign: Span | undefined
  const fail = (message: string, span: Span): never => {
    throw new QueryError(message, span, q)
  }
  const dangling = (): never => {
    if (not) fail('Missing term after NOT', not)
    if (sign) fail(`Missing term after "${q[sign.start]}"`, sign)
    return fail(`Missing term after ${op!.text}`, op!.span)
  }
  const take = (offset: number) => {
    ctx.connectors.set(offset, { op: op?.op, not: !!not })
    op = undefined
    not = undefined
    sign = undefined
  }
  const word = (w: Word, text: string, span: Span) => {
    if (w === 'NOT') {
      if (not || sign) fail('Unexpected "NOT"', span)
      not = span
      expectOperand = true
      return
    }
    if (!expectOperand) {
      op = { op: w, text, span }
      expectOperand = true
      return
    }
    if (not) fail(`Unexpected ${JSON.stringify(text)} after NOT`, span)
    if (op) fail(`Unexpected ${JSON.stringify(text)} after ${op.text}`, span)
    fail(atGroupStart ? `Missing term before ${text}` : `Unexpected ${JSON.stringify(text)}`, span)
  }
  const open = (span: Span) => {
    ctx.parens.push({ offset: span.start, depth })
    take(span.start)
    depth++
    expectOperand = true
    atGroupStart = true
  }
  const close = (span: Span) => {
    if (op || not || sign) dangling()
    if (expectOperand) fail('Unexpected ")"', span)
    depth--
    atGroupStart = false
  }
  return {
    token(t: GapToken): void {
      if (t.kind === 'open') open(t.span)
      else if (t.kind === 'close') close(t.span)
      else if (t.kind === 'word') word(t.word, t.text, t.span)
    },
    item(t: Item): void {
      if (t.kind === 'word') return word(t.word, t.text, t.span)
      if (t.kind === 'sign') {
        if (not) fail(`Unexpected "${t.sign}" after NOT`, t.span)
        take(t.span.start)
        sign = t.span
        expectOperand = true
        return
      }
      if (t.kind === 'head') return open(t.span)
      take(t.span.start)
      expectOperand = false
      atGroupStart = false
    },
    end(): void {
      if (op || not || sign) dangling()
    },
  }
}

// ---------------------------------------------------------------------------------------------
// Normalisation

interface Operand {
  readonly query: Query
  readonly op?: 'AND' | 'OR'
  readonly negated: boolean
  readonly required: boolean
}

type GroupField = { readonly name: string; readonly spec: FieldSpec } | null

/** The operands of one unparenthesised chain, in order (the package nests them to the right). */
function flatten(root: RawNode): RawNode[] {
  const out: RawNode[] = []
  let cur: RawNode | undefined = root
  while (cur?.left) {
    out.push(cur.left)
    const r: RawNode | undefined = cur.right
    if (!r) break
    if (r.left && !r.parenthesized && r.field === undefined) cur = r
    else {
      out.push(r)
      break
    }
  }
  return out
}

function normChain(ctx: Ctx, root: RawNode, depth: number, group: GroupField): Query {
  const nodes = flatten(root)
  const operands: Operand[] = []
  let pendingSign: { sign: Sign; span: Span; conn: Connector } | undefined
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i]
    const conn = connectorOf(ctx, n, depth)
    if (operatorWord(n)) continue
    const sentinel = sentinelSign(n)
    if (sentinel) {
      pendingSign = { sign: sentinel, span: ctx.spans.get(n)!, conn }
      continue
    }
    let edits: string | undefined
    const next = nodes[i + 1]
    if (next && isFuzzyDigits(ctx, n, next)) {
      edits = next.term
      i++
    }
    const { query, sign: own } = normOperand(ctx, n, depth, group, edits)
    if (own && pendingSign) throw new QueryError(`Unexpected "${own.sign}"`, own.span, ctx.query)
    const sign = own ?? pendingSign
    const c = pendingSign ? pendingSign.conn : conn
    pendingSign = undefined
    if (c.not && sign) throw new QueryError(`Unexpected "${sign.sign}" after NOT`, sign.span, ctx.query)
    const s = sign?.sign
    operands.push({ query, op: c.op, negated: c.not || s === '-' || s === '!', required: s === '+' })
  }
  return buildChain(operands)
}

function connectorOf(ctx: Ctx, n: RawNode, depth: number): Connector {
  const own = ctx.spans.get(n)
  if (own) return ctx.connectors.get(own.start) ?? { not: false }
  const first = firstSpan(ctx, n)
  let best: { offset: number; depth: number } | undefined
  for (const p of ctx.parens) if (p.depth === depth && p.offset < first && (!best || p.offset > best.offset)) best = p
  return (best && ctx.connectors.get(best.offset)) ?? { not: false }
}

function firstSpan(ctx: Ctx, n: RawNode): number {
  let cur: RawNode | undefined = n
  while (cur) {
    const s = ctx.spans.get(cur)
    if (s) return s.start
    cur = cur.left
  }
  return 0
}

// `roam~1`: the package reads `~` with no decimal as similarity 0.5 and `1` as the next term.
function isFuzzyDigits(ctx: Ctx, n: RawNode, next: RawNode): boolean {
  if (n.similarity == null || n.quoted || !n.termLocation || !next.termLocation) return false
  const s = ctx.spans.get(n)!
  return (
    ctx.text[s.end - 1] === '~' &&
    next.field === '<implicit>' &&
    !next.prefix &&
    /^\d+(\.\d+)?$/.test(next.term!) &&
    ctx.spans.get(next)!.start === s.end
  )
}

/**
 * Lucene's clause semantics with precedence: AND runs bind first (each a conjunction of its
 * operands, negated ones as must-not); the runs and single operands, joined by OR or by nothing,
 * are the clauses of one bool: `+x` must, `-x`/`!x`/`NOT x` must not, others should.
 */
function buildChain(operands: readonly Operand[]): Query {
  if (!operands.length) return { kind: 'all' }
  const runs: Operand[][] = []
  for (const o of operands) {
    if (o.op === 'AND' && runs.length) runs[runs.length - 1].push(o)
    else runs.push([o])
  }
  const must: Query[] = []
  const should: Query[] = []
  const mustNot: Query[] = []
  for (const run of runs) {
    if (run.length === 1) {
      const o = run[0]
      ;(o.negated ? mustNot : o.required ? must : should).push(o.query)
    } else {
      const pos = run.filter((o) => !o.negated).map((o) => o.query)
      const neg = run.filter((o) => o.negated).map((o) => o.query)
      should.push(makeBool(pos, [], neg))
    }
  }
  return makeBool(must, should, mustNot)
}

/**
 * A bool, flattened where that cannot change its meaning (nested conjunctions, disjunctions in a
 * disjunction, a negated disjunction) and collapsed when it has one positive clause.
 * minimumShould is 1 exactly when there is no must clause (Lucene and the engines alike).
 */
function makeBool(must0: readonly Query[], should0: readonly Query[], mustNot0: readonly Query[]): Query {
  const must: Query[] = []
  const mustNot: Query[] = []
  const should: Query[] = []
  for (const q of must0) {
    // A pure negation may only be merged when no should clause would become required by it.
    if (q.kind === 'bool' && !q.should.length && (q.must.length || !should0.length)) {
      must.push(...q.must)
      mustNot.push(...q.mustNot)
    } else must.push(q)
  }
  for (const q of mustNot0) {
    if (isDisjunction(q)) mustNot.push(...q.should)
    else mustNot.push(q)
  }
  for (const q of should0) {
    if (!must.length && isDisjunction(q)) should.push(...q.should)
    else should.push(q)
  }
  if (!mustNot.length && must.length + should.length === 1) return must[0] ?? should[0]
  return { kind: 'bool', must, should, mustNot, minimumShould: should.length && !must.length ? 1 : 0 }
}

function isDisjunction(q: Query): q is Extract<Query, { kind: 'bool' }> {
  return q.kind === 'bool' && !q.must.length && !q.mustNot.length && q.should.length > 0
}

function normOperand(
  ctx: Ctx,
  n: RawNode,
  depth: number,
  group: GroupField,
  edits: string | undefined,
): { query: Query; sign?: { sign: Sign; span: Span } } {
  if (n.term_min !== undefined) return normRange(ctx, n, group)
  if (n.termLocation) return normTerm(ctx, n, group, edits)
  if (n.field !== undefined && n.fieldLocation) {
    const { name, sign } = splitField(ctx, n)
    const spec = name === '*' ? null : knownField(ctx, name, fieldNameSpan(n, sign))
    return { query: normChain(ctx, n, depth + 1, spec ? { name, spec } : null), sign }
  }
  return { query: normChain(ctx, n, depth + 1, group) }
}

/** `-action:x` keeps the sign in the field name. */
function splitField(ctx: Ctx, n: RawNode): { name: string; sign?: { sign: Sign; span: Span } } {
  const raw = n.field!
  const at = n.fieldLocation!.start.offset
  if (raw[0] === '+' || raw[0] === '-' || raw[0] === '!') {
    return { name: lucene.term.unescape(raw.slice(1)), sign: { sign: raw[0], span: { start: at, end: at + 1 } } }
  }
  return { name: lucene.term.unescape(raw) }
}

function fieldNameSpan(n: RawNode, sign: unknown): Span {
  const loc = n.fieldLocation!
  return { start: loc.start.offset + (sign ? 1 : 0), end: loc.end.offset }
}

function knownField(ctx: Ctx, name: string, span: Span): FieldSpec {
  const spec = fieldSpec(name)
  if (!spec) throw new QueryError(`Unknown field "${name}"`, span, ctx.query)
  return spec
}

/** The field a leaf searches (null: the default fields), or one of the pseudo-fields. */
type Target =
  | { readonly kind: 'field'; readonly name: string; readonly spec: FieldSpec }
  | { readonly kind: 'default' }
  | { readonly kind: 'exists' | 'missing' }

function leafTarget(ctx: Ctx, n: RawNode, group: GroupField): { target: Target; sign?: { sign: Sign; span: Span } } {
  if (n.field === '<implicit>' || n.field === undefined) {
    return { target: group ? { kind: 'field', ...group } : { kind: 'default' } }
  }
  const { name, sign } = splitField(ctx, n)
  if (name === '*') return { target: { kind: 'default' }, sign }
  if (name === '_exists_' || name === '_missing_')
    return { target: { kind: name === '_exists_' ? 'exists' : 'missing' }, sign }
  return { target: { kind: 'field', name, spec: knownField(ctx, name, fieldNameSpan(n, sign)) }, sign }
}

function normTerm(
  ctx: Ctx,
  n: RawNode,
  group: GroupField,
  edits: string | undefined,
): { query: Query; sign?: { sign: Sign; span: Span } } {
  const { target, sign: fieldSign } = leafTarget(ctx, n, group)
  const clause = ctx.spans.get(n)!
  const vSpan = valueSpan(ctx, n)
  let sign = fieldSign
  if (n.prefix) {
    const prefixSpan = { start: vSpan.start - 1, end: vSpan.start }
    if (sign) throw new QueryError(`Unexpected "${n.prefix}"`, prefixSpan, ctx.query)
    // `mail_id:-O1m…`: classic Lucene refuses a sign after the colon; the package would read it as
    // NOT. amavis mail_ids are base64url, so ~1 in 64 starts with "-": say how to write it.
    if (n.field !== '<implicit>' && n.field !== undefined)
      throw new QueryError(
        `A value cannot start with "${n.prefix}": quote or escape it (field:"${n.prefix}x" or field:\\${n.prefix}x), or put the sign before the field`,
        prefixSpan,
        ctx.query,
      )
    sign = { sign: n.prefix as Sign, span: prefixSpan }
  }
  return { query: termQuery(ctx, n, target, clause, vSpan, edits), sign }
}

/** The value as typed, without the sign and the `~`/`^` modifiers. */
function valueSpan(ctx: Ctx, n: RawNode): Span {
  let start = trimSpan(ctx.text, n.termLocation!).start
  if (n.prefix) start++
  const len = n.term!.length + (n.quoted || n.regex ? 2 : 0)
  return { start, end: start + len }
}

function termQuery(ctx: Ctx, n: RawNode, target: Target, clause: Span, vSpan: Span, edits: string | undefined): Query {
  const raw = n.term!
  if (target.kind === 'exists' || target.kind === 'missing') {
    const name = lucene.term.unescape(raw)
    // An object path (`_exists_:recipients`) means any of its fields, as on the engines.
    if (!fieldNames().some((f) => f.startsWith(`${name}.`))) knownField(ctx, name, vSpan)
    const exists: Query = { kind: 'exists', field: name, span: clause }
    return target.kind === 'exists' ? exists : makeBool([], [], [exists])
  }
  const field = target.kind === 'field' ? target : null
  if (n.regex) return regexpQuery(ctx, field, raw, clause, vSpan)
  if (n.quoted) return phraseQuery(ctx, field, unescapeValue(raw), n.proximity ?? 0, clause, vSpan)
  if (raw === '*') return field ? { kind: 'exists', field: field.name, span: clause } : { kind: 'all' }
  if (n.similarity != null) return fuzzyQuery(ctx, field, lucene.term.unescape(raw), edits, clause, vSpan)
  const cmp = /^(>=|<=|>|<)/.exec(raw)
  if (cmp && field) return comparisonQuery(ctx, field, cmp[1], raw.slice(cmp[1].length), clause, vSpan)
  if (hasWildcard(raw)) return wildcardQuery(ctx, field, wildcardPattern(raw), clause, vSpan)
  return typedTerm(ctx, field, lucene.term.unescape(raw), clause, vSpan)
}

function unescapeValue(raw: string): string {
  return lucene.term.unescape(raw)
}

function hasWildcard(raw: string): boolean {
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === '\\') i++
    else if (raw[i] === '*' || raw[i] === '?') return true
  }
  return false
}

/**
 * The wildcard pattern of query.ts: `*` and `?` are wildcards, `\*`, `\?` and `\\` the literal
 * characters (the engines' wildcard syntax); every other escape is resolved.
 */
function wildcardPattern(raw: string): string {
  let out = ''
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]
    if (c !== '\\' || i + 1 >= raw.length) out += c
    else {
      const e = raw[++i]
      out += e === '*' || e === '?' || e === '\\' ? `\\${e}` : e
    }
  }
  return out
}

type Field = { readonly name: string; readonly spec: FieldSpec } | null

function requireStringField(ctx: Ctx, field: Field, what: string, span: Span): void {
  if (!field || field.spec.type === 'keyword' || field.spec.type === 'text') return
  throw new QueryError(`${what} need a keyword or text field; "${field.name}" is ${field.spec.type}`, span, ctx.query)
}

function regexpQuery(ctx: Ctx, field: Field, pattern: string, clause: Span, vSpan: Span): Query {
  requireStringField(ctx, field, 'Regular expressions', vSpan)
  const op = unsupportedRegexpOperator(pattern)
  if (op)
    throw new QueryError(`Regular expression operator ${op} is not supported (escape it: \\${op})`, vSpan, ctx.query)
  return { kind: 'regexp', field: field?.name ?? null, pattern, span: clause }
}

// Lucene's complement `~`, intersection `&` and numeric interval `<n-m>` would run on the engines
// (their default flags are ALL) but not on the embedded store: refused everywhere alike.
function unsupportedRegexpOperator(pattern: string): string | undefined {
  let inClass = false
  let inQuote = false
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]
    if (c === '\\') i++
    else if (inQuote) inQuote = c !== '"'
    else if (inClass) inClass = c !== ']' || pattern[i - 1] === '['
    else if (c === '"') inQuote = true
    else if (c === '[') inClass = true
    else if (c === '~' || c === '&' || c === '<') return c
  }
  return undefined
}

function wildcardQuery(ctx: Ctx, field: Field, pattern: string, clause: Span, vSpan: Span): Query {
  requireStringField(ctx, field, 'Wildcards', vSpan)
  return { kind: 'wildcard', field: field?.name ?? null, pattern, span: clause }
}

// `~` alone and Lucene's old similarities (`~0.8`) are 'auto'; edits above 2 are 2, the engines' maximum.
function fuzzyQuery(
  ctx: Ctx,
  field: Field,
  value: string,
  edits: string | undefined,
  clause: Span,
  vSpan: Span,
): Query {
  requireStringField(ctx, field, 'Fuzzy terms', vSpan)
  let maxEdits: 0 | 1 | 2 | 'auto' = 'auto'
  if (edits !== undefined && /^\d+$/.test(edits)) maxEdits = Math.min(2, Number(edits)) as 0 | 1 | 2
  return { kind: 'fuzzy', field: field?.name ?? null, value, maxEdits, span: clause }
}

/** Quoted: consecutive words on text fields; on any other field the whole value, as a term. */
function phraseQuery(ctx: Ctx, field: Field, value: string, slop: number, clause: Span, vSpan: Span): Query {
  if (!field || field.spec.type === 'text')
    return { kind: 'phrase', field: field?.name ?? null, value, slop, span: clause }
  return typedTerm(ctx, field, value, clause, vSpan)
}

function typedTerm(ctx: Ctx, field: Field, value: string, clause: Span, vSpan: Span): Query {
  if (!field) return { kind: 'term', field: null, value, span: clause }
  const fail = (message: string): never => {
    throw new QueryError(message, vSpan, ctx.query)
  }
  const term = (v: string): Query => ({ kind: 'term', field: field.name, value: v, span: clause })
  switch (field.spec.type) {
    case 'keyword':
    case 'text':
      return term(value)
    case 'ip':
      return isIpOrCidr(value) ? term(value) : fail(`"${value}" is not an IP address or CIDR`)
    case 'long':
      if (INTEGER.test(value)) return term(value)
      return fail(NUMBER.test(value) ? `"${value}" is not an integer` : `"${value}" is not a number`)
    case 'float':
      return NUMBER.test(value) ? term(value) : fail(`"${value}" is not a number`)
    case 'boolean': {
      const b = value.toLowerCase()
      return b === 'true' || b === 'false' ? term(b) : fail(`"${value}" is not true or false`)
    }
    case 'date': {
      // A date term is the whole of its precision: `@timestamp:2024-01-01` is that day, `now/h` this hour.
      const gte = dateBound(ctx, value, 'down', vSpan)
      const lte = dateBound(ctx, value, 'up', vSpan)
      return { kind: 'range', field: field.name, gte, lte, span: clause }
    }
    case 'geo_point':
      return fail(`"${field.name}" is a geo_point: only _exists_:${field.name} can search it`)
  }
}

const INTEGER = /^[+-]?\d+$/
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/

/** An IPv4 or IPv6 address, or a CIDR block of one. */
export function isIpOrCidr(v: string): boolean {
  const slash = v.indexOf('/')
  if (slash < 0) return isIP(v) !== 0
  const family = isIP(v.slice(0, slash))
  const bits = v.slice(slash + 1)
  return family !== 0 && /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128)
}

function dateBound(ctx: Ctx, raw: string, round: DateRounding, span: Span): string {
  const ms = resolveDateMath(raw, ctx.nowMs, round)
  if (ms === undefined) throw new QueryError(`"${raw}" is not a date`, span, ctx.query)
  return String(ms)
}

// ---------------------------------------------------------------------------------------------
// Ranges: `[a TO b]`, `{a TO b}`, mixed, `*` open; `x:>=5` comparisons

interface Bound {
  readonly raw: string
  readonly inclusive: boolean
  readonly span: Span
}

function normRange(ctx: Ctx, n: RawNode, group: GroupField): { query: Query; sign?: { sign: Sign; span: Span } } {
  const span = ctx.spans.get(n)!
  const { target, sign } = leafTarget(ctx, n, group)
  if (target.kind !== 'field') throw new QueryError('A range needs a field: size:[1 TO 5]', span, ctx.query)
  const open = ctx.brackets.get(n)!.start
  const inc = n.inclusive!
  const min = n.term_min!
  const max = n.term_max!
  const lo: Bound = {
    raw: min,
    inclusive: inc === 'both' || inc === 'left',
    span: { start: open + 1, end: open + 1 + min.length },
  }
  const hi: Bound = {
    raw: max,
    inclusive: inc === 'both' || inc === 'right',
    span: { start: span.end - 1 - max.length, end: span.end - 1 },
  }
  return { query: rangeQuery(ctx, target, lo, hi, span), sign }
}

function comparisonQuery(
  ctx: Ctx,
  field: NonNullable<Field>,
  op: string,
  raw: string,
  clause: Span,
  vSpan: Span,
): Query {
  const span = { start: vSpan.start + op.length, end: vSpan.end }
  if (!raw) throw new QueryError(`Missing value after "${op}"`, { start: vSpan.start, end: span.start }, ctx.query)
  const b: Bound = { raw, inclusive: op.length === 2, span }
  const target = { kind: 'field' as const, ...field }
  return op[0] === '>' ? rangeQuery(ctx, target, b, undefined, clause) : rangeQuery(ctx, target, undefined, b, clause)
}

function rangeQuery(
  ctx: Ctx,
  target: Extract<Target, { kind: 'field' }>,
  lo: Bound | undefined,
  hi: Bound | undefined,
  span: Span,
): Query {
  const { name, spec } = target
  const fail = (message: string, at: Span): never => {
    throw new QueryError(message, at, ctx.query)
  }
  if (spec.type === 'text') {
    fail(
      `Ranges need a keyword, number, date or ip field; "${name}" is text${spec.hasKeyword ? ` (use ${name}.keyword)` : ''}`,
      span,
    )
  }
  if (spec.type === 'boolean' || spec.type === 'geo_point')
    fail(`Ranges are not supported on ${spec.type} field "${name}"`, span)
  const lower = lo && lo.raw !== '*' ? lo : undefined
  const upper = hi && hi.raw !== '*' ? hi : undefined
  if (!lower && !upper) return { kind: 'exists', field: name, span }
  const value = (b: Bound, round: DateRounding): string => {
    const v = lucene.term.unescape(b.raw.replaceAll(RANGE_SLASH, '/'))
    if (spec.type === 'date') return dateBound(ctx, v, round, b.span)
    if ((spec.type === 'long' || spec.type === 'float') && !NUMBER.test(v)) fail(`"${v}" is not a number`, b.span)
    if (spec.type === 'ip' && isIP(v) === 0) fail(`"${v}" is not an IP address`, b.span)
    return v
  }
  // A bound that includes its unit's end rounds up, one that excludes it rounds down (ES date math).
  const out: { -readonly [K in 'gte' | 'gt' | 'lte' | 'lt']?: string } = {}
  if (lower) out[lower.inclusive ? 'gte' : 'gt'] = value(lower, lower.inclusive ? 'down' : 'up')
  if (upper) out[upper.inclusive ? 'lte' : 'lt'] = value(upper, upper.inclusive ? 'up' : 'down')
  return { kind: 'range', field: name, ...out, span }
}

// ---------------------------------------------------------------------------------------------
// describeQuery

/** A compact canonical text of a Query (Lucene-like, `+`/`-` clauses), for tests and logs. */
export function describeQuery(q: Query): string {
  const f = (field: string | null) => (field === null ? '' : `${field}:`)
  switch (q.kind) {
    case 'all':
      return '*:*'
    case 'none':
      return 'NOT *:*'
    case 'term':
      return f(q.field) + describeValue(q.value)
    case 'phrase':
      return f(q.field) + JSON.stringify(q.value) + (q.slop ? `~${q.slop}` : '')
    case 'wildcard':
      return f(q.field) + q.pattern
    case 'fuzzy':
      return `${f(q.field)}${describeValue(q.value)}~${q.maxEdits === 'auto' ? '' : q.maxEdits}`
    case 'regexp':
      return `${f(q.field)}/${q.pattern}/`
    case 'exists':
      return `_exists_:${q.field}`
    case 'range': {
      const lo = q.gte !== undefined ? `[${q.gte}` : q.gt !== undefined ? `{${q.gt}` : '[*'
      const hi = q.lte !== undefined ? `${q.lte}]` : q.lt !== undefined ? `${q.lt}}` : '*]'
      return `${q.field}:${lo} TO ${hi}`
    }
    case 'bool': {
      const parts = [...q.must.map((x) => `+${describeQuery(x)}`), ...q.mustNot.map((x) => `-${describeQuery(x)}`)]
      parts.push(...q.should.map(describeQuery))
      const usual = q.should.length && !q.must.length ? 1 : 0
      return `(${parts.join(' ')})${q.minimumShould !== usual ? `~min${q.minimumShould}` : ''}`
    }
  }
}

function describeValue(v: string): string {
  return v !== '' && /^[^\s"():\\*?[\]{}^~/]+$/u.test(v) && !OPERATOR_WORDS.has(v) ? v : JSON.stringify(v)
}
