// An IP range table in ip-location-db's CSV format (`start,end,<value columns…>`, inclusive ranges,
// addresses as text or as decimal numbers, values CSV-quoted), held in typed arrays and searched
// by bisection. The ASN database uses it, and so can a small hand-written table that maps the
// documentation nets for tests and demos (notes §1.3 (b)): the same code path either way.
//
// Measured on @ip-location-db/asn (411,961 IPv4 + 103,197 IPv6 rows, 81,276 distinct orgs): see
// the report in collector/test/enrich/enricher.test.ts's "measures" test for this machine's numbers.
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { basename, join, resolve } from 'node:path'
import type { Logger } from '@vigil/protocol'
import { isIP } from 'node:net'
import { parseV4, parseV6, type ParsedIp } from './ip.ts'

export interface RangeTable {
  readonly v4Count: number
  readonly v6Count: number
  /** Rows skipped as unparseable while loading (a header line counts as one). */
  readonly skipped: number
  /** True when the table came from the binary cache rather than the CSV. */
  readonly fromCache: boolean
  /** The row holding this address, or -1. */
  find(ip: ParsedIp): number
  /** Value column `col` (0 = the first after start,end) of a row found by find(). */
  value(row: number, col: number): string
}

export interface RangeTableOptions {
  /** Value columns after start,end (extra columns are ignored, missing ones make the row invalid). */
  readonly columns: number
  /** Rejects rows whose values are unusable (e.g. an ASN that is not a number). */
  readonly validate?: (values: readonly string[]) => boolean
  /** Directory for a binary copy of the parsed table; loading it skips the CSV parse. */
  readonly cacheDir?: string
  readonly log?: Logger
}

interface Tables {
  v4Start: Uint32Array
  v4End: Uint32Array
  /** Four words per row, most significant first. */
  v6Start: Uint32Array
  v6End: Uint32Array
  /** `columns` string indices per row: v4 rows first, then v6 rows. */
  values: Uint32Array
  strings: string[]
  skipped: number
}

/** Rows between yields to the event loop while parsing, so a 1 s load never stalls the process. */
const CHUNK_ROWS = 20000
/** How far back find() looks for an enclosing range when ranges overlap (seen once in the ASN data). */
const OVERLAP_LOOKBACK = 16
const CACHE_VERSION = 1

/**
 * Loads the CSV files into one table. Throws (naming the file) when a file cannot be read; rows
 * that do not parse are skipped and counted. With a cacheDir, a valid cache (same files, sizes and
 * mtimes) is read instead, and a fresh parse is written there; a cache that cannot be written is
 * logged and otherwise ignored.
 */
export async function loadRangeTable(files: readonly string[], opts: RangeTableOptions): Promise<RangeTable> {
  const paths = files.map((f) => resolve(f))
  const stamp = paths.map((p) => {
    const st = statSync(p)
    return { path: p, size: st.size, mtimeMs: st.mtimeMs }
  })
  const cacheFile = opts.cacheDir ? join(opts.cacheDir, cacheName(paths, opts.columns)) : undefined
  const cached = cacheFile ? readCache(cacheFile, stamp, opts.columns) : undefined
  if (cached) return tableOf(cached, opts.columns, true)
  const t = await parseFiles(paths, opts)
  if (cacheFile) {
    try {
      writeCache(cacheFile, stamp, opts.columns, t)
    } catch (err) {
      opts.log?.warn('GeoIP cache not written; the CSV will be parsed again at the next start.', {
        file: cacheFile,
        err,
      })
    }
  }
  return tableOf(t, opts.columns, false)
}

function tableOf(t: Tables, columns: number, fromCache: boolean): RangeTable {
  const n4 = t.v4Start.length
  const n6 = t.v6Start.length / 4
  return {
    v4Count: n4,
    v6Count: n6,
    skipped: t.skipped,
    fromCache,
    find(ip) {
      return ip.family === 4 ? findV4(t, ip.v4) : findV6(t, ip.v6!, n4)
    },
    value(row, col) {
      return t.strings[t.values[row * columns + col]]
    },
  }
}

function findV4(t: Tables, n: number): number {
  let lo = 0
  let hi = t.v4Start.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1
    if (t.v4Start[mid] <= n) lo = mid + 1
    else hi = mid - 1
  }
  for (let i = hi; i >= 0 && i > hi - OVERLAP_LOOKBACK; i--) if (n <= t.v4End[i]) return i
  return -1
}

/** Compares the 4-word address `a` with row `i` of `words`. */
function cmp6(a: Uint32Array, words: Uint32Array, i: number): number {
  for (let k = 0; k < 4; k++) {
    const x = a[k]
    const y = words[i * 4 + k]
    if (x !== y) return x < y ? -1 : 1
  }
  return 0
}

