// Local users of the dashboard: name, role (admin | viewer) and scrypt hash (password.ts), in the
// dashboard database (db.ts). `vigil user …` (cli/src/commands/user.ts), the admin API and tests
// use this module; tests create users before start with
//   const users = createUserStore(home, { scryptLogN: 10 }); await users.add('ann', 'viewer', 'pw…'); users.close()
import { ErrorCode, VigilError } from '@vigil/protocol'
import { openDashboardDb, type Db } from './db.ts'
import { dummyHash, hashPassword, verifyPassword } from './password.ts'

export type Role = 'admin' | 'viewer'
export const ROLES: readonly Role[] = ['admin', 'viewer']

export interface User {
  readonly name: string
  readonly role: Role
  readonly created_ms: number
  readonly updated_ms: number
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/
export const MIN_PASSWORD_LENGTH = 8

export class UserError extends VigilError {
  constructor(message: string) {
    super(ErrorCode.CONFIG_INVALID, message)
  }
}

export function checkUserName(name: string): void {
  if (!NAME_RE.test(name))
    throw new UserError(
      `Invalid user name '${name}': 1–64 characters of A–Z a–z 0–9 . _ @ -, starting with a letter or digit.`,
    )
}
export function checkRole(role: string): asserts role is Role {
  if (!ROLES.includes(role as Role)) throw new UserError(`Invalid role '${role}': admin or viewer.`)
}
export function checkPassword(password: string): void {
  if ([...password.normalize('NFC')].length < MIN_PASSWORD_LENGTH)
    throw new UserError(`The password is too short (at least ${MIN_PASSWORD_LENGTH} characters).`)
  if (password.length > 1024) throw new UserError('The password is too long (at most 1024 characters).')
}

export interface UserStore {
  /** Adds a user; fails when the name exists or name, role or password are invalid. */
  add(name: string, role: Role, password: string): Promise<User>
  get(name: string): User | undefined
  list(): User[]
  count(): number
  /** Removes the user, their sessions and saved searches; false when there was no such user. */
  remove(name: string): boolean
  /** Sets a new password and ends the user's sessions. */
  setPassword(name: string, password: string): Promise<void>
  /** The user when the password matches, else undefined (same cost for unknown names). */
  verify(name: string, password: string): Promise<User | undefined>
  readonly db: Db
  close(): void
}

interface Row {
  name: string
  role: Role
  hash: string
  created_ms: number
  updated_ms: number
}
const toUser = (r: Row): User => ({ name: r.name, role: r.role, created_ms: r.created_ms, updated_ms: r.updated_ms })

export interface UserStoreOptions {
  /** log2 of scrypt's N for new hashes (default 17; dashboard.auth.scrypt_log_n). */
  readonly scryptLogN?: number
  /** Use this open database (the dashboard shares one); otherwise `<home>/dashboard/dashboard.db`. */
  readonly db?: Db
}

export function createUserStore(home: string, opts: UserStoreOptions = {}): UserStore {
  const logN = opts.scryptLogN ?? 17
  const owned = !opts.db
  const db = opts.db ?? openDashboardDb(home)
  const byName = db.prepare<[string], Row>('SELECT * FROM users WHERE name = ?')
  return {
    db,
    async add(name, role, password) {
      checkUserName(name)
      checkRole(role)
      checkPassword(password)
      if (byName.get(name)) throw new UserError(`User '${name}' exists already.`)
      const hash = await hashPassword(password, logN)
      const now = Date.now()
      try {
        db.prepare('INSERT INTO users (name, role, hash, created_ms, updated_ms) VALUES (?, ?, ?, ?, ?)').run(
          name,
          role,
          hash,
          now,
          now,
        )
      } catch (err) {
        if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY')
          throw new UserError(`User '${name}' exists already.`)
        throw err
      }
      return { name, role, created_ms: now, updated_ms: now }
    },
    get(name) {
      const r = byName.get(name)
      return r ? toUser(r) : undefined
    },
    list() {
      return db.prepare<[], Row>('SELECT * FROM users ORDER BY name').all().map(toUser)
    },
    count() {
      return (db.prepare('SELECT count(*) AS n FROM users').get() as { n: number }).n
    },
    remove(name) {
      return db.transaction(() => {
        const n = db.prepare('DELETE FROM users WHERE name = ?').run(name).changes
        db.prepare('DELETE FROM sessions WHERE user = ?').run(name)
        db.prepare('DELETE FROM saved_searches WHERE user = ?').run(name)
        return n > 0
      })()
    },
    async setPassword(name, password) {
      checkPassword(password)
      if (!byName.get(name)) throw new UserError(`No user '${name}'.`)
      const hash = await hashPassword(password, logN)
      db.transaction(() => {
        db.prepare('UPDATE users SET hash = ?, updated_ms = ? WHERE name = ?').run(hash, Date.now(), name)
        db.prepare('DELETE FROM sessions WHERE user = ?').run(name)
      })()
    },
    async verify(name, password) {
      const r = typeof name === 'string' ? byName.get(name) : undefined
      if (!r) {
        await verifyPassword(password, await dummyHash(logN))
        return undefined
      }
      return (await verifyPassword(password, r.hash)) ? toUser(r) : undefined
    },
    close() {
      if (owned && db.open) db.close()
    },
  }
}
