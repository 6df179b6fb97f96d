// The normalised query: what collector/src/search/lucene.ts makes of a Lucene query string, and
// what every backend compiles (search/compile-dsl.ts for the engines, backends/embedded/ for
// SQLite). One AST for all, so a query means the same on every backend: classic Lucene
// semantics as the talk's Kibana 3 had them (docs/adr/0005-log-pipeline.md):
//   - precedence NOT > AND > OR, implicit operator OR; `+x` MUST, `-x`/`!x`/`NOT x` MUST NOT;
//   - a bool with `must` (or `mustNot`) clauses ignores its `should` clauses when filtering
//     unless `minimumShould` is 1 (it is 1 for `a OR b`, 0 for `+a b`);
//   - `action:(REJECT DISCARD BOUNCE)` is three terms on the field (OR), never one.
// Every term carries the span of the query text it came from (errors, highlighting).

export interface Span {
  /** 0-based offsets into the query string, end exclusive. */
  readonly start: number
  readonly end: number
}

/**
 * `field` is a catalogue name (collector/src/search/fields.ts) or null: an unqualified term that
 * searches DEFAULT_FIELDS. Values are unescaped.
 */
export type Query =
  | { readonly kind: 'all' }
  | { readonly kind: 'none' }
  | {
      readonly kind: 'bool'
      readonly must: readonly Query[]
      readonly should: readonly Query[]
      readonly mustNot: readonly Query[]
      /** 1: at least one `should` must match; 0: `should` clauses only score (ignored here). */
      readonly minimumShould: 0 | 1
    }
  /** A single value: keyword → whole value; text → one analysed word (or all words of a multi-word value, in any order); ip → address or CIDR; numbers/dates/booleans → equality. */
  | { readonly kind: 'term'; readonly field: string | null; readonly value: string; readonly span: Span }
  /** Quoted: text → consecutive words (slop = allowed moves, Lucene's); other types → like term with the whole value. */
  | {
      readonly kind: 'phrase'
      readonly field: string | null
      readonly value: string
      readonly slop: number
      readonly span: Span
    }
  /** `*` any run, `?` one character; on text fields matched against single words. */
  | { readonly kind: 'wildcard'; readonly field: string | null; readonly pattern: string; readonly span: Span }
  /** `roam~`, `roam~1`: Damerau–Levenshtein within maxEdits ('auto': 0 for 1–2 chars, 1 for 3–5, 2 above). */
  | {
      readonly kind: 'fuzzy'
      readonly field: string | null
      readonly value: string
      readonly maxEdits: 0 | 1 | 2 | 'auto'
      readonly span: Span
    }
  /** `/regex/`: Lucene regular-expression syntax, anchored at both ends. */
  | { readonly kind: 'regexp'; readonly field: string | null; readonly pattern: string; readonly span: Span }
  /**
   * `[a TO b]`, `{a TO b}`, `[a TO *]`. Bounds are strings as typed, except on date fields where
   * they are resolved to epoch ms (ISO 8601, epoch ms, `now`, `now-1h`, `now/d`) by the parser.
   */
  | {
      readonly kind: 'range'
      readonly field: string
      readonly gte?: string
      readonly gt?: string
      readonly lte?: string
      readonly lt?: string
      readonly span: Span
    }
  /** `_exists_:field`, `field:*` */
  | { readonly kind: 'exists'; readonly field: string; readonly span: Span }

/** A query that cannot be run, with where it went wrong (HTTP 400 on every backend). */
export class QueryError extends Error {
  readonly position: Span
  readonly query: string
  constructor(message: string, position: Span, query: string) {
    super(message)
    this.name = 'QueryError'
    this.position = position
    this.query = query
  }
  toJSON() {
    return { error: this.message, position: this.position, query: this.query }
  }
}