function findV6(t: Tables, a: Uint32Array, offset: number): number {
  let lo = 0
  let hi = t.v6Start.length / 4 - 1
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1
    if (cmp6(a, t.v6Start, mid) >= 0) lo = mid + 1
    else hi = mid - 1
  }
  for (let i = hi; i >= 0 && i > hi - OVERLAP_LOOKBACK; i--) if (cmp6(a, t.v6End, i) <= 0) return offset + i
  return -1
}

// ---- CSV parsing ----

interface Builder {
  v4: { start: number[]; end: number[]; vals: number[] }
  v6: { start: number[]; end: number[]; vals: number[] }
  intern: Map<string, number>
  strings: string[]
  skipped: number
}

async function parseFiles(paths: readonly string[], opts: RangeTableOptions): Promise<Tables> {
  const b: Builder = {
    v4: { start: [], end: [], vals: [] },
    v6: { start: [], end: [], vals: [] },
    intern: new Map(),
    strings: [],
    skipped: 0,
  }
  for (const p of paths) {
    const text = readFileSync(p, 'utf8')
    // Decimal addresses do not say their family; ip-location-db names the files *-ipv6-num.csv.
    const numericIsV6 = /ipv6/i.test(basename(p))
    let at = 0
    let rows = 0
    while (at < text.length) {
      let nl = text.indexOf('\n', at)
      if (nl < 0) nl = text.length
      const line = text.charCodeAt(nl - 1) === 13 ? text.slice(at, nl - 1) : text.slice(at, nl)
      at = nl + 1
      if (line.length === 0) continue
      if (!addRow(b, line, numericIsV6, opts)) b.skipped++
      if (++rows % CHUNK_ROWS === 0) await new Promise<void>((r) => setImmediate(r))
    }
  }
  return sorted(b, opts.columns)
}

function addRow(b: Builder, line: string, numericIsV6: boolean, opts: RangeTableOptions): boolean {
  const fields = line.includes('"') ? splitQuoted(line) : line.split(',')
  if (fields === undefined || fields.length < 2 + opts.columns) return false
  const values = fields.slice(2, 2 + opts.columns)
  if (opts.validate && !opts.validate(values)) return false
  const start = parseAddress(fields[0].trim(), numericIsV6)
  const end = parseAddress(fields[1].trim(), numericIsV6)
  if (start === undefined || end === undefined || typeof start !== typeof end) return false
  const fam = typeof start === 'number' ? b.v4 : b.v6
  if (typeof start === 'number') {
    if (start > (end as number)) return false
    fam.start.push(start)
    fam.end.push(end as number)
  } else {
    if (cmp6(start, end as Uint32Array, 0) > 0) return false
    fam.start.push(...start)
    fam.end.push(...(end as Uint32Array))
  }
  for (const v of values) fam.vals.push(internOf(b, v))
  return true
}

function internOf(b: Builder, s: string): number {
  let i = b.intern.get(s)
  if (i === undefined) {
    i = b.strings.length
    b.strings.push(s)
    b.intern.set(s, i)
  }
  return i
}

/** A CSV line with RFC 4180 quoting ("" inside quotes is one quote); undefined if a quote is unclosed. */
function splitQuoted(line: string): string[] | undefined {
  const out: string[] = []
  let i = 0
  while (i <= line.length) {
    if (line[i] === '"') {
      let v = ''
      i++
      for (;;) {
        const q = line.indexOf('"', i)
        if (q < 0) return undefined
        v += line.slice(i, q)
        if (line[q + 1] === '"') {
          v += '"'
          i = q + 2
        } else {
          i = q + 1
          break
        }
      }
      out.push(v)
      const comma = line.indexOf(',', i)
      i = comma < 0 ? line.length + 1 : comma + 1
    } else {
      const comma = line.indexOf(',', i)
      const stop = comma < 0 ? line.length : comma
      out.push(line.slice(i, stop))
      i = stop + 1
    }
  }
  return out
}

/** A v4 number, four v6 words, or undefined. */
function parseAddress(s: string, numericIsV6: boolean): number | Uint32Array | undefined {
  if (s.includes(':')) {
    const h = parseV6(s)
    if (!h) return undefined
    const w = new Uint32Array(4)
    for (let i = 0; i < 4; i++) w[i] = ((h[2 * i] << 16) | h[2 * i + 1]) >>> 0
    return w
  }
  if (s.includes('.')) return isIP(s) === 4 ? parseV4(s) : undefined
  if (!/^\d{1,39}$/.test(s)) return undefined
  if (!numericIsV6) {
    const n = Number(s)
    return n <= 0xffffffff ? n : undefined
  }
  let big = BigInt(s)
  if (big >> 128n) return undefined
  const w = new Uint32Array(4)
  for (let i = 3; i >= 0; i--) {
    w[i] = Number(big & 0xffffffffn)
    big >>= 32n
  }
  return w
}

