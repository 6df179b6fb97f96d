import { test } from 'node:test'
import assert from 'node:assert/strict'
import { statSync } from 'node:fs'
import pg from 'pg'
import { startPostgres } from './index.ts'

test('startPostgres runs a private PostgreSQL 15 the pg client reaches on loopback, not as root', async (t) => {
  const db = await startPostgres(t)
  assert.equal(db.url, `postgres://vscan@127.0.0.1:${db.port}/mail_prefs`)
  if (process.getuid?.() === 0) assert.notEqual(statSync(`/proc/${db.pid}`).uid, 0)
  await db.sql('CREATE TABLE t (id integer PRIMARY KEY, email bytea NOT NULL);')
  await db.sql("INSERT INTO t VALUES (1, 'u1@example.com');")
  const client = new pg.Client({ connectionString: db.url })
  client.on('error', () => {})
  await client.connect()
  const r = await client.query('SELECT id, current_user AS who, version() AS v FROM t WHERE email = $1', [
    Buffer.from('u1@example.com'),
  ])
  assert.deepEqual([r.rows[0].id, r.rows[0].who], [1, 'vscan'])
  assert.match(r.rows[0].v, /^PostgreSQL 15\./)
  await client.end()
})

test('stopping postgres is a fast shutdown: a connected client does not hold it up, the port is freed', async (t) => {
  const db = await startPostgres(t)
  const client = new pg.Client({ connectionString: db.url })
  client.on('error', () => {})
  await client.connect()
  const started = Date.now()
  await db.stop()
  assert.ok(Date.now() - started < 4000, 'fast shutdown, not the 5 s SIGKILL grace')
  assert.equal(db.process.running(), false)
  await assert.rejects(client.query('SELECT 1'))
  const again = new pg.Client({ connectionString: db.url, connectionTimeoutMillis: 2000 })
  await assert.rejects(again.connect(), /ECONNREFUSED/)
  await db.stop() // idempotent
})
