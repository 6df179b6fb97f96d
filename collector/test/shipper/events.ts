// Amavis-like events for the shipper tests, and a producer that writes them exactly as amavis
// does (RPUSH + LTRIM key -limit -1, pipelined).
import { formatEventTimestamp } from '@vigil/protocol'
import type { Redis } from 'ioredis'

export const BASE_UNIX = 1_760_000_000.25

/** Event i as amavis writes it; notification events reuse the parent's mail_id, as amavis does. */
export function amavisEvent(i: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const t = BASE_UNIX + i / 1000
  return {
    '@timestamp': formatEventTimestamp(t),
    type: 'amavis',
    host: 'mx1.example.net',
    log_id: `${1000 + (i % 50)}-${String(i).padStart(6, '0')}`,
    mail_id: `M${String(Math.floor(i / 2)).padStart(11, '0')}`,
    client_ip: `192.0.2.${i % 250}`,
    size: 1000 + i,
    action: ['PASS'],
    message: `${1000 + (i % 50)}-${i} Passed CLEAN`,
    time_unix: t,
    time_iso_week_date: '2025-W41-4',
    subject: `message ${i}`,
    ...extra,
  }
}

/** RPUSH + LTRIM as amavis (one pipeline per event, like its per-message delivery). */
export async function produce(r: Redis, key: string, items: readonly string[], limit = 1_000_000): Promise<void> {
  const CHUNK = 200
  for (let i = 0; i < items.length; i += CHUNK) {
    const p = r.pipeline()
    for (const it of items.slice(i, i + CHUNK)) p.rpush(key, it).ltrim(key, -limit, -1)
    await p.exec()
  }
}

export function events(from: number, n: number): string[] {
  return Array.from({ length: n }, (_, k) => JSON.stringify(amavisEvent(from + k)))
}
