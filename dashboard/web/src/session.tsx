// Who is logged in: `/api/me` on load, the login form when it answers 401. The CSRF token it
// returns goes to api.ts for every unsafe request. (Server side: dashboard/server/src/auth/.)
import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react'
import { apiGet, apiSend, setCsrfToken, ApiError } from './api.ts'

export type Role = 'admin' | 'viewer'
export interface Me {
  readonly user: { readonly name: string; readonly role: Role }
  readonly csrf: string
  /** Whether this user may see subjects as they are (otherwise rot13 only, enforced by the server). */
  readonly raw_subjects: boolean
}

interface SessionValue {
  readonly me: Me | null
  readonly loading: boolean
  login(name: string, password: string): Promise<void>
  logout(): Promise<void>
}

const SessionContext = createContext<SessionValue>({
  me: null,
  loading: true,
  login: async () => {},
  logout: async () => {},
})

export function useSession(): SessionValue {
  return useContext(SessionContext)
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [me, setMe] = useState<Me | null>(null)
  const [loading, setLoading] = useState(true)
  const refresh = useCallback(async () => {
    try {
      const m = await apiGet<Me>('/api/me')
      setCsrfToken(m.csrf)
      setMe(m)
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401)) console.warn('session check failed', err)
      setMe(null)
    } finally {
      setLoading(false)
    }
  }, [])
  useEffect(() => {
    void refresh()
    const on = () => setMe(null)
    window.addEventListener('vigil:unauthorized', on)
    return () => window.removeEventListener('vigil:unauthorized', on)
  }, [refresh])
  const login = useCallback(async (name: string, password: string) => {
    const m = await apiSend<Me>('POST', '/api/login', { name, password })
    setCsrfToken(m.csrf)
    setMe(m)
  }, [])
  const logout = useCallback(async () => {
    try {
      await apiSend('POST', '/api/logout')
    } finally {
      setCsrfToken(undefined)
      setMe(null)
    }
  }, [])
  return <SessionContext.Provider value={{ me, loading, login, logout }}>{children}</SessionContext.Provider>
}
