import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { describeSchema, formatPath, schemaAt, showValue, suggestKey } from '../../src/config/problems.ts'

describe('describeSchema', () => {
  const cases: Array<[schema: object, expected: string | undefined]> = [
    [{ type: 'integer', exclusiveMinimum: 0, maximum: Number.MAX_SAFE_INTEGER }, 'a positive integer'],
    [{ type: 'integer', minimum: 1 }, 'a positive integer'],
    [{ type: 'integer', minimum: 0 }, 'a non-negative integer'],
    [{ type: 'integer', minimum: 1, maximum: 256 }, 'an integer from 1 to 256'],
    [{ type: 'integer', minimum: -Number.MAX_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER }, 'an integer'],
    [{ type: 'number', exclusiveMinimum: 0 }, 'a positive number'],
    [{ type: 'number', minimum: 0, maximum: 1 }, 'a number from 0 to 1'],
    [{ type: 'number' }, 'a number'],
    [{ type: 'string', minLength: 1 }, 'a non-empty string'],
    [{ type: 'string' }, 'a string'],
    [{ type: 'string', pattern: '^x' }, undefined],
    [{ type: 'string', enum: ['info', 'debug'] }, 'one of info, debug'],
    [{ type: 'boolean' }, 'true or false'],
    [{ type: 'array', items: {} }, 'a list'],
    [{ type: 'object' }, 'a mapping'],
    [{ anyOf: [{ type: 'string' }, { type: 'integer', minimum: 0 }] }, 'a string or a non-negative integer'],
  ]
  for (const [schema, expected] of cases)
    it(`describes ${JSON.stringify(schema)} as ${expected}`, () => assert.equal(describeSchema(schema), expected))
})

describe('schemaAt', () => {
  it('follows properties, array items and $refs', () => {
    const root = {
      type: 'object',
      properties: { list: { type: 'array', items: { $ref: '#/$defs/Item' } } },
      $defs: { Item: { type: 'object', properties: { port: { type: 'integer', minimum: 1, maximum: 65535 } } } },
    }
    assert.equal(describeSchema(schemaAt(root, ['list', 2, 'port']), root), 'an integer from 1 to 65535')
    assert.equal(schemaAt(root, ['nope']), undefined)
  })
})

describe('problem text helpers', () => {
  it('formats paths with dots and indexes', () => {
    assert.equal(formatPath(['zmq', 'inner', 0]), 'zmq.inner[0]')
    assert.equal(formatPath([]), '(top level)')
  })
  it('shows values briefly', () => {
    assert.equal(showValue('x'), '"x"')
    assert.equal(showValue(3), '3')
    assert.equal(showValue(null), 'null')
    assert.equal(showValue([1]), 'a list')
    assert.equal(showValue({ a: 1 }), 'a mapping')
    assert.equal(showValue('y'.repeat(100)).length, 60)
  })
  it('suggests a close key and nothing for a distant one', () => {
    assert.equal(suggestKey('max_server', ['max_servers', 'max_requests']), 'max_servers')
    assert.equal(suggestKey('Log_Levl', ['log_level', 'log_to']), 'log_level')
    assert.equal(suggestKey('colour', ['max_servers', 'log_to']), undefined)
  })
})
