import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import {
  buildIndexTemplate,
  buildProperties,
  fieldMapping,
  indexPattern,
  templateName,
} from '../../../src/backends/engine/template.ts'
import { FIELDS, KEYWORD_IGNORE_ABOVE } from '../../../src/search/fields.ts'

/** The mapping at a dotted path of a properties tree. */
function at(props: Record<string, any>, path: string): any {
  const parts = path.split('.')
  let node: any = { properties: props }
  for (const p of parts) node = node?.properties?.[p]
  return node
}

describe('buildIndexTemplate', () => {
  const t = buildIndexTemplate({ indexPrefix: 'amavis-', shards: 2, replicas: 1 }) as any

  it('covers the prefix pattern with the configured shards and replicas', () => {
    assert.deepEqual(t.index_patterns, ['amavis-*'])
    assert.equal(t.template.settings.number_of_shards, 2)
    assert.equal(t.template.settings.number_of_replicas, 1)
    assert.equal(t.template.mappings.dynamic, false)
  })

  it('gives a longer (more specific) prefix a higher priority', () => {
    const longer = buildIndexTemplate({ indexPrefix: 'amavis-eu-', shards: 1, replicas: 0 }) as any
    assert.ok(longer.priority > t.priority, `${longer.priority} > ${t.priority}`)
  })

  it('maps every catalogue field at its dotted path', () => {
    for (const f of FIELDS) assert.deepEqual(at(t.template.mappings.properties, f.name), fieldMapping(f), f.name)
  })

  const cases: Array<[path: string, expected: Record<string, unknown>]> = [
    ['@timestamp', { type: 'date', format: 'strict_date_optional_time||epoch_millis' }],
    ['action', { type: 'keyword', ignore_above: KEYWORD_IGNORE_ABOVE }],
    ['subject', { type: 'text', fields: { keyword: { type: 'keyword', ignore_above: KEYWORD_IGNORE_ABOVE } } }],
    ['message', { type: 'text' }],
    ['client_ip', { type: 'ip' }],
    ['size', { type: 'long' }],
    ['time_unix', { type: 'double' }],
    ['elapsed.Total', { type: 'float' }],
    ['spam_score', { type: 'float' }],
    ['is_bulk', { type: 'boolean' }],
    ['client_geo.location', { type: 'geo_point' }],
    ['recipients.action', { type: 'keyword', ignore_above: KEYWORD_IGNORE_ABOVE }],
  ]
  for (const [path, expected] of cases)
    it(`maps ${path} as ${expected.type}`, () => assert.deepEqual(at(t.template.mappings.properties, path), expected))

  it('keeps recipients a plain object array (flattened), not nested', () => {
    assert.equal(t.template.mappings.properties.recipients.type, 'object')
  })
})

describe('buildProperties', () => {
  it('refuses a name that is both a leaf and an object', () => {
    assert.throws(
      () =>
        buildProperties([
          { name: 'a', type: 'keyword' },
          { name: 'a.b', type: 'long' },
        ]),
      /a is a leaf and an object/,
    )
  })
})

describe('names', () => {
  it('derives the template name and index pattern from the prefix', () => {
    assert.equal(templateName('amavis-'), 'vigil-amavis-')
    assert.equal(indexPattern('amavis-'), 'amavis-*')
  })
})
