// Hash routing: `#/<page>?<params>` holds the whole state of a page (query, range, columns, sort,
// series…), so a URL can be shared or bookmarked. `/#/discover?q=…&from=…&to=…` opens a search.
import { useEffect, useState } from 'react'

export type PageName = 'discover' | 'panels' | 'live' | 'graphs' | 'admin'
export const PAGES: readonly PageName[] = ['discover', 'panels', 'live', 'graphs', 'admin']

export interface Route {
  readonly page: PageName
  readonly params: URLSearchParams
}

export function parseHash(hash: string): Route {
  const h = hash.replace(/^#\/?/, '')
  const qi = h.indexOf('?')
  const name = (qi < 0 ? h : h.slice(0, qi)) as PageName
  const params = new URLSearchParams(qi < 0 ? '' : h.slice(qi + 1))
  return { page: PAGES.includes(name) ? name : 'discover', params }
}

export function routeHref(page: PageName, params?: Record<string, string | undefined> | URLSearchParams): string {
  const p = params instanceof URLSearchParams ? params : new URLSearchParams()
  if (params && !(params instanceof URLSearchParams))
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') p.set(k, v)
  const qs = p.toString()
  return `#/${page}${qs ? `?${qs}` : ''}`
}

/** Goes to a route; `replace` keeps the history entry (for state changes while typing). */
export function navigate(
  page: PageName,
  params?: Record<string, string | undefined> | URLSearchParams,
  replace = false,
): void {
  const href = routeHref(page, params)
  if (replace) history.replaceState(null, '', href)
  else history.pushState(null, '', href)
  window.dispatchEvent(new HashChangeEvent('hashchange'))
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash))
  useEffect(() => {
    const on = () => setRoute(parseHash(location.hash))
    window.addEventListener('hashchange', on)
    window.addEventListener('popstate', on)
    return () => {
      window.removeEventListener('hashchange', on)
      window.removeEventListener('popstate', on)
    }
  }, [])
  return route
}
