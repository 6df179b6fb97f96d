// Turns one stored document into its side-table rows, walking the document along the field
// catalogue exactly as the engines' mapping would (dynamic: false): arrays at any depth are
// flattened (attached_file_names may hold arrays of strings), arrays of objects are flattened
// into their leaves (recipients.action holds every recipient's action), null and [] are missing,
// fields outside the catalogue are kept in the JSON but not indexed, and a value that does not
// fit its mapping rejects the whole document with a mapper_parsing_exception.
import { KEYWORD_IGNORE_ABOVE } from '../../search/fields.ts'
import { coerceGeoPoint, coerceLeaf, MappingError, typeMismatch } from './coerce.ts'
import type { StoredField } from './schema.ts'
import { tokenizeValues } from './tokenize.ts'

/** Side rows of one document, without rid/ts_ms (added when written). */
export interface DocRows {
  /** [fid, value, lower, first] */
  readonly kw: [number, string, string, 0 | 1][]
  /** [fid, value, multiplicity, first] */
  readonly num: [number, number, number, 0 | 1][]
  /** [fid, 16-byte hex, first] */
  readonly ip: [number, string, 0 | 1][]
  /** [fid, pos, token] */
  readonly tok: [number, number, string][]
  /** [fid, seq, lat, lon] */
  readonly geo: [number, number, number, number][]
}

interface TrieNode {
  readonly children: Map<string, TrieNode>
  field?: StoredField
  keyword?: StoredField
  /** Dotted path of this node (error messages). */
  readonly path: string
}

/** Walks documents along the catalogue; built once per store. */
export interface DocIndexer {
  /** Rows of a document; throws MappingError when the engines would reject it. */
  rows(doc: Readonly<Record<string, unknown>>): DocRows
}

export function createDocIndexer(fields: ReadonlyMap<string, StoredField>): DocIndexer {
  const root: TrieNode = { children: new Map(), path: '' }
  for (const f of fields.values()) {
    if (f.spec.name.endsWith('.keyword') && fields.get(f.spec.name.slice(0, -8))?.spec.hasKeyword) continue
    let node = root
    for (const seg of f.spec.name.split('.')) {
      let next = node.children.get(seg)
      if (!next) {
        next = { children: new Map(), path: node.path ? `${node.path}.${seg}` : seg }
        node.children.set(seg, next)
      }
      node = next
    }
    node.field = f
    if (f.spec.hasKeyword) node.keyword = fields.get(`${f.spec.name}.keyword`)
  }
  return {
    rows(doc) {
      const leaves = new Map<TrieNode, unknown[]>()
      walkObject(root, doc, leaves)
      const out: DocRows = { kw: [], num: [], ip: [], tok: [], geo: [] }
      for (const [node, values] of leaves) addLeaf(out, node, values)
      return out
    },
  }
}

function walkObject(node: TrieNode, obj: unknown, leaves: Map<TrieNode, unknown[]>): void {
  if (obj === null || obj === undefined) return
  if (Array.isArray(obj)) {
    for (const el of obj) walkObject(node, el, leaves)
    return
  }
  if (typeof obj !== 'object') {
    throw new MappingError(
      `mapper_parsing_exception: object mapping for [${node.path}] tried to parse field [${node.path}] as object, but found a concrete value`,
    )
  }
  for (const [key, child] of node.children) {
    const v = (obj as Record<string, unknown>)[key]
    if (v === undefined || v === null) continue
    if (child.field) {
      let list = leaves.get(child)
      if (!list) leaves.set(child, (list = []))
      collectLeaf(child, v, list)
    } else walkObject(child, v, leaves)
  }
}

function collectLeaf(node: TrieNode, v: unknown, out: unknown[]): void {
  const type = node.field!.spec.type
  if (v === null || v === undefined) return
  if (type === 'geo_point' && isPointLike(v)) {
    out.push(v)
    return
  }
  if (Array.isArray(v)) {
    for (const el of v) collectLeaf(node, el, out)
    return
  }
  if (typeof v === 'object' && type !== 'geo_point') throw typeMismatch(node.path, type, v)
  out.push(v)
}

function isPointLike(v: unknown): boolean {
  if (Array.isArray(v)) return v.length === 2 && v.every((x) => typeof x === 'number')
  return typeof v === 'object' || typeof v === 'string'
}

function addLeaf(out: DocRows, node: TrieNode, values: unknown[]): void {
  const f = node.field!
  const { type } = f.spec
  const name = f.spec.name
  if (type === 'geo_point') {
    values.forEach((v, seq) => {
      const p = coerceGeoPoint(name, v)
      out.geo.push([f.id, seq, p.lat, p.lon])
    })
    return
  }
  const coerced: (string | number | Buffer)[] = []
  for (const v of values) {
    const c = coerceLeaf(name, type, v)
    if (c !== null) coerced.push(c)
  }
  if (!coerced.length) return
  switch (f.table) {
    case 'kw':
      addKeywords(out, f.id, coerced as string[])
      break
    case 'tok':
      for (const t of tokenizeValues(coerced as string[])) out.tok.push([f.id, t.pos, t.token])
      if (node.keyword) addKeywords(out, node.keyword.id, coerced as string[])
      break
    case 'num': {
      const mult = new Map<number, number>()
      for (const n of coerced as number[]) mult.set(n, (mult.get(n) ?? 0) + 1)
      let first: 0 | 1 = 1
      for (const [n, m] of mult) {
        out.num.push([f.id, n, m, first])
        first = 0
      }
      break
    }
    case 'ip': {
      const seen = new Set<string>()
      for (const b of coerced as Buffer[]) {
        const hex = b.toString('hex')
        if (seen.has(hex)) continue
        out.ip.push([f.id, hex, seen.size === 0 ? 1 : 0])
        seen.add(hex)
      }
      break
    }
  }
}

// Keyword values are deduplicated per document (the engines' doc values are sets), and values
// longer than KEYWORD_IGNORE_ABOVE are not indexed (ignore_above), though the document is.
function addKeywords(out: DocRows, fid: number, values: string[]): void {
  const seen = new Set<string>()
  for (const v of values) {
    if (v.length > KEYWORD_IGNORE_ABOVE || seen.has(v)) continue
    out.kw.push([fid, v, v.toLowerCase(), seen.size === 0 ? 1 : 0])
    seen.add(v)
  }
}
