// Raw Redis item → IndexDoc, or the reason it must be dead-lettered. Pure: no I/O, so every rule
// is tested on literal strings (collector/test/shipper/prepare.test.ts).
import type { IndexDoc } from '../backends/backend.ts'
import { eventId } from './doc-id.ts'

/** Largest item accepted (bytes); larger ones are dead-lettered as 'oversize' without parsing. */
export const DEFAULT_MAX_ITEM_BYTES = 16 * 1024 * 1024

/** Dead-letter reason classes, the label of the dead_lettered counters. */
export type DeadReasonClass =
  'invalid_json' | 'not_object' | 'no_timestamp' | 'oversize' | 'rejected' | 'retries_exhausted'

export type Prepared =
  | { readonly ok: true; readonly doc: IndexDoc }
  | { readonly ok: false; readonly reasonClass: DeadReasonClass; readonly reason: string }

export type EnrichFn = (doc: Record<string, unknown>) => void

export interface PrepareOptions {
  /** Daily index prefix (search.index_prefix), e.g. `amavis-`. */
  readonly indexPrefix: string
  /** Adds client_geo (collector/src/enrich/); an exception leaves the event without it. */
  readonly enrich?: EnrichFn
  readonly maxItemBytes?: number
  /** Called when enrich throws (the event is still indexed). */
  readonly onEnrichError?: (err: unknown) => void
}

// amavis's @timestamp: `YYYY-MM-DDTHH:MM:SS.mmmZ`, where the milliseconds are int(frac*1000+0.5)
// and so may print as `.1000` (= the next second); other producers may omit the fraction, write
// more digits or an offset.
const ISO = /^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[.,](\d+))?(Z|[+-]\d\d(?::?\d\d)?)?$/i

/** Epoch ms of an amavis-style @timestamp, or undefined when it is not one. */
export function parseEventTimestamp(s: string): number | undefined {
  const m = ISO.exec(s.trim())
  if (!m) return undefined
  const [, y, mo, d, h, mi, sec, frac, tz] = m
  // `.1000` is amavis's rounding overflow (1000 ms), not a decimal fraction 0.1.
  const fracMs = frac === undefined ? 0 : frac === '1000' ? 1000 : Math.round(Number(`0.${frac}`) * 1000)
  const base = Date.UTC(+y, +mo - 1, +d, +h, +mi, +sec)
  if (!Number.isFinite(base) || +mo < 1 || +mo > 12 || +d < 1 || +d > 31 || +h > 23 || +mi > 59 || +sec > 60)
    return undefined
  let offsetMin = 0
  if (tz && tz.toUpperCase() !== 'Z') {
    const t = /^([+-])(\d\d):?(\d\d)?$/.exec(tz)!
    offsetMin = (t[1] === '-' ? -1 : 1) * (Number(t[2]) * 60 + Number(t[3] ?? 0))
  }
  return base + fracMs - offsetMin * 60_000
}

/** time_unix (number or numeric string, seconds with a fraction) → epoch ms. */
function parseTimeUnix(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN
  return Number.isFinite(n) && n > 0 ? Math.round(n * 1000) : undefined
}

// Years the engines' `date` type and a daily index name can hold; beyond them, dead-letter here
// with a clear reason rather than let each backend fail its own way.
const MIN_MS = Date.UTC(1970, 0, 1)
const MAX_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999)

/** Epoch ms of the event from @timestamp, else time_unix; undefined when neither is usable. */
export function eventTimeMs(event: Readonly<Record<string, unknown>>): number | undefined {
  const ts = event['@timestamp']
  const fromIso = typeof ts === 'string' ? parseEventTimestamp(ts) : undefined
  const ms = fromIso ?? parseTimeUnix(event.time_unix)
  return ms !== undefined && ms >= MIN_MS && ms <= MAX_MS ? ms : undefined
}

