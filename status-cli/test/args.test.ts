import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { parseStatusArgs } from '../src/args.ts'

describe('parseStatusArgs', () => {
  const good: Array<[string[], object]> = [
    [[], {}],
    [['-c', '3'], { count: 3 }],
    [['-c', '-2'], { count: -2 }],
    [['-c', '+4', '-w', '0.5'], { count: 4, waitSecs: 0.5 }],
    [['-c5', '-w2.'], { count: 5, waitSecs: 2 }],
    [['-w', '+3'], { waitSecs: 3 }],
    [['--connect', 'tcp://127.0.0.1:5555', '--plain'], { connect: 'tcp://127.0.0.1:5555', mode: 'plain' }],
    [['--connect=ipc:///tmp/x.sock', '--tui'], { connect: 'ipc:///tmp/x.sock', mode: 'tui' }],
    [['--tui', '--api', 'http://127.0.0.1:23234'], { mode: 'tui', api: 'http://127.0.0.1:23234' }],
    [['--connect', 'tcp://[::1]:23232'], { connect: 'tcp://[::1]:23232' }],
    [['--record', 'x.frames'], { record: 'x.frames' }],
    [['--replay', 'x.frames', '-c', '3'], { replay: 'x.frames', count: 3 }],
  ]
  for (const [argv, exp] of good)
    it(`accepts ${JSON.stringify(argv)}`, () => assert.deepEqual(parseStatusArgs(argv), { ok: true, args: exp }))

  const bad: string[][] = [
    ['-c'],
    ['-w'],
    ['-c', 'x'],
    ['-c', '1.5'],
    ['-w', '-1'],
    ['-w', '.5'],
    ['-x'],
    ['extra'],
    ['--connect', 'localhost:1'],
    ['--connect', 'tcp://127.0.0.1:99999'],
    ['--connect', 'tcp://127.0.0.1'],
    ['--plain=yes'],
    ['--api', '127.0.0.1:23234'],
    ['--replay', 'x.frames'],
    ['--replay', 'x.frames', '-c', '2', '--connect', 'tcp://127.0.0.1:5'],
    ['-h'],
  ]
  for (const argv of bad) it(`rejects ${JSON.stringify(argv)}`, () => assert.equal(parseStatusArgs(argv).ok, false))
})
