// The login form (users are local: `vigil user add NAME --role admin|viewer`).
import { useState, type FormEvent } from 'react'
import { useSession } from '../../session.tsx'
import { ApiError } from '../../api.ts'

export function LoginPage() {
  const { login } = useSession()
  const [name, setName] = useState('')
  const [password, setPassword] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const submit = async (e: FormEvent) => {
    e.preventDefault()
    setBusy(true)
    setError(null)
    try {
      await login(name, password)
    } catch (err) {
      setError(
        err instanceof ApiError && err.status === 429
          ? `Too many failed attempts; try again in ${Number(err.body.retry_after_secs) || 60} s.`
          : err instanceof ApiError && err.status === 401
            ? 'Wrong user name or password.'
            : `Login failed: ${(err as Error).message}`,
      )
    } finally {
      setBusy(false)
    }
  }
  return (
    <form className="login" onSubmit={submit} data-testid="login-form">
      <h1>Vigil</h1>
      <label>
        User
        <input name="username" autoComplete="username" value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <label>
        Password
        <input
          name="password"
          type="password"
          autoComplete="current-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
      </label>
      {error && (
        <p role="alert" className="error" data-testid="login-error">
          {error}
        </p>
      )}
      <button type="submit" disabled={busy} data-testid="login-submit">
        Log in
      </button>
    </form>
  )
}
