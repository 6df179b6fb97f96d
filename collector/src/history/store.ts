// The counter history store: SQLite (better-sqlite3, synchronous; it runs in the history worker,
// never on the collector's main thread). One row per tier per sampled instant, all variables in
// one packed blob, so a sample is one insert per tier in one transaction.
//
// Tables
//   samples(tier, ts, boot, layout, data)  data = raw-deflated Float64Array [a0, b0, a1, b1, …],
//                                            one pair per name of the row's layout:
//                                            counter: a = raw cumulative value, b = reset-adjusted cumulative
//                                            gauge:   a = value (mean over the step in coarse tiers), b = max
//   layouts(id, names)                      JSON [[name, "c"|"g"], …]; rows share a layout until a name appears
//   boots(id, boot, started_ms, pid)        one per collector start (its random boot id)
//   marks(ts, kind, boot, detail)           restart | reset marks
//
// Counter resets (what the rates do across them). Each counter also keeps a reset-adjusted
// cumulative value `adj`, which never goes down: a sample adds `raw - prevRaw` when the raw value
// grew. When it dropped (a counter reset), Prometheus' rule applies: the increase of that interval
// is the new raw value, i.e. what was counted since the reset, never a negative number. The
// collector's own start is the one exception: its start sample is taken right after the totals
// were restored (or not) and before any traffic, so the count since that restart is 0 and the
// interval adds nothing (a lost or stale totals file never makes a spike). Every drop records a
// `reset` mark; a collector start whose totals came back whole records a `restart` mark.
// Rates are differences of `adj` over time, so they are never negative by construction, in every
// tier, and a coarse tier's increase is exact even when a reset fell inside its step.
//
// Downsampling: when a sample crosses a step boundary of tier k (k ≥ 1), the rows of tier k-1 in
// each completed step of tier k are folded into one row of tier k (counters: the last raw and adj
// values; gauges: mean and max). Pruning deletes each tier's rows older than its retention, at most
// once a minute: row counts, and so the file size, are bounded by retention / step per tier.
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { deflateRawSync, inflateRawSync } from 'node:zlib'
import Database from 'better-sqlite3'
import type { HistoryPlan, HistoryResponse, HistorySeries, Kind, Mark, MarkKind, Sample, TierSpec } from './plan.ts'

type KindChar = 'c' | 'g'
interface Layout {
  readonly id: number
  readonly names: readonly string[]
  readonly kinds: readonly KindChar[]
  readonly index: ReadonlyMap<string, number>
}

interface Row {
  ts: number
  boot: number
  layout: number
  data: Buffer
}

interface Entry {
  name: string
  kind: KindChar
  a: number
  b: number
}

export interface HistoryStore {
  record(s: Sample): void
  query(plan: HistoryPlan): HistoryResponse
  /** Rows per tier (tests, describe). */
  counts(): number[]
  close(): void
}

const PRUNE_EVERY_MS = 60_000

export function encodeValues(pairs: Float64Array): Buffer {
  return deflateRawSync(Buffer.from(pairs.buffer, pairs.byteOffset, pairs.byteLength), { level: 1 })
}

export function decodeValues(data: Buffer): Float64Array {
  const raw = inflateRawSync(data)
  // copy into an aligned buffer (inflate's output may start at any offset of its pool)
  const out = new Float64Array(raw.byteLength / 8)
  new Uint8Array(out.buffer).set(raw)
  return out
}

