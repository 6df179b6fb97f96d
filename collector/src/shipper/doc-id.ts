// Idempotent document ids (event_id): a re-sent event overwrites itself, two distinct events never
// share an id.
//
// Why the hash covers the exact item bytes and not a choice of fields: amavis gives no field that
// is unique per event today. DSN and notification events reuse the parent's mail_id (issue #10,
// Deliver 2), a message released from quarantine is logged again with the same mail_id, and the
// set of fields differs between amavis versions and Vigil's filter, so any subset we pick could
// collide for some producer. The item bytes are what the producer wrote once: a redelivery after a
// crash, a takeover or a retry sends the very same bytes (same id, the document is overwritten),
// while two events that differ in anything (log_id, @timestamp to the ms, action, recipients…)
// differ in their bytes (different ids). Two items with identical bytes are indistinguishable
// copies of one event, and storing them once is the right answer. The enrichment added at ship
// time is not part of the hash, so a changed GeoIP database does not change ids.
//
// mail_id and notification_type stay readable in front of the hash so that an operator can tell
// from the id alone which message an event belongs to, and that a DSN (`…-dsn-…`) and its parent
// (`…-msg-…`) never look alike even before the hash.
import { createHash } from 'node:crypto'

/** Characters of base64url(sha256) kept: 22 × 6 = 132 bits, collision-free for any realistic corpus. */
const HASH_CHARS = 22
const SAFE_PART = /[^A-Za-z0-9_+-]/g
const MAX_PART = 64

function part(v: unknown, fallback: string): string {
  if (typeof v !== 'string' || v.length === 0) return fallback
  const s = v.replace(SAFE_PART, '_').slice(0, MAX_PART)
  return s.length ? s : fallback
}

/** base64url sha256 of the item bytes, shortened: also names dead letters of unparseable items. */
export function itemHash(raw: Uint8Array | string): string {
  return createHash('sha256').update(raw).digest('base64url').slice(0, HASH_CHARS)
}

/**
 * `<mail_id|none>-<dsn|notif|msg>-<hash of the raw item>`, at most ~95 ASCII characters (the
 * engines allow 512 bytes). `event` is the parsed item, `raw` its exact bytes as read from Redis.
 */
export function eventId(event: Readonly<Record<string, unknown>>, raw: Uint8Array | string): string {
  const nt = event.notification_type
  const kind = nt === undefined || nt === null ? 'msg' : part(String(nt).toLowerCase(), 'other')
  return `${part(event.mail_id, 'none')}-${kind}-${itemHash(raw)}`
}
