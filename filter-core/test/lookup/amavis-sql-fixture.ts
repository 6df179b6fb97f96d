// The lookup part of amavis's README.sql-pg schema (policy, users, mailaddr, wblist) with a small
// data set, for PostgreSQL (psql) and SQLite (a real file through better-sqlite3).
import Database from 'better-sqlite3'

const POLICY_COLS = [
  'virus_lover char(1)',
  'spam_lover char(1)',
  'banned_files_lover char(1)',
  'bad_header_lover char(1)',
  'bypass_virus_checks char(1)',
  'bypass_spam_checks char(1)',
  'bypass_banned_checks char(1)',
  'bypass_header_checks char(1)',
  'spam_tag_level real',
  'spam_tag2_level real',
  'spam_tag3_level real',
  'spam_kill_level real',
  'spam_subject_tag2 varchar(64)',
  'message_size_limit integer',
].map((c) => `${c} default NULL`)

export function schema(kind: 'pg' | 'sqlite'): string {
  const id = kind === 'pg' ? 'serial PRIMARY KEY' : 'INTEGER PRIMARY KEY AUTOINCREMENT'
  return `
CREATE TABLE policy (id ${id}, policy_name varchar(32), ${POLICY_COLS.join(', ')});
CREATE TABLE users (
  id ${id}, priority integer NOT NULL DEFAULT 7,
  policy_id integer NOT NULL DEFAULT 1 CHECK (policy_id >= 0) REFERENCES policy(id),
  email bytea NOT NULL UNIQUE, fullname varchar(255) DEFAULT NULL);
CREATE TABLE mailaddr (id ${id}, priority integer NOT NULL DEFAULT 9, email bytea NOT NULL UNIQUE);
CREATE TABLE wblist (
  rid integer NOT NULL CHECK (rid >= 0) REFERENCES users(id),
  sid integer NOT NULL CHECK (sid >= 0) REFERENCES mailaddr(id),
  wb varchar(10) NOT NULL, PRIMARY KEY (rid,sid));
`
}

/** policy 1 Normal, 2 spam lover (kill level 3.0), 3 low kill level (3.0), 4 the catch-all's levels (kill 8.0). */
export const DATA = `
INSERT INTO policy (id, policy_name, virus_lover, spam_lover, spam_tag2_level, spam_kill_level, spam_subject_tag2) VALUES
  (1, 'Normal',   'N', 'N', NULL, NULL, NULL),
  (2, 'Lover',    NULL, 'Y', NULL, 3.0, NULL),
  (3, 'Low kill', NULL, NULL, 2.0, 3.0, '[LOW] '),
  (4, 'catchall', NULL, NULL, 6.0, 8.0, NULL);
INSERT INTO users (id, priority, policy_id, email) VALUES
  (1, 9, 2, 'lover@example.com'),
  (2, 9, 3, 'low@example.com'),
  (3, 7, 1, 'u+foo@example.com'),
  (4, 5, 1, '@example.com'),
  (5, 0, 4, '@.'),
  (6, 7, 3, 'bare');
INSERT INTO mailaddr (id, priority, email) VALUES
  (1, 9, 'friend@sender.example'),
  (2, 5, '@spam.example'),
  (3, 5, '@.sender.example');
INSERT INTO wblist (rid, sid, wb) VALUES (1, 1, 'W'), (1, 2, 'B'), (5, 2, 'B'), (2, 3, ' ');
`

/** Creates a real SQLite file with the schema and data; returns its `sqlite:` DSN. */
export function createSqliteFile(path: string): string {
  const db = new Database(path)
  db.exec(schema('sqlite') + DATA)
  db.close()
  return `sqlite:${path}`
}
