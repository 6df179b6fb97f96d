// Lucene clauses the Panels page adds to the current query when a panel is clicked, and the
// Discover link that carries them (with the page's own time range).
import { routeHref } from '../../router.ts'

/** `"value"` as a Lucene phrase: backslash and double quote escaped. */
export function quoted(value: string | number | boolean): string {
  return `"${String(value).replace(/[\\"]/g, (c) => `\\${c}`)}"`
}

/** `field:"value"` */
export function termClause(field: string, value: string | number | boolean): string {
  return `${field}:${quoted(value)}`
}

/** The current query AND a clause; a query with more than one term is parenthesised first. */
export function andClause(q: string, clause: string): string {
  const t = q.trim()
  if (!t || t === '*' || t === '*:*') return clause
  return /\s/.test(t) ? `(${t}) AND ${clause}` : `${t} AND ${clause}`
}

export function discoverHref(q: string, clause: string, from: string, to: string): string {
  return routeHref('discover', { q: andClause(q, clause), from, to })
}
