// Admin: the dashboard's local users (list, add with a role, reset a password, delete). Admin only:
// the server answers 403 to anyone else (GET/POST/DELETE /api/users…), this page only says so.
import { useCallback, useEffect, useState, type FormEvent } from 'react'
import { apiGet, apiSend, ApiError } from '../../api.ts'
import { useSession } from '../../session.tsx'
import './admin.css'

interface UserRow {
  name: string
  role: 'admin' | 'viewer'
  created_ms: number
  updated_ms: number
}

const message = (err: unknown) => (err instanceof ApiError || err instanceof Error ? err.message : String(err))

export default function AdminPage(_props: { params: URLSearchParams }) {
  const { me } = useSession()
  const [users, setUsers] = useState<UserRow[] | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [notice, setNotice] = useState<string | null>(null)
  const [name, setName] = useState('')
  const [role, setRole] = useState<'viewer' | 'admin'>('viewer')
  const [password, setPassword] = useState('')
  const [resetFor, setResetFor] = useState<string | null>(null)
  const [resetPassword, setResetPassword] = useState('')

  const load = useCallback(async () => {
    try {
      setUsers((await apiGet<{ users: UserRow[] }>('/api/users')).users)
      setError(null)
    } catch (err) {
      setError(message(err))
    }
  }, [])
  useEffect(() => {
    if (me?.user.role === 'admin') void load()
  }, [me, load])

  if (me?.user.role !== 'admin')
    return (
      <section className="admin">
        <h1>Admin</h1>
        <p role="alert" data-testid="admin-forbidden">
          Only an admin may manage users.
        </p>
      </section>
    )

  const add = async (e: FormEvent) => {
    e.preventDefault()
    setNotice(null)
    try {
      await apiSend('POST', '/api/users', { name, role, password })
      setNotice(`Added ${name} (${role}).`)
      setName('')
      setPassword('')
      await load()
    } catch (err) {
      setError(message(err))
    }
  }
  const del = async (n: string) => {
    if (!window.confirm(`Delete the user ${n}?`)) return
    try {
      await apiSend('DELETE', `/api/users/${encodeURIComponent(n)}`)
      setNotice(`Deleted ${n}.`)
      await load()
    } catch (err) {
      setError(message(err))
    }
  }
  const reset = async (e: FormEvent) => {
    e.preventDefault()
    if (!resetFor) return
    try {
      await apiSend('POST', `/api/users/${encodeURIComponent(resetFor)}/password`, { password: resetPassword })
      setNotice(`New password set for ${resetFor}; their sessions ended.`)
      setResetFor(null)
      setResetPassword('')
    } catch (err) {
      setError(message(err))
    }
  }

  return (
    <section className="admin">
      <h1>Users</h1>
      {error && (
        <p role="alert" className="error" data-testid="admin-error">
          {error}
        </p>
      )}
      {notice && (
        <p role="status" data-testid="admin-notice">
          {notice}
        </p>
      )}
      <table className="admin-users" data-testid="users-table">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Role</th>
            <th scope="col">Created</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {(users ?? []).map((u) => (
            <tr key={u.name} data-testid={`user-${u.name}`}>
              <td>{u.name}</td>
              <td>{u.role}</td>
              <td>{new Date(u.created_ms).toISOString().slice(0, 16).replace('T', ' ')}</td>
              <td>
                <button type="button" onClick={() => setResetFor(u.name)} data-testid={`reset-${u.name}`}>
                  Reset password
                </button>{' '}
                <button
                  type="button"
                  onClick={() => void del(u.name)}
                  disabled={u.name === me.user.name}
                  data-testid={`delete-${u.name}`}
                >
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {resetFor && (
        <form className="admin-form" onSubmit={reset} data-testid="reset-form">
          <h2>New password for {resetFor}</h2>
          <label>
            Password
            <input
              type="password"
              autoComplete="new-password"
              minLength={8}
              required
              value={resetPassword}
              onChange={(e) => setResetPassword(e.target.value)}
            />
          </label>
          <button type="submit">Set password</button>{' '}
          <button type="button" onClick={() => setResetFor(null)}>
            Cancel
          </button>
        </form>
      )}
      <form className="admin-form" onSubmit={add} data-testid="add-user-form">
        <h2>Add a user</h2>
        <label>
          Name
          <input
            value={name}
            required
            pattern="[A-Za-z0-9][A-Za-z0-9._@\-]{0,63}"
            autoComplete="off"
            onChange={(e) => setName(e.target.value)}
          />
        </label>
        <label>
          Role
          <select value={role} onChange={(e) => setRole(e.target.value as 'viewer' | 'admin')}>
            <option value="viewer">viewer (read-only; subjects in rot13 unless configured raw)</option>
            <option value="admin">admin</option>
          </select>
        </label>
        <label>
          Password
          <input
            type="password"
            autoComplete="new-password"
            minLength={8}
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        <button type="submit" data-testid="add-user-submit">
          Add user
        </button>
      </form>
    </section>
  )
}
