// The one composable index template of the engines (Elasticsearch 8/9, OpenSearch 2/3), built
// from the field catalogue (collector/src/search/fields.ts): every daily index `<prefix>YYYY.MM.DD`
// gets the same explicit mapping, `dynamic: false`, so a field outside the catalogue stays in
// `_source` but is searchable on no backend (the embedded store indexes the same list).
import { FIELDS, KEYWORD_IGNORE_ABOVE, isDoubleField, type FieldSpec } from '../../search/fields.ts'

export interface TemplateSettings {
  readonly indexPrefix: string
  readonly shards: number
  readonly replicas: number
}

/** One field's engine mapping. */
export function fieldMapping(f: FieldSpec): Record<string, unknown> {
  switch (f.type) {
    case 'keyword':
      return { type: 'keyword', ignore_above: KEYWORD_IGNORE_ABOVE }
    case 'text':
      return f.hasKeyword
        ? { type: 'text', fields: { keyword: { type: 'keyword', ignore_above: KEYWORD_IGNORE_ABOVE } } }
        : { type: 'text' }
    case 'date':
      return { type: 'date', format: 'strict_date_optional_time||epoch_millis' }
    // time_unix (epoch seconds with a fraction) needs a double: a 32-bit float holds it only to
    // ~2 min. The other floats (scores, elapsed seconds) are 32-bit, as the embedded store keeps them.
    case 'float':
      return { type: isDoubleField(f.name) ? 'double' : 'float' }
    case 'long':
    case 'ip':
    case 'boolean':
    case 'geo_point':
      return { type: f.type }
  }
}

type Properties = Record<string, Record<string, unknown>>

/**
 * `properties` for the catalogue: dotted names become nested object mappings (`elapsed.Total` →
 * elapsed.properties.Total). `recipients` is a plain object array (flattened, not `nested`: a
 * query on two recipients.* fields may match two different recipients, as in Kibana; ADR 0005).
 * Throws if a name is both a leaf and a parent (a catalogue bug).
 */
export function buildProperties(fields: readonly FieldSpec[] = FIELDS): Properties {
  const root: Properties = {}
  for (const f of fields) {
    const parts = f.name.split('.')
    let props = root
    for (const [i, part] of parts.entries()) {
      const last = i === parts.length - 1
      const existing = props[part]
      if (last) {
        if (existing) throw new Error(`field catalogue: ${f.name} is mapped twice or is also an object`)
        props[part] = fieldMapping(f)
      } else {
        if (existing && !existing.properties)
          throw new Error(`field catalogue: ${parts.slice(0, i + 1).join('.')} is a leaf and an object`)
        const obj = (props[part] ??= { type: 'object', properties: {} }) as { properties: Properties }
        props = obj.properties
      }
    }
  }
  return root
}

/** Name of the index template for a prefix (`amavis-` → `vigil-amavis-`). */
export function templateName(indexPrefix: string): string {
  return `vigil-${indexPrefix}`
}

/** Index pattern every daily index of the prefix matches. */
export function indexPattern(indexPrefix: string): string {
  return `${indexPrefix}*`
}

/**
 * The body of `PUT _index_template/<templateName>` (the same on both engines).
 * Priority grows with the prefix length: two composable templates with overlapping patterns and
 * equal priority are refused by the engines, and two distinct prefixes of the same length never
 * overlap, while a longer (more specific) prefix wins over a shorter one.
 */
export function buildIndexTemplate(s: TemplateSettings): Record<string, unknown> {
  return {
    index_patterns: [indexPattern(s.indexPrefix)],
    priority: 100 + s.indexPrefix.length,
    template: {
      settings: {
        number_of_shards: s.shards,
        number_of_replicas: s.replicas,
        // size + 1 hits are fetched to know whether a next page exists (search API size ≤ 10000).
        max_result_window: 10001,
      },
      mappings: { dynamic: false, properties: buildProperties() },
    },
    _meta: { managed_by: 'vigil', description: 'amavis events, one index per UTC day' },
  }
}
