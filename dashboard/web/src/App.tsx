// Layout and routing: the nav bar, the logged-in user, and one lazily loaded chunk per page.
import { lazy, Suspense } from 'react'
import { SessionProvider, useSession } from './session.tsx'
import { useRoute, routeHref, type PageName } from './router.ts'
import { LoginPage } from './pages/login/LoginPage.tsx'

const PAGE_COMPONENTS = {
  discover: lazy(() => import('./pages/discover/DiscoverPage.tsx')),
  panels: lazy(() => import('./pages/panels/PanelsPage.tsx')),
  live: lazy(() => import('./pages/live/LivePage.tsx')),
  graphs: lazy(() => import('./pages/graphs/GraphsPage.tsx')),
  admin: lazy(() => import('./pages/admin/AdminPage.tsx')),
} satisfies Record<PageName, unknown>

const NAV: { page: PageName; label: string; adminOnly?: boolean }[] = [
  { page: 'discover', label: 'Discover' },
  { page: 'panels', label: 'Panels' },
  { page: 'live', label: 'Live' },
  { page: 'graphs', label: 'Graphs' },
  { page: 'admin', label: 'Admin', adminOnly: true },
]

function Shell() {
  const { me, loading, logout } = useSession()
  const route = useRoute()
  if (loading) return <p className="loading">Loading…</p>
  if (!me) return <LoginPage />
  const Page = PAGE_COMPONENTS[route.page]
  return (
    <>
      <header className="topbar">
        <a className="brand" href={routeHref('discover')}>
          Vigil
        </a>
        <nav aria-label="Pages">
          {NAV.filter((n) => !n.adminOnly || me.user.role === 'admin').map((n) => (
            <a
              key={n.page}
              href={routeHref(n.page)}
              aria-current={route.page === n.page ? 'page' : undefined}
              data-testid={`nav-${n.page}`}
            >
              {n.label}
            </a>
          ))}
        </nav>
        <span className="who" data-testid="who">
          {me.user.name} ({me.user.role})
        </span>
        <button type="button" onClick={() => void logout()} data-testid="logout">
          Log out
        </button>
      </header>
      <main>
        <Suspense fallback={<p className="loading">Loading…</p>}>
          <Page params={route.params} />
        </Suspense>
      </main>
    </>
  )
}

export function App() {
  return (
    <SessionProvider>
      <Shell />
    </SessionProvider>
  )
}
