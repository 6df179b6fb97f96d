// The embedded backend: a SQLite file (better-sqlite3, synchronous, in the shipper's thread),
// the default store of `npm start`. Writes are one transaction per bulk call; a re-sent event
// replaces itself (same event_id: its side rows are deleted and rewritten under the same rid).
// Failure policy, which the shipper relies on to lose nothing:
//   - a document the mapping refuses → 'reject' item (400, mapper_parsing_exception), as the engines;
//   - the size cap reached → 'retry' items (507 'embedded store full'): the events stay queued;
//   - a corrupt file or a full disk → BackendUnavailableError (counted by the caller, events stay queued).
import { mkdirSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import type { Logger } from '@vigil/protocol'
import type { AggsRequest, AggsResponse, SearchRequest, SearchResponse } from '../../search/api.ts'
import {
  BackendUnavailableError,
  type Backend,
  type BackendHealth,
  type IndexDoc,
  type ItemResult,
} from '../backend.ts'
import { runAggregate } from './aggs.ts'
import { createDocIndexer, type DocIndexer, type DocRows } from './index-doc.ts'
import { MappingError } from './coerce.ts'
import { registerMatchers } from './matchers.ts'
import { initSchema, SIDE_TABLES, type StoredField } from './schema.ts'
import { runSearch } from './search.ts'

export interface EmbeddedOptions {
  readonly path: string
  /** Daily partitions are `<indexPrefix>YYYY.MM.DD`, as IndexDoc.index names them. */
  readonly indexPrefix: string
  /** Past this many bytes in use, writes are refused with 'retry' items. */
  readonly maxSizeBytes: number
  /** Give freed pages back to the file system after retention deleted a day. */
  readonly vacuum: boolean
  readonly log?: Logger
}

const DAY_MS = 86400000
/**
 * Bytes on disk per byte of document JSON (docs row + side rows + their indexes), to decide
 * before writing whether a batch fits under the cap. Measured at 5.4 on 100 k synthetic amavis
 * events of 1.4 KB; rounded up, so the cap is approached from below.
 */
const BYTES_PER_JSON_BYTE = 6

// SQLite result codes (extended codes share the primary code's prefix) and errno values that
// mean the store cannot work until someone acts, as opposed to one bad document.
const UNAVAILABLE_CODES = /^SQLITE_(CORRUPT|NOTADB|FULL|IOERR|CANTOPEN|READONLY|PERM|PROTOCOL)/
const UNAVAILABLE_ERRNO = new Set(['ENOSPC', 'EACCES', 'EROFS', 'EIO'])

function asUnavailable(err: unknown): unknown {
  const code = (err as { code?: unknown })?.code
  if (typeof code === 'string' && (UNAVAILABLE_CODES.test(code) || UNAVAILABLE_ERRNO.has(code)))
    return new BackendUnavailableError(`Embedded store unavailable: ${(err as Error).message} (${code})`, {
      cause: err,
    })
  return err
}

interface Prepared {
  findRid: Database.Statement
  insertDoc: Database.Statement
  updateDoc: Database.Statement
  insertDay: Database.Statement
  deleteSide: Database.Statement[]
  insertKw: Database.Statement
  insertNum: Database.Statement
  insertIp: Database.Statement
  insertTok: Database.Statement
  insertGeo: Database.Statement
}

interface Open {
  db: Database.Database
  fields: Map<string, StoredField>
  indexer: DocIndexer
  st: Prepared
}

/** The embedded backend over one SQLite file (created with its directory on init). */
export function createEmbeddedBackend(o: EmbeddedOptions): Backend {
  let open: Open | undefined

  const ensure = (): Open => {
    if (open) return open
    try {
      mkdirSync(dirname(o.path), { recursive: true })
      const db = new Database(o.path)
      try {
        const fields = initSchema(db)
        registerMatchers(db)
        open = { db, fields, indexer: createDocIndexer(fields), st: prepare(db) }
      } catch (err) {
        db.close()
        throw err
      }
      return open
    } catch (err) {
      throw asUnavailable(err)
    }
  }

  const guarded = <T>(fn: (s: Open) => T): T => {
    const s = ensure()
    try {
      return fn(s)
    } catch (err) {
      throw asUnavailable(err)
    }
  }

  return {
    kind: 'embedded',
    async init() {
      ensure()
    },
    async bulk(docs) {
      return guarded((s) => bulk(s, o, docs))
    },
    async refresh() {
      // WAL readers see every committed transaction: nothing to do.
      ensure()
    },
    async search(req: SearchRequest): Promise<SearchResponse> {
      return guarded((s) => runSearch(s.db, s.fields, req))
    },
    async aggregate(req: AggsRequest): Promise<AggsResponse> {
      return guarded((s) => runAggregate(s.db, s.fields, req))
    },
    async applyRetention(nowMs, retentionDays) {
      return guarded((s) => applyRetention(s, o, nowMs, retentionDays))
    },
    async health(): Promise<BackendHealth> {
      try {
        return guarded((s) => {
          const docs = (s.db.prepare('SELECT count(*) AS n FROM docs').get() as { n: number }).n
          return { up: true, docs, sizeBytes: fileBytes(o.path) }
        })
      } catch (err) {
        return { up: false, detail: (err as Error).message }
      }
    },
    async close() {
      open?.db.close()
      open = undefined
    },
  }
}

function prepare(db: Database.Database): Prepared {
  const fromJson = (table: string, cols: string[], exprs: string[]) =>
    db.prepare(`INSERT OR IGNORE INTO ${table} (${cols.join(', ')}) SELECT ${exprs.join(', ')} FROM json_each(?)`)
  const at = (n: number) => Array.from({ length: n }, (_, i) => `value ->> ${i}`)
  return {
    findRid: db.prepare('SELECT rid FROM docs WHERE event_id = ?').pluck(),
    insertDoc: db.prepare('INSERT INTO docs (event_id, ts_ms, day, doc) VALUES (?, ?, ?, ?)'),
    updateDoc: db.prepare('UPDATE docs SET ts_ms = ?, day = ?, doc = ? WHERE rid = ?'),
    insertDay: db.prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)'),
    deleteSide: SIDE_TABLES.map((t) => db.prepare(`DELETE FROM ${t} WHERE rid = ?`)),
    insertKw: fromJson('kw', ['rid', 'fid', 'value', 'lower', 'ts_ms', 'first'], at(6)),
    insertNum: fromJson('num', ['rid', 'fid', 'value', 'mult', 'ts_ms', 'first'], at(6)),
    insertIp: fromJson(
      'ip',
      ['rid', 'fid', 'value', 'ts_ms', 'first'],
      ['value ->> 0', 'value ->> 1', 'unhex(value ->> 2)', 'value ->> 3', 'value ->> 4'],
    ),
    insertTok: fromJson('tok', ['rid', 'fid', 'pos', 'token'], at(4)),
    insertGeo: fromJson('geo', ['rid', 'fid', 'seq', 'lat', 'lon'], at(5)),
  }
}

