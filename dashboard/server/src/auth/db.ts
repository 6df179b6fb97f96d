// The dashboard's own state: one SQLite file, <home>/dashboard/dashboard.db (directory 0700, file
// 0600), holding the users (scrypt hashes), the sessions, the saved searches and the session
// cookie's signing secret. The CLI (`vigil user …`) and the running dashboard open the same file
// (WAL, busy timeout), so a user added or deleted from the shell counts at once.
import Database from 'better-sqlite3'
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs'
import { join } from 'node:path'

export type Db = Database.Database

/** `<home>/dashboard/dashboard.db`. */
export function dashboardDbPath(home: string): string {
  return join(home, 'dashboard', 'dashboard.db')
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
  name TEXT PRIMARY KEY,
  role TEXT NOT NULL CHECK (role IN ('admin', 'viewer')),
  hash TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY,
  user TEXT,
  data TEXT NOT NULL,
  expires_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions (user);
CREATE INDEX IF NOT EXISTS sessions_expires ON sessions (expires_ms);
CREATE TABLE IF NOT EXISTS saved_searches (
  id TEXT PRIMARY KEY,
  user TEXT NOT NULL,
  name TEXT NOT NULL,
  hash TEXT NOT NULL,
  created_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS saved_searches_user ON saved_searches (user, created_ms);
`

/** Opens (creating when needed) the dashboard database of a Vigil home. */
export function openDashboardDb(home: string): Db {
  const dir = join(home, 'dashboard')
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  chmodSync(dir, 0o700)
  const file = dashboardDbPath(home)
  // Created 0600 before SQLite opens it (its -wal and -shm files take the same mode).
  closeSync(openSync(file, 'a', 0o600))
  chmodSync(file, 0o600)
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  db.pragma('busy_timeout = 5000')
  db.exec(SCHEMA)
  return db
}