export function openHistoryStore(path: string, tiers: readonly TierSpec[]): HistoryStore {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  db.exec(`
    CREATE TABLE IF NOT EXISTS layouts(id INTEGER PRIMARY KEY, names TEXT NOT NULL UNIQUE);
    CREATE TABLE IF NOT EXISTS boots(id INTEGER PRIMARY KEY, boot TEXT NOT NULL UNIQUE, started_ms INTEGER NOT NULL, pid INTEGER);
    CREATE TABLE IF NOT EXISTS samples(
      tier INTEGER NOT NULL, ts INTEGER NOT NULL, boot INTEGER NOT NULL, layout INTEGER NOT NULL, data BLOB NOT NULL,
      PRIMARY KEY(tier, ts)) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS marks(ts INTEGER NOT NULL, kind TEXT NOT NULL, boot INTEGER NOT NULL, detail TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS marks_ts ON marks(ts);
  `)
  const st = {
    layouts: db.prepare<[], { id: number; names: string }>('SELECT id, names FROM layouts'),
    addLayout: db.prepare<[string], { id: number }>('INSERT INTO layouts(names) VALUES (?) RETURNING id'),
    lastBoot: db.prepare<[], { id: number; boot: string }>('SELECT id, boot FROM boots ORDER BY id DESC LIMIT 1'),
    addBoot: db.prepare<[string, number, number], { id: number }>(
      'INSERT INTO boots(boot, started_ms, pid) VALUES (?, ?, ?) RETURNING id',
    ),
    put: db.prepare<[number, number, number, number, Buffer]>(
      'INSERT OR REPLACE INTO samples(tier, ts, boot, layout, data) VALUES (?, ?, ?, ?, ?)',
    ),
    last: db.prepare<[number], Row>(
      'SELECT ts, boot, layout, data FROM samples WHERE tier = ? ORDER BY ts DESC LIMIT 1',
    ),
    range: db.prepare<[number, number, number], Row>(
      'SELECT ts, boot, layout, data FROM samples WHERE tier = ? AND ts >= ? AND ts < ? ORDER BY ts',
    ),
    prune: db.prepare<[number, number]>('DELETE FROM samples WHERE tier = ? AND ts < ?'),
    count: db.prepare<[number], { n: number }>('SELECT count(*) AS n FROM samples WHERE tier = ?'),
    addMark: db.prepare<[number, string, number, string]>(
      'INSERT INTO marks(ts, kind, boot, detail) VALUES (?, ?, ?, ?)',
    ),
    marks: db.prepare<[number, number], { ts: number; kind: string; detail: string }>(
      'SELECT ts, kind, detail FROM marks WHERE ts >= ? AND ts <= ? ORDER BY ts',
    ),
    pruneMarks: db.prepare<[number]>('DELETE FROM marks WHERE ts < ?'),
  }

  // --- layouts ---------------------------------------------------------------------------------
  const layouts = new Map<number, Layout>()
  const layoutByKey = new Map<string, number>()
  /** Every name ever sampled, with its kind. */
  const known = new Map<string, KindChar>()
  const addLayoutToCache = (id: number, key: string) => {
    const parsed = JSON.parse(key) as [string, KindChar][]
    const l: Layout = {
      id,
      names: parsed.map((p) => p[0]),
      kinds: parsed.map((p) => p[1]),
      index: new Map(parsed.map((p, i) => [p[0], i])),
    }
    layouts.set(id, l)
    layoutByKey.set(key, id)
    for (const [n, k] of parsed) known.set(n, k)
    return l
  }
  for (const r of st.layouts.all()) addLayoutToCache(r.id, r.names)
  const layoutFor = (entries: readonly Entry[]): Layout => {
    const key = JSON.stringify(entries.map((e) => [e.name, e.kind]))
    const id = layoutByKey.get(key)
    if (id !== undefined) return layouts.get(id)!
    return addLayoutToCache(st.addLayout.get(key)!.id, key)
  }

  const decodeRow = (r: Row): Entry[] => {
    const l = layouts.get(r.layout)
    if (!l) return []
    const v = decodeValues(r.data)
    return l.names.map((name, i) => ({ name, kind: l.kinds[i], a: v[2 * i], b: v[2 * i + 1] }))
  }
  const putRow = (tier: number, ts: number, boot: number, entries: Entry[]) => {
    const l = layoutFor(entries)
    const pairs = new Float64Array(entries.length * 2)
    entries.forEach((e, i) => {
      pairs[2 * i] = e.a
      pairs[2 * i + 1] = e.b
    })
    st.put.run(tier, ts, boot, l.id, encodeValues(pairs))
  }

  // --- writer state (restored from the newest finest row) --------------------------------------
  /** Counters: raw and adjusted cumulative values of the newest finest row. */
  const state = new Map<string, { raw: number; adj: number }>()
  let hasHistory = false
  const lastRow = st.last.get(0)
  if (lastRow) {
    hasHistory = true
    for (const e of decodeRow(lastRow)) if (e.kind === 'c') state.set(e.name, { raw: e.a, adj: e.b })
  }
  const lb = st.lastBoot.get()
  let bootKey = lb?.boot
  let bootId = lb?.id ?? 0
  /** Per tier ≥ 1: start of the newest step folded (or known to be empty). */
  const done: number[] = tiers.map((_, k) => (k === 0 ? 0 : (st.last.get(k)?.ts ?? Number.NaN)))
  let lastPrune = 0

  const fold = (k: number, uptoTs: number) => {
    const S = tiers[k].stepMs
    const cur = Math.floor(uptoTs / S) * S
    const since = Number.isNaN(done[k]) ? Number.MIN_SAFE_INTEGER : done[k] + S
    if (cur <= since) return
    const buckets = new Map<number, { boot: number; order: string[]; byName: Map<string, Entry & { n: number }> }>()
    for (const r of st.range.all(k - 1, since, cur)) {
      const b = Math.floor(r.ts / S) * S
      let acc = buckets.get(b)
      if (!acc) buckets.set(b, (acc = { boot: r.boot, order: [], byName: new Map() }))
      acc.boot = r.boot
      for (const e of decodeRow(r)) {
        const prev = acc.byName.get(e.name)
        if (!prev) {
          acc.order.push(e.name)
          acc.byName.set(e.name, { ...e, n: 1 })
        } else if (e.kind === 'c') {
          prev.a = e.a
          prev.b = e.b
        } else {
          prev.a += e.a
          prev.b = Math.max(prev.b, e.b)
          prev.n++
        }
      }
    }
    for (const [b, acc] of buckets) {
      const entries = acc.order.map((n) => {
        const e = acc.byName.get(n)!
        return { name: e.name, kind: e.kind, a: e.kind === 'g' ? e.a / e.n : e.a, b: e.b }
      })
      putRow(k, b, acc.boot, entries)
    }
    done[k] = cur - S
  }

  const record = db.transaction((s: Sample) => {
    const bootSample = s.boot !== bootKey
    if (bootSample) {
      bootId = st.addBoot.get(s.boot, s.bootStartedMs, s.pid)!.id
      bootKey = s.boot
    }
    const entries: Entry[] = []
    const dropped: string[] = []
    const seen = new Set<string>()
    for (const [name, kind, value] of s.values) {
      if (!Number.isFinite(value) || seen.has(name)) continue
      seen.add(name)
      if (kind === 'gauge') {
        entries.push({ name, kind: 'g', a: value, b: value })
        continue
      }
      const prev = state.get(name)
      let adj: number
      if (!prev)
        adj = hasHistory ? value : 0 // a new counter counted from 0; the very first sample is the baseline
      else if (value >= prev.raw) adj = prev.adj + (value - prev.raw)
      else {
        dropped.push(name)
        adj = prev.adj + (bootSample ? 0 : value)
      }
      state.set(name, { raw: value, adj })
      entries.push({ name, kind: 'c', a: value, b: adj })
    }
    // counters that vanished (a FLUSH removed that host's totals) read 0 from now on
    for (const [name, v] of state) {
      if (seen.has(name)) continue
      if (v.raw > 0) dropped.push(name)
      v.raw = 0
      entries.push({ name, kind: 'c', a: 0, b: v.adj })
    }
    let mark: MarkKind | undefined
    let detail = ''
    const list = (ns: string[]) => ns.slice(0, 5).join(', ') + (ns.length > 5 ? `, … (${ns.length})` : '')
    if (bootSample && hasHistory) {
      mark = dropped.length ? 'reset' : 'restart'
      detail = dropped.length
        ? `collector restart, totals lost: ${list(dropped)} dropped`
        : 'collector restart, totals kept'
    } else if (dropped.length) {
      mark = 'reset'
      detail = `counter reset: ${list(dropped)} dropped`
    }
    if (mark) st.addMark.run(s.ts, mark, bootId, detail)
    putRow(0, s.ts, bootId, entries)
    hasHistory = true
    for (let k = 1; k < tiers.length; k++) fold(k, s.ts)
    if (s.ts - lastPrune >= PRUNE_EVERY_MS) {
      lastPrune = s.ts
      tiers.forEach((t, k) => st.prune.run(k, s.ts - t.retentionMs))
      st.pruneMarks.run(s.ts - Math.max(...tiers.map((t) => t.retentionMs)))
    }
  })

  const query = (p: HistoryPlan): HistoryResponse => {
    const step = p.stepMs
    const n = Math.floor((p.toMs - p.gridStartMs) / step) + 1
    const t = Array.from({ length: n }, (_, j) => p.gridStartMs + j * step)
    const names = [...new Set(p.names)]
    const present = names.filter((nm) => known.has(nm))
    // per bucket j (index j + 1; index 0 is the bucket before the grid)
    /** Newest row of each bucket (NaN: none). */
    const rowTs = new Float64Array(n + 1).fill(Number.NaN)
    const cols = present.map(() => ({
      lastAdj: new Float64Array(n + 1).fill(Number.NaN),
      lastTs: new Float64Array(n + 1),
      sum: new Float64Array(n + 1),
      cnt: new Uint32Array(n + 1),
      max: new Float64Array(n + 1).fill(Number.NEGATIVE_INFINITY),
    }))
    for (const r of st.range.all(p.tier, p.gridStartMs - step, p.gridStartMs + n * step)) {
      const j = Math.floor((r.ts - p.gridStartMs) / step) + 1
      if (j < 0 || j > n) continue
      rowTs[j] = r.ts
      const l = layouts.get(r.layout)
      if (!l) continue
      let v: Float64Array | undefined
      present.forEach((nm, c) => {
        const i = l.index.get(nm)
        if (i === undefined) return
        v ??= decodeValues(r.data)
        const col = cols[c]
        if (l.kinds[i] === 'c') {
          col.lastAdj[j] = v[2 * i + 1]
          col.lastTs[j] = r.ts
        } else {
          col.sum[j] += v[2 * i]
          col.cnt[j]++
          col.max[j] = Math.max(col.max[j], v[2 * i + 1])
        }
      })
    }
    const series: Record<string, HistorySeries> = {}
    present.forEach((nm, c) => {
      const col = cols[c]
      const kind: Kind = known.get(nm) === 'c' ? 'counter' : 'gauge'
      const values: (number | null)[] = new Array(n).fill(null)
      if (kind === 'counter') {
        for (let j = 1; j <= n; j++) {
          if (Number.isNaN(col.lastAdj[j]) || Number.isNaN(rowTs[j - 1])) continue // no data, or a gap before it
          // a row without this counter (before it appeared) counts as 0
          const prevAdj = Number.isNaN(col.lastAdj[j - 1]) ? 0 : col.lastAdj[j - 1]
          const prevTs = Number.isNaN(col.lastAdj[j - 1]) ? rowTs[j - 1] : col.lastTs[j - 1]
          const dt = (col.lastTs[j] - prevTs) / 1000
          if (!(dt > 0)) continue
          values[j - 1] = Math.max(0, col.lastAdj[j] - prevAdj) / dt
        }
        series[nm] = { kind, values }
      } else {
        const max: (number | null)[] = new Array(n).fill(null)
        for (let j = 1; j <= n; j++)
          if (col.cnt[j]) {
            values[j - 1] = col.sum[j] / col.cnt[j]
            max[j - 1] = col.max[j]
          }
        series[nm] = { kind, values, max }
      }
    })
    const marks: Mark[] = st.marks
      .all(p.gridStartMs, p.toMs)
      .map((m) => ({ t: m.ts, kind: m.kind as MarkKind, detail: m.detail }))
    const tier = tiers[p.tier]
    return {
      from: p.fromMs,
      to: p.toMs,
      step,
      tier: { step_ms: tier.stepMs, retention_ms: tier.retentionMs },
      t,
      series,
      missing: names.filter((nm) => !known.has(nm)),
      restarts: marks.map((m) => m.t),
      marks,
      latest: st.last.get(0)?.ts ?? null,
    }
  }

  return {
    record: (s) => record(s),
    query,
    counts: () => tiers.map((_, k) => st.count.get(k)!.n),
    close: () => db.close(),
  }
}
