// The query bar's verdict on a Lucene text, from the collector's own parser
// (collector/src/search/lucene.ts, aliased for the browser): the message and the span to underline.
import { parseQuery } from '../../../../../collector/src/search/lucene.ts'
import { QueryError } from '../../../../../collector/src/search/query.ts'

export interface QueryProblem {
  readonly message: string
  readonly position?: { readonly start: number; readonly end: number }
  /** The query text the problem belongs to (a server error is shown only while the text is unchanged). */
  readonly query: string
}

/** The parser's verdict on a query text: null when it parses. */
export function checkQuery(text: string): QueryProblem | null {
  try {
    parseQuery(text, Date.now())
    return null
  } catch (err) {
    if (err instanceof QueryError || (err as Error)?.name === 'QueryError') {
      const e = err as QueryError
      return { message: e.message, position: e.position, query: text }
    }
    return { message: (err as Error)?.message ?? String(err), query: text }
  }
}
