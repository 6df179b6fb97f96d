// SQL lookups as amavis's Amavis::Lookup::SQL (README.sql, README.sql-pg): @lookup_sql_dsn is a
// list of databases, the first that answers is used as long as it works, then the list is tried
// again; $sql_select_policy and $sql_select_white_black_list are run with amavis's
// placeholders expanded (%k the query keys, %a %l %u %e %d parts of the address, %L is-local,
// `?` the extra arguments, e.g. the recipient's users.id for the wblist query). PostgreSQL through
// `pg` (postgres://user:pass@host:port/db), SQLite through better-sqlite3 (sqlite:/path/file,
// opened read-only). Rows come back as objects with lower-case column names, in query order.
import Database from 'better-sqlite3'
import pg from 'pg'
import type { AddressKeyOptions } from './address-keys.ts'
import { makeQueryKeys } from './query-keys.ts'

export { DEFAULT_SQL_SELECT_POLICY, DEFAULT_SQL_SELECT_WBLIST, SQL_DSN_RE } from './dynamic-defaults.ts'

export type SqlRow = Readonly<Record<string, unknown>>

export interface SqlLookupOptions {
  dsns: readonly string[]
  selectPolicy: string
  selectWbList: string
  /** $sql_lookups_no_at_means_domain (default false). */
  noAtMeansDomain: boolean
  keys: AddressKeyOptions
  /** Connect/statement timeout of one query, ms. */
  timeoutMs: number
}

export interface SqlLookup {
  /** $sql_select_policy rows for a recipient (isLocal: static local_domains_maps, gives the bare-user keys). */
  policy(addr: string, isLocal: boolean): Promise<SqlRow[]>
  /** $sql_select_white_black_list rows for a sender against one users.id. */
  wblist(userId: unknown, sender: string, senderIsLocal: boolean): Promise<SqlRow[]>
  close(): Promise<void>
}

interface Conn {
  query(text: string, params: unknown[]): Promise<SqlRow[]>
  close(): Promise<void>
}

/** Expands amavis's placeholders into `?` and the positional parameters, in clause order. */
export function expandClause(
  clause: string,
  keys: readonly string[],
  rhs: readonly string[],
  isLocal: boolean,
  extras: readonly unknown[],
): { text: string; params: unknown[] } {
  const params: unknown[] = []
  const rest = [...extras]
  const text = clause.replace(/%[kaluedL]|\?/g, (t) => {
    if (t === '%k') {
      params.push(...keys)
      return keys.map(() => '?').join(',')
    }
    const i = '%a%l%u%e%d'.indexOf(t)
    params.push(i >= 0 ? rhs[i / 2] : t === '%L' ? (isLocal ? '1' : '0') : rest.shift())
    return '?'
  })
  return { text, params }
}

/** Column names lower-cased (DBI NAME_lc), byte strings (bytea, BLOB) as UTF-8 text. */
function normalizeRow(row: Record<string, unknown>): SqlRow {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(row)) out[k.toLowerCase()] = Buffer.isBuffer(v) ? v.toString('utf8') : v
  return out
}

function openPg(dsn: string, timeoutMs: number): Conn {
  const pool = new pg.Pool({
    connectionString: dsn,
    max: 2,
    idleTimeoutMillis: 30_000,
    allowExitOnIdle: true,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
  })
  // A server that goes away kills idle clients with an error event: the next query reconnects.
  pool.on('error', () => {})
  return {
    async query(text, params) {
      let n = 0
      const r = await pool.query(
        text.replace(/\?/g, () => `$${++n}`),
        params,
      )
      return r.rows.map(normalizeRow)
    },
    close: () => pool.end(),
  }
}

function openSqlite(dsn: string): Conn {
  const path = dsn.replace(/^sqlite:(\/\/(?=\/))?/, '').replace(/^dbname=/, '')
  const db = new Database(path, { readonly: true, fileMustExist: true })
  const stmts = new Map<string, Database.Statement>()
  return {
    async query(text, params) {
      let st = stmts.get(text)
      if (!st) stmts.set(text, (st = db.prepare(text)))
      return (st.all(...params) as Record<string, unknown>[]).map(normalizeRow)
    },
    async close() {
      db.close()
    },
  }
}

export function createSqlLookup(o: SqlLookupOptions): SqlLookup {
  const conns: (Conn | undefined)[] = o.dsns.map(() => undefined)
  let current = 0
  const open = (i: number) =>
    (conns[i] ??= o.dsns[i].startsWith('sqlite:') ? openSqlite(o.dsns[i]) : openPg(o.dsns[i], o.timeoutMs))
  /** The current database, then the others in list order; the last error if none answers. */
  const run = async (text: string, params: unknown[]): Promise<SqlRow[]> => {
    let lastErr: unknown
    for (let k = 0; k < o.dsns.length; k++) {
      const i = (current + k) % o.dsns.length
      try {
        const rows = await open(i).query(text, params)
        current = i
        return rows
      } catch (err) {
        lastErr = err
        const c = conns[i]
        conns[i] = undefined
        void c?.close().catch(() => {})
      }
    }
    throw lastErr ?? new Error('no lookup_sql_dsn')
  }
  const select = (clause: string, addr: string, isLocal: boolean, extras: unknown[]) => {
    const { keys, rhs } = makeQueryKeys(addr, o.noAtMeansDomain, isLocal, o.keys)
    // $sql_allow_8bit_address off (amavis default): non-printable octets become '?'.
    const safe = keys.map((k) => k.replace(/[^\x20-\x7e]/g, '?'))
    const { text, params } = expandClause(clause, safe, rhs, isLocal, extras)
    return run(text, params)
  }
  return {
    async policy(addr, isLocal) {
      const rows = await select(o.selectPolicy, addr, isLocal, [])
      // A match on the catch-all '@.' says nothing of locality (amavis: local => undef).
      return rows.map((r) => (!('local' in r) && r.email === '@.' ? { ...r, local: null } : r))
    },
    wblist: (userId, sender, senderIsLocal) => select(o.selectWbList, sender, senderIsLocal, [userId]),
    async close() {
      await Promise.all(conns.map((c) => c?.close().catch(() => {})))
      conns.fill(undefined)
    },
  }
}
