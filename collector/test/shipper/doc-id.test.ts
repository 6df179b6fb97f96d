import { test } from 'node:test'
import assert from 'node:assert/strict'
import { eventId } from '../../src/shipper/doc-id.ts'
import { amavisEvent } from './events.ts'

const idOf = (ev: Record<string, unknown>) => {
  const raw = JSON.stringify(ev)
  return eventId(JSON.parse(raw) as Record<string, unknown>, Buffer.from(raw))
}

test('the same item bytes give the same id (a re-sent event overwrites itself)', () => {
  const raw = JSON.stringify(amavisEvent(1))
  const a = eventId(JSON.parse(raw), Buffer.from(raw))
  const b = eventId(JSON.parse(raw), raw)
  assert.equal(a, b)
  assert.match(a, /^M00000000000-msg-[A-Za-z0-9_-]{22}$/)
})

test('a DSN and a notification reusing the parent mail_id get ids of their own', () => {
  const parent = amavisEvent(10)
  const dsn = { ...parent, notification_type: 'DSN', action: ['DSN'] }
  const notif = { ...parent, notification_type: 'NOTIF', action: ['NOTIF'] }
  delete (dsn as Record<string, unknown>).elapsed
  const ids = [idOf(parent), idOf(dsn), idOf(notif)]
  assert.equal(new Set(ids).size, 3)
  assert.match(ids[1], /^M00000000005-dsn-/)
  assert.match(ids[2], /^M00000000005-notif-/)
  // Two DSNs for the same parent that differ in anything are distinct too.
  assert.notEqual(idOf(dsn), idOf({ ...dsn, '@timestamp': '2025-10-09T08:53:20.251Z' }))
})

test('distinct events never collide, even with the same mail_id and timestamp', () => {
  const ids = new Set<string>()
  for (let i = 0; i < 5000; i++) ids.add(idOf({ ...amavisEvent(0), recipient_n: i }))
  assert.equal(ids.size, 5000)
})

test('hostile or missing mail_id still gives a safe, short id', () => {
  const a = idOf({ '@timestamp': '2025-01-01T00:00:00Z', mail_id: 'a/b c?' + 'x'.repeat(500) })
  assert.match(a, /^a_b_c_x+-msg-[A-Za-z0-9_-]{22}$/)
  assert.ok(a.length < 100)
  assert.match(idOf({ '@timestamp': '2025-01-01T00:00:00Z' }), /^none-msg-/)
  assert.match(idOf({ mail_id: 42 }), /^none-msg-/)
})
