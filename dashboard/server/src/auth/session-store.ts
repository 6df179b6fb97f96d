// The @fastify/session store on the dashboard database (the plugin's MemoryStore leaks and forgets
// sessions on restart). A session expires with its cookie (rolling: every answer pushes the expiry
// by the idle timeout); expired rows are dropped when read and swept now and then.
import type { Session } from 'fastify'
import type { Db } from './db.ts'

type Cb = (err?: unknown) => void
type GetCb = (err: unknown, session?: Session | null) => void

interface StoredSession {
  cookie?: { expires?: string | Date | null; originalMaxAge?: number | null }
  user?: string
  [k: string]: unknown
}

export interface SqliteSessionStore {
  set(sessionId: string, session: object, callback: Cb): void
  get(sessionId: string, callback: GetCb): void
  destroy(sessionId: string, callback: Cb): void
}

export function createSessionStore(db: Db, idleMs: number): SqliteSessionStore {
  const upsert = db.prepare(
    'INSERT INTO sessions (id, user, data, expires_ms) VALUES (?, ?, ?, ?) ' +
      'ON CONFLICT (id) DO UPDATE SET user = excluded.user, data = excluded.data, expires_ms = excluded.expires_ms',
  )
  const select = db.prepare<[string], { data: string; expires_ms: number }>(
    'SELECT data, expires_ms FROM sessions WHERE id = ?',
  )
  const del = db.prepare('DELETE FROM sessions WHERE id = ?')
  const sweep = db.prepare('DELETE FROM sessions WHERE expires_ms <= ?')
  let lastSweep = 0
  return {
    set(id, sess, cb) {
      const session = sess as StoredSession
      try {
        const now = Date.now()
        const exp = session.cookie?.expires ? new Date(session.cookie.expires).getTime() : now + idleMs
        upsert.run(id, typeof session.user === 'string' ? session.user : null, JSON.stringify(session), exp)
        if (now - lastSweep > 60_000) {
          lastSweep = now
          sweep.run(now)
        }
        cb()
      } catch (err) {
        cb(err)
      }
    },
    get(id, cb) {
      try {
        const row = select.get(id)
        if (!row) return cb(null, null)
        if (row.expires_ms <= Date.now()) {
          del.run(id)
          return cb(null, null)
        }
        cb(null, JSON.parse(row.data) as Session)
      } catch (err) {
        cb(err)
      }
    },
    destroy(id, cb) {
      try {
        del.run(id)
        cb()
      } catch (err) {
        cb(err)
      }
    },
  }
}