/** Bytes of the file and its WAL on disk. */
function fileBytes(path: string): number {
  let n = 0
  for (const p of [path, `${path}-wal`])
    try {
      n += statSync(p).size
    } catch {
      // absent WAL: nothing to add
    }
  return n
}

// Pages holding data; free pages (after retention) are reused before the file grows.
function usedBytes(db: Database.Database): number {
  const pages = db.pragma('page_count', { simple: true }) as number
  const free = db.pragma('freelist_count', { simple: true }) as number
  const size = db.pragma('page_size', { simple: true }) as number
  return (pages - free) * size
}

function bulk(s: Open, o: EmbeddedOptions, docs: readonly IndexDoc[]): ItemResult[] {
  const results: ItemResult[] = new Array(docs.length)
  // The last occurrence of an id in a batch wins, as successive index operations would.
  const lastOf = new Map<string, number>()
  docs.forEach((d, i) => lastOf.set(d.id, i))
  const accepted: { i: number; rows: DocRows }[] = []
  let budget = o.maxSizeBytes - usedBytes(s.db)
  for (let i = 0; i < docs.length; i++) {
    const d = docs[i]
    let rows: DocRows
    try {
      rows = s.indexer.rows(d.doc)
    } catch (err) {
      if (!(err instanceof MappingError)) throw err
      results[i] = { status: 'reject', code: 400, reason: err.message }
      continue
    }
    budget -= d.json.length * BYTES_PER_JSON_BYTE
    if (budget < 0) {
      results[i] = { status: 'retry', code: 507, reason: 'embedded store full' }
      continue
    }
    results[i] = { status: 'ok' }
    if (lastOf.get(d.id) === i) accepted.push({ i, rows })
  }
  if (!accepted.length) return results
  try {
    s.db.transaction(() => writeDocs(s, docs, accepted))()
  } catch (err) {
    // Another process holding the write lock past busy_timeout: transient, send again later.
    if (!/^SQLITE_(BUSY|LOCKED)/.test(String((err as { code?: unknown }).code))) throw err
    for (let i = 0; i < docs.length; i++)
      if (results[i].status === 'ok') results[i] = { status: 'retry', code: 503, reason: 'embedded store busy' }
  }
  return results
}

