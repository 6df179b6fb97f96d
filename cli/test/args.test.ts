import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { globalOptionsFrom, parseArgs, UsageError, type ParsedArgs } from '../src/args.ts'

describe('parseArgs', () => {
  const ok: Array<[argv: string[], expected: ParsedArgs]> = [
    [['start'], { kind: 'command', command: 'start', global: {}, options: {}, args: [] }],
    [
      ['--config', 'v.yaml', 'filter', '--home=/tmp/h', '--log-level', 'debug'],
      {
        kind: 'command',
        command: 'filter',
        global: { config: 'v.yaml', home: '/tmp/h', logLevel: 'debug' },
        options: {},
        args: [],
      },
    ],
    [
      ['-c', 'a.yaml', 'check-config'],
      { kind: 'command', command: 'check-config', global: { config: 'a.yaml' }, options: {}, args: [] },
    ],
    [
      ['start', '--only', 'filter,collector'],
      { kind: 'command', command: 'start', global: {}, options: { only: 'filter,collector' }, args: [] },
    ],
    [
      ['release', 'abc-123', 'u@example.com'],
      { kind: 'command', command: 'release', global: {}, options: {}, args: ['abc-123', 'u@example.com'] },
    ],
    [['release', '--', '-odd-id'], { kind: 'command', command: 'release', global: {}, options: {}, args: ['-odd-id'] }],
    [['demo', '--count=5'], { kind: 'command', command: 'demo', global: {}, options: { count: '5' }, args: [] }],
    [['--help'], { kind: 'help' }],
    [['help', 'start'], { kind: 'help', topic: 'start' }],
    [['start', '-h'], { kind: 'help', topic: 'start' }],
    [['-V'], { kind: 'version' }],
    [['filter', '--version'], { kind: 'version' }],
  ]
  for (const [argv, expected] of ok) it(`parses ${argv.join(' ')}`, () => assert.deepEqual(parseArgs(argv), expected))

  const bad: Array<[argv: string[], message: RegExp]> = [
    [[], /missing command/],
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['start', '--bogus'], /unknown option '--bogus'/],
    [['filter', '--only', 'x'], /unknown option '--only'/],
    [['check-config', '--config'], /option '--config' needs a value/],
    [['--home', '', 'start'], /needs a non-empty value/],
    [['release'], /'release' needs MAIL_ID/],
    [['print-config', 'extra'], /unexpected argument 'extra'/],
    [['help', 'nope'], /unknown command 'nope'/],
    [['-x', 'start'], /unknown option '-x'/],
  ]
  for (const [argv, message] of bad)
    it(`rejects ${JSON.stringify(argv.join(' '))} with a usage error`, () =>
      assert.throws(
        () => parseArgs(argv),
        (err: unknown) => err instanceof UsageError && message.test(err.message),
      ))
})

describe('globalOptionsFrom', () => {
  it('picks the global options and ignores everything else', () => {
    assert.deepEqual(globalOptionsFrom(['filter', '--config=x.yaml', '--only', 'y', '--home', 'h', '-c', 'z.yaml']), {
      config: 'z.yaml',
      home: 'h',
    })
  })
})