/** Typed arrays in start order (the shipped files are sorted already; hand-written ones may not be). */
function sorted(b: Builder, columns: number): Tables {
  const n4 = b.v4.start.length
  const n6 = b.v6.start.length / 4
  const o4 = Array.from({ length: n4 }, (_, i) => i)
  const o6 = Array.from({ length: n6 }, (_, i) => i)
  const s6 = Uint32Array.from(b.v6.start)
  if (!isSortedBy(n4, (i) => b.v4.start[i - 1] <= b.v4.start[i])) o4.sort((x, y) => b.v4.start[x] - b.v4.start[y])
  if (!isSortedBy(n6, (i) => cmp6(s6.subarray(i * 4 - 4, i * 4), s6, i) <= 0))
    o6.sort((x, y) => cmp6(s6.subarray(x * 4, x * 4 + 4), s6, y))
  const t: Tables = {
    v4Start: new Uint32Array(n4),
    v4End: new Uint32Array(n4),
    v6Start: new Uint32Array(n6 * 4),
    v6End: new Uint32Array(n6 * 4),
    values: new Uint32Array((n4 + n6) * columns),
    strings: b.strings,
    skipped: b.skipped,
  }
  o4.forEach((src, dst) => {
    t.v4Start[dst] = b.v4.start[src]
    t.v4End[dst] = b.v4.end[src]
    for (let c = 0; c < columns; c++) t.values[dst * columns + c] = b.v4.vals[src * columns + c]
  })
  o6.forEach((src, dst) => {
    for (let k = 0; k < 4; k++) {
      t.v6Start[dst * 4 + k] = b.v6.start[src * 4 + k]
      t.v6End[dst * 4 + k] = b.v6.end[src * 4 + k]
    }
    for (let c = 0; c < columns; c++) t.values[(n4 + dst) * columns + c] = b.v6.vals[src * columns + c]
  })
  return t
}

function isSortedBy(n: number, inOrder: (i: number) => boolean): boolean {
  for (let i = 1; i < n; i++) if (!inOrder(i)) return false
  return true
}

// ---- binary cache ----
// Layout: u32 header length, header JSON (padded to 4 bytes), then the five Uint32Arrays in native
// byte order (recorded in the header), then the strings joined by NUL as UTF-8.

interface CacheHeader {
  magic: 'vigil-range-table'
  version: number
  littleEndian: boolean
  columns: number
  sources: { path: string; size: number; mtimeMs: number }[]
  lengths: number[]
  skipped: number
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1

function cacheName(paths: readonly string[], columns: number): string {
  const h = createHash('sha256').update(JSON.stringify({ paths, columns })).digest('hex').slice(0, 16)
  return `range-table-${h}.bin`
}

function writeCache(file: string, sources: CacheHeader['sources'], columns: number, t: Tables): void {
  const arrays = [t.v4Start, t.v4End, t.v6Start, t.v6End, t.values]
  const header: CacheHeader = {
    magic: 'vigil-range-table',
    version: CACHE_VERSION,
    littleEndian: LITTLE_ENDIAN,
    columns,
    sources,
    lengths: arrays.map((a) => a.length),
    skipped: t.skipped,
  }
  let json = Buffer.from(JSON.stringify(header))
  json = Buffer.concat([json, Buffer.alloc((4 - (json.length % 4)) % 4, 0x20)])
  const len = Buffer.alloc(4)
  len.writeUInt32LE(json.length)
  const parts = [len, json, ...arrays.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength))]
  parts.push(Buffer.from(t.strings.join('\0')))
  mkdirSync(resolve(file, '..'), { recursive: true })
  const tmp = `${file}.${process.pid}.tmp`
  writeFileSync(tmp, Buffer.concat(parts))
  renameSync(tmp, file)
}

/** The cached tables, or undefined when absent, stale, foreign or damaged (then the CSV is parsed). */
function readCache(file: string, sources: CacheHeader['sources'], columns: number): Tables | undefined {
  let buf: Buffer
  try {
    buf = readFileSync(file)
  } catch {
    return undefined
  }
  try {
    const hlen = buf.readUInt32LE(0)
    const h = JSON.parse(buf.subarray(4, 4 + hlen).toString()) as CacheHeader
    const same =
      h.magic === 'vigil-range-table' &&
      h.version === CACHE_VERSION &&
      h.littleEndian === LITTLE_ENDIAN &&
      h.columns === columns &&
      JSON.stringify(h.sources) === JSON.stringify(sources)
    if (!same) return undefined
    // One aligned copy; the typed arrays are views into it.
    const body = new Uint8Array(buf.length - 4 - hlen)
    body.set(buf.subarray(4 + hlen))
    let off = 0
    const arrays = h.lengths.map((n) => {
      const a = new Uint32Array(body.buffer, off, n)
      off += n * 4
      return a
    })
    const strings = Buffer.from(body.buffer, off).toString().split('\0')
    const [v4Start, v4End, v6Start, v6End, values] = arrays
    if (values.length !== (v4Start.length + v6Start.length / 4) * columns) return undefined
    return { v4Start, v4End, v6Start, v6End, values, strings, skipped: h.skipped }
  } catch {
    return undefined
  }
}
