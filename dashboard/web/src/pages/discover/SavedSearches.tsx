// Saved searches of the logged-in user (GET/POST/DELETE /api/saved-searches): a search is its URL
// hash (`#/discover?q=…`), so opening one restores the whole state.
import { useCallback, useEffect, useState, type FormEvent } from 'react'
import { apiGet, apiSend, ApiError } from '../../api.ts'

export interface SavedSearch {
  readonly id: string | number
  readonly name: string
  readonly hash: string
  readonly created_ms: number
}

export function SavedSearches({ currentHash }: { currentHash: string }) {
  const [list, setList] = useState<readonly SavedSearch[] | null>(null)
  const [unavailable, setUnavailable] = useState(false)
  const [name, setName] = useState('')
  const [error, setError] = useState('')
  const [chosen, setChosen] = useState('')

  const load = useCallback(async () => {
    try {
      const r = await apiGet<{ searches: SavedSearch[] }>('/api/saved-searches')
      setList(r.searches)
      setUnavailable(false)
    } catch (err) {
      if (err instanceof ApiError && (err.status === 404 || err.status === 405)) setUnavailable(true)
      else setError(err instanceof Error ? err.message : String(err))
    }
  }, [])
  useEffect(() => {
    void load()
  }, [load])

  const save = async (e: FormEvent) => {
    e.preventDefault()
    const n = name.trim()
    if (!n) return
    try {
      await apiSend('POST', '/api/saved-searches', { name: n, hash: currentHash })
      setName('')
      setError('')
      await load()
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err))
    }
  }
  const remove = async () => {
    if (!chosen) return
    try {
      await apiSend('DELETE', `/api/saved-searches/${encodeURIComponent(chosen)}`)
      setChosen('')
      await load()
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err))
    }
  }
  if (unavailable) return null
  return (
    <div className="discover-saved" data-testid="saved-searches">
      <label>
        Saved{' '}
        <select
          data-testid="saved-list"
          value={chosen}
          onChange={(e) => {
            setChosen(e.target.value)
            const s = list?.find((x) => String(x.id) === e.target.value)
            if (s) location.hash = s.hash.replace(/^#?/, '#')
          }}
        >
          <option value="">{list?.length ? 'Open a saved search…' : 'No saved searches'}</option>
          {list?.map((s) => (
            <option key={s.id} value={String(s.id)}>
              {s.name}
            </option>
          ))}
        </select>
      </label>
      {chosen && (
        <button type="button" data-testid="saved-delete" onClick={() => void remove()}>
          Delete
        </button>
      )}
      <form onSubmit={save} aria-label="Save this search">
        <label>
          <span className="sr-only">Name of the saved search</span>
          <input
            data-testid="saved-name"
            placeholder="Name this search"
            value={name}
            onChange={(e) => setName(e.target.value)}
            maxLength={100}
          />
        </label>
        <button type="submit" data-testid="saved-save" disabled={!name.trim()}>
          Save
        </button>
      </form>
      {error && (
        <span className="error" role="alert">
          {error}
        </span>
      )}
    </div>
  )
}
