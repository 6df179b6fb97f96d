// The embedded store's tables. One `docs` row per event (its JSON, its time, its day); every
// searchable value lives in a typed side table whose index leads on (field id, value), so that
// filters, exists and terms aggregations are index range scans and nothing is ever filtered or
// bucketed on JSON text (2.6–8 s vs 10–60 ms on 1 M rows: ../shared/notes/libraries-tried.md §6).
//
// Side tables are WITHOUT ROWID, clustered by (rid, fid, …): a document's rows are contiguous
// (re-indexing or deleting it is a prefix delete) and new documents append at the B-tree's end.
// Each side row repeats the document's ts_ms, so an aggregation over a time range with no other
// filter scans one covering index and never touches `docs`. `first` marks one row per
// (document, field): summing it counts the documents that have the field in the same pass.
import type Database from 'better-sqlite3'
import { FIELDS, type FieldSpec } from '../../search/fields.ts'

export const SCHEMA_VERSION = 1

const DDL = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS fields (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS docs (
  rid INTEGER PRIMARY KEY,
  event_id TEXT NOT NULL UNIQUE,
  ts_ms INTEGER NOT NULL,
  day TEXT NOT NULL,
  doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS docs_ts ON docs (ts_ms, event_id);
CREATE INDEX IF NOT EXISTS docs_day ON docs (day);
CREATE TABLE IF NOT EXISTS kw (
  rid INTEGER NOT NULL, fid INTEGER NOT NULL, value TEXT NOT NULL, lower TEXT NOT NULL,
  ts_ms INTEGER NOT NULL, first INTEGER NOT NULL,
  PRIMARY KEY (rid, fid, value)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS kw_value ON kw (fid, lower, value, ts_ms, first);
CREATE TABLE IF NOT EXISTS num (
  rid INTEGER NOT NULL, fid INTEGER NOT NULL, value NUMERIC NOT NULL, mult INTEGER NOT NULL,
  ts_ms INTEGER NOT NULL, first INTEGER NOT NULL,
  PRIMARY KEY (rid, fid, value)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS num_value ON num (fid, value, ts_ms, first, mult);
CREATE TABLE IF NOT EXISTS ip (
  rid INTEGER NOT NULL, fid INTEGER NOT NULL, value BLOB NOT NULL,
  ts_ms INTEGER NOT NULL, first INTEGER NOT NULL,
  PRIMARY KEY (rid, fid, value)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ip_value ON ip (fid, value, ts_ms, first);
CREATE TABLE IF NOT EXISTS tok (
  rid INTEGER NOT NULL, fid INTEGER NOT NULL, pos INTEGER NOT NULL, token TEXT NOT NULL,
  PRIMARY KEY (rid, fid, pos)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tok_token ON tok (fid, token);
CREATE TABLE IF NOT EXISTS geo (
  rid INTEGER NOT NULL, fid INTEGER NOT NULL, seq INTEGER NOT NULL, lat REAL NOT NULL, lon REAL NOT NULL,
  PRIMARY KEY (rid, fid, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS geo_field ON geo (fid);
`

/** Side table holding a field type's indexed values. */
export type SideTable = 'kw' | 'num' | 'ip' | 'tok' | 'geo'

export const SIDE_TABLES: readonly SideTable[] = ['kw', 'num', 'ip', 'tok', 'geo']

/** A searchable field as the store knows it: its catalogue spec and its id in the side tables. */
export interface StoredField {
  readonly spec: FieldSpec
  readonly id: number
  readonly table: SideTable
}

export function tableFor(spec: FieldSpec): SideTable {
  switch (spec.type) {
    case 'keyword':
      return 'kw'
    case 'text':
      return 'tok'
    case 'ip':
      return 'ip'
    case 'geo_point':
      return 'geo'
    default:
      return 'num'
  }
}

/**
 * Sets the connection up (WAL, synchronous=NORMAL, incremental auto-vacuum on a new file) and
 * creates the tables; idempotent. Returns the field registry, ids kept stable in `fields` so a
 * catalogue that grows never renumbers stored rows.
 */
export function initSchema(db: Database.Database): Map<string, StoredField> {
  // auto_vacuum only takes effect before the first table exists (a new file).
  db.pragma('auto_vacuum = INCREMENTAL')
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  db.pragma('busy_timeout = 5000')
  db.pragma('cache_size = -262144') // 256 MiB page cache: the side indexes are the hot set
  db.pragma('temp_store = MEMORY')
  db.exec(DDL)
  db.prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)').run('schema_version', String(SCHEMA_VERSION))
  const insert = db.prepare('INSERT OR IGNORE INTO fields (name) VALUES (?)')
  const specs = catalogueSpecs()
  db.transaction(() => specs.forEach((s) => insert.run(s.name)))()
  const ids = new Map<string, number>()
  for (const r of db.prepare('SELECT id, name FROM fields').all() as { id: number; name: string }[])
    ids.set(r.name, r.id)
  const out = new Map<string, StoredField>()
  for (const spec of specs) out.set(spec.name, { spec, id: ids.get(spec.name)!, table: tableFor(spec) })
  return out
}

/** Every indexed name: the catalogue plus the `.keyword` sub-fields (keyword type), minus @timestamp (a docs column). */
export function catalogueSpecs(): FieldSpec[] {
  const out: FieldSpec[] = []
  for (const f of FIELDS) {
    if (f.name === '@timestamp') continue
    out.push(f)
    if (f.hasKeyword) out.push({ name: `${f.name}.keyword`, type: 'keyword' })
  }
  return out
}