function writeDocs(s: Open, docs: readonly IndexDoc[], accepted: { i: number; rows: DocRows }[]): void {
  const { st } = s
  const kw: unknown[] = []
  const num: unknown[] = []
  const ip: unknown[] = []
  const tok: unknown[] = []
  const geo: unknown[] = []
  const days = new Set<string>()
  for (const { i, rows } of accepted) {
    const d = docs[i]
    const ts = Math.trunc(d.tsMs)
    let rid = st.findRid.get(d.id) as number | undefined
    if (rid === undefined) rid = Number(st.insertDoc.run(d.id, ts, d.index, d.json).lastInsertRowid)
    else {
      for (const del of st.deleteSide) del.run(rid)
      st.updateDoc.run(ts, d.index, d.json, rid)
    }
    days.add(d.index)
    for (const r of rows.kw) kw.push([rid, r[0], r[1], r[2], ts, r[3]])
    for (const r of rows.num) num.push([rid, r[0], r[1], r[2], ts, r[3]])
    for (const r of rows.ip) ip.push([rid, r[0], r[1], ts, r[2]])
    for (const r of rows.tok) tok.push([rid, r[0], r[1], r[2]])
    for (const r of rows.geo) geo.push([rid, r[0], r[1], r[2], r[3]])
  }
  if (kw.length) st.insertKw.run(JSON.stringify(kw))
  if (num.length) st.insertNum.run(JSON.stringify(num))
  if (ip.length) st.insertIp.run(JSON.stringify(ip))
  if (tok.length) st.insertTok.run(JSON.stringify(tok))
  if (geo.length) st.insertGeo.run(JSON.stringify(geo))
  for (const day of days) st.insertDay.run(`day:${day}`, day)
}

// A day D is deleted once all of it is older than retentionDays before nowMs (D's end ≤ cutoff):
// with 30 days, today and the 30 days before it are kept.
function applyRetention(s: Open, o: EmbeddedOptions, nowMs: number, retentionDays: number): string[] {
  if (retentionDays <= 0) return []
  const cutoffMs = nowMs - retentionDays * DAY_MS
  const days = s.db.prepare("SELECT value FROM meta WHERE key LIKE 'day:%'").pluck().all() as string[]
  const expired = days.filter((day) => {
    const start = dayStartMs(day, o.indexPrefix)
    return start !== undefined && start + DAY_MS <= cutoffMs
  })
  const dels = SIDE_TABLES.map((t) =>
    s.db.prepare(`DELETE FROM ${t} WHERE rid IN (SELECT rid FROM docs WHERE day = ?)`),
  )
  const delDocs = s.db.prepare('DELETE FROM docs WHERE day = ?')
  const delDay = s.db.prepare('DELETE FROM meta WHERE key = ?')
  for (const day of expired.sort()) {
    s.db.transaction(() => {
      for (const d of dels) d.run(day)
      const n = delDocs.run(day).changes
      delDay.run(`day:${day}`)
      o.log?.info('Retention deleted a day.', { day, docs: n })
    })()
  }
  if (expired.length && o.vacuum) reclaim(s.db)
  return expired.sort()
}

// Freed pages go back to the file system between batches (never inside a write): incremental
// vacuum on files created by this store (auto_vacuum = INCREMENTAL), a full VACUUM otherwise.
function reclaim(db: Database.Database): void {
  const mode = db.pragma('auto_vacuum', { simple: true }) as number
  if (mode === 2) db.pragma('incremental_vacuum')
  else db.exec('VACUUM')
  db.pragma('wal_checkpoint(TRUNCATE)')
}

function dayStartMs(index: string, prefix: string): number | undefined {
  if (!index.startsWith(prefix)) return undefined
  const m = /^(\d{4})\.(\d{2})\.(\d{2})$/.exec(index.slice(prefix.length))
  return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : undefined
}