/** `<prefix>YYYY.MM.DD` of the UTC day of tsMs. */
export function dailyIndex(prefix: string, tsMs: number): string {
  const iso = new Date(tsMs).toISOString()
  return `${prefix}${iso.slice(0, 4)}.${iso.slice(5, 7)}.${iso.slice(8, 10)}`
}

function short(s: string, max = 200): string {
  return s.length > max ? s.slice(0, max) + '…' : s
}

/** raw item (bytes from Redis, or text from the ZMQ intake) → Prepared. */
export function prepare(raw: Buffer | string, o: PrepareOptions): Prepared {
  const maxBytes = o.maxItemBytes ?? DEFAULT_MAX_ITEM_BYTES
  const size = typeof raw === 'string' ? Buffer.byteLength(raw) : raw.length
  if (size > maxBytes) return { ok: false, reasonClass: 'oversize', reason: `oversize: ${size} bytes > ${maxBytes}` }
  const text = typeof raw === 'string' ? raw : raw.toString('utf8')
  let event: unknown
  try {
    event = JSON.parse(text)
  } catch (err) {
    return { ok: false, reasonClass: 'invalid_json', reason: `invalid JSON: ${short((err as Error).message)}` }
  }
  if (event === null || typeof event !== 'object' || Array.isArray(event))
    return {
      ok: false,
      reasonClass: 'not_object',
      reason: `not a JSON object: ${Array.isArray(event) ? 'array' : event === null ? 'null' : typeof event}`,
    }
  const ev = event as Record<string, unknown>
  const tsMs = eventTimeMs(ev)
  if (tsMs === undefined)
    return {
      ok: false,
      reasonClass: 'no_timestamp',
      reason: `no usable @timestamp or time_unix (@timestamp: ${short(JSON.stringify(ev['@timestamp']) ?? 'absent', 80)})`,
    }
  const id = eventId(ev, raw)
  // The parsed event is ours: it becomes the document in place (same key order as a copy).
  const rawTs = ev['@timestamp']
  const ts = new Date(tsMs).toISOString()
  const hadId = 'event_id' in ev
  const hadGeo = 'client_geo' in ev
  ev['@timestamp'] = ts
  ev.event_id = id
  if (o.enrich) {
    try {
      o.enrich(ev)
    } catch (err) {
      o.onEnrichError?.(err)
    }
  }
  const index = dailyIndex(o.indexPrefix, tsMs)
  const spliced = rawTs === ts && !hadId && !hadGeo ? splice(text, id, ev.client_geo) : undefined
  return spliced === undefined
    ? { ok: true, doc: { id, tsMs, index, doc: ev, json: JSON.stringify(ev) } }
    : { ok: true, doc: { id, tsMs, index, doc: ev, json: spliced, verbatim: true } }
}

/**
 * The producer's JSON with event_id (and client_geo) appended before its closing brace, when that
 * is the document: its @timestamp was already canonical and it had neither field. Serialising the
 * parsed event again costs about as much as parsing it (ADR 0005); the bytes are the producer's.
 * A key the producer wrote twice (which JSON.parse folds and the engines reject) is the one case
 * where the two differ: the shipper resends a rejected verbatim document once in the serialised
 * form (shipper.ts). undefined when the text does not end in `}` (then the caller serialises).
 */
function splice(raw: string, id: string, geo: unknown): string | undefined {
  const text = raw.trimEnd()
  if (text.charCodeAt(text.length - 1) !== 0x7d /* } */) return undefined
  const geoPart = geo === undefined ? '' : `,"client_geo":${JSON.stringify(geo)}`
  return `${text.slice(0, -1)},"event_id":${JSON.stringify(id)}${geoPart}}`
}

/** The preparer of one shipper. */
export function createPreparer(o: PrepareOptions): (raw: Buffer | string) => Prepared {
  return (raw) => prepare(raw, o)
}

/** The direct (ZMQ) intake's form: the document, or `{error}` with the dead-letter reason. */
export function prepareItem(raw: string, o: PrepareOptions): IndexDoc | { error: string } {
  const p = prepare(raw, o)
  return p.ok ? p.doc : { error: p.reason }
}
