// Term matchers that SQLite lacks, registered on the connection as SQL functions: Lucene
// wildcards and regular expressions (translated to anchored JS RegExps) and Damerau–Levenshtein
// distance for fuzzy terms (Lucene's FuzzyQuery, transpositions on, prefix_length 0).
import type Database from 'better-sqlite3'
import { QueryError, type Span } from '../../search/query.ts'

/** Source of an anchored JS RegExp (flags 'su') for a Lucene wildcard: `*` any run, `?` one code point, `\x` literal x. */
export function wildcardToRegex(pattern: string): string {
  let out = ''
  const cps = [...pattern]
  for (let i = 0; i < cps.length; i++) {
    const c = cps[i]
    if (c === '\\' && i + 1 < cps.length) out += escapeRe(cps[++i])
    else if (c === '*') out += '.*'
    else if (c === '?') out += '.'
    else out += escapeRe(c)
  }
  return `^(?:${out})$`
}

/** The literal text before the first wildcard, for an index range that narrows the scan. */
export function wildcardPrefix(pattern: string): string {
  let out = ''
  const cps = [...pattern]
  for (let i = 0; i < cps.length; i++) {
    const c = cps[i]
    if (c === '*' || c === '?') break
    if (c === '\\' && i + 1 < cps.length) out += cps[++i]
    else out += c
  }
  return out
}

// Only syntax characters may be escaped in a 'u' RegExp ('-' only inside a class).
function escapeRe(c: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(c) ? `\\${c}` : c
}

function escapeClass(c: string): string {
  return c === '-' ? '\\-' : escapeRe(c)
}

/**
 * Source of an anchored JS RegExp (flags 'su') for a Lucene regular expression (the syntax ES's
 * `regexp` query takes): `.`, `*`, `+`, `?`, `{n}`, `{n,}`, `{n,m}`, `|`, `(...)`, `[...]`,
 * `[^...]`, `"literal"`, `\x` (always the literal x: `\d` is the letter d, as in Lucene), `@`
 * (any string) and `#` (the empty language). Lucene's `^` and `$` are ordinary characters.
 * Unsupported, a QueryError at `span`: `~` (complement), `&` (intersection), `<n-m>` (numeric
 * ranges), which JS RegExps cannot express simply.
 */
export function luceneRegexToRegex(pattern: string, span: Span, query = ''): string {
  const cps = [...pattern]
  let out = ''
  const fail = (what: string) => {
    throw new QueryError(`Regular expression operator ${what} is not supported`, span, query)
  }
  for (let i = 0; i < cps.length; i++) {
    const c = cps[i]
    switch (c) {
      case '\\':
        out += i + 1 < cps.length ? escapeRe(cps[++i]) : '\\\\'
        break
      case '.':
        out += '.'
        break
      case '@':
        out += '.*'
        break
      case '#':
        out += '(?!)'
        break
      case '"': {
        const end = cps.indexOf('"', i + 1)
        if (end < 0) fail('" (unterminated literal)')
        out += cps
          .slice(i + 1, end)
          .map(escapeRe)
          .join('')
        i = end
        break
      }
      case '[': {
        const end = classEnd(cps, i)
        if (end < 0) fail('[ (unterminated class)')
        out += translateClass(cps.slice(i + 1, end))
        i = end
        break
      }
      case '~':
      case '&':
      case '<':
        fail(c)
        break
      case '(':
      case ')':
      case '|':
      case '*':
      case '+':
      case '?':
        out += c
        break
      case '{': {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(cps.slice(i).join(''))
        if (!m) fail('{ (malformed repeat)')
        out += m![0]
        i += [...m![0]].length - 1
        break
      }
      default:
        out += escapeRe(c)
    }
  }
  return `^(?:${out})$`
}

function classEnd(cps: string[], start: number): number {
  for (let i = start + 1; i < cps.length; i++) {
    if (cps[i] === '\\') i++
    else if (cps[i] === ']' && i > start + 1) return i
  }
  return -1
}

function translateClass(body: string[]): string {
  let out = '['
  let i = 0
  if (body[0] === '^') {
    out += '^'
    i = 1
  }
  for (; i < body.length; i++) {
    const c = body[i]
    if (c === '\\' && i + 1 < body.length) out += escapeClass(body[++i])
    else if (c === '-' && i > 0 && i < body.length - 1) out += '-'
    else out += escapeClass(c)
  }
  return out + ']'
}

/**
 * Damerau–Levenshtein distance (optimal string alignment, as Lucene's automata with
 * transpositions) between two code point arrays, or max + 1 as soon as it must exceed `max`.
 */
export function editDistance(a: readonly number[], b: readonly number[], max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1
  const n = b.length
  let prev2 = new Array<number>(n + 1).fill(0)
  let prev = Array.from({ length: n + 1 }, (_, j) => j)
  let cur = new Array<number>(n + 1).fill(0)
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i
    let rowMin = cur[0]
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let d = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2] + 1)
      cur[j] = d
      if (d < rowMin) rowMin = d
    }
    if (rowMin > max) return max + 1
    ;[prev2, prev, cur] = [prev, cur, prev2]
  }
  return prev[n]
}

/** Edits a fuzzy term allows: 'auto' is 0 up to 2 code points, 1 up to 5, 2 beyond (ES AUTO). */
export function fuzzyEdits(value: string, maxEdits: 0 | 1 | 2 | 'auto'): number {
  if (maxEdits !== 'auto') return maxEdits
  const len = [...value].length
  return len <= 2 ? 0 : len <= 5 ? 1 : 2
}

const codePoints = (s: string): number[] => Array.from(s, (c) => c.codePointAt(0)!)

/** Registers vigil_re(source, value) and vigil_fuzzy(value, term, maxEdits) on the connection. */
export function registerMatchers(db: Database.Database): void {
  const regexCache = new Map<string, RegExp>()
  db.function('vigil_re', { deterministic: true }, (source: unknown, value: unknown) => {
    if (typeof value !== 'string' || typeof source !== 'string') return 0
    let re = regexCache.get(source)
    if (!re) {
      if (regexCache.size > 256) regexCache.clear()
      re = new RegExp(source, 'su')
      regexCache.set(source, re)
    }
    return re.test(value) ? 1 : 0
  })
  const termCache = new Map<string, number[]>()
  db.function('vigil_fuzzy', { deterministic: true }, (value: unknown, term: unknown, max: unknown) => {
    if (typeof value !== 'string' || typeof term !== 'string') return 0
    let t = termCache.get(term)
    if (!t) {
      if (termCache.size > 256) termCache.clear()
      t = codePoints(term)
      termCache.set(term, t)
    }
    return editDistance(codePoints(value), t, Number(max)) <= Number(max) ? 1 : 0
  })
}
