// Golden tests: recorded frame streams replayed through the plain session with fixed times must
// print exactly the committed output (stdout and stderr interleaved, as with 2>&1).
// Regenerate after an intended change with UPDATE_GOLDEN=1 and review the diff.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { framesEpochMs, parseFramesFile, replayPlain } from '../src/replay.ts'
import { formatScreen, HEADER } from '../src/render/format.ts'

const here = (p: string) => new URL(p, import.meta.url)
const read = (p: string) => readFileSync(here(p), 'utf8')

function replay(name: string, count: number, waitSecs: number) {
  const text = read(`fixtures/${name}.frames`)
  return replayPlain(parseFramesFile(text), { count, waitSecs, epochMs: framesEpochMs(text) })
}

/** The last `n` cycles of a combined output (each cycle starts with the blank line). */
function lastCycles(combined: string, n: number): string {
  const body = combined.slice(HEADER.length)
  const cycles = body.split(/^(?=\n)/m)
  return cycles.slice(-n).join('')
}

const cases: Array<[name: string, count: number, waitSecs: number, what: string]> = [
  ['spec-sample-1', 43, 1, 'ten children, one stuck in spam scan for 36 s, then a burst of four short jobs'],
  ['spec-sample-2', 7, 1, 'two short jobs among eight children known from am.proc lists'],
  ['day-prefix', 2, 1, 'a day prefix, hours modulo 24 and relative times with and without a base'],
  ['flush-unrecognized', 4, 1, 'FLUSH, unrecognized and malformed messages, multi-part messages'],
  ['proc-lists', 7, 1000, 'am.proc.* first sightings, exiting, and the last-touched refresh quirk'],
  ['peak-decay', 10, 1, 'the peak bar padding and its 8 s half-life decay'],
  ['filter-core-load', 12, 1, 'a recording of our own filter-core under smtp-source load'],
]

for (const [name, count, waitSecs, what] of cases) {
  test(`replays ${name} (${what}) to the golden output`, () => {
    const r = replay(name, count, waitSecs)
    const golden = `golden/${name}.txt`
    if (process.env.UPDATE_GOLDEN) writeFileSync(here(golden), r.combined)
    assert.equal(r.combined, read(golden))
    assert.equal(r.stdout, HEADER + '\n'.repeat(count), 'stdout carries only the header and one newline per cycle')
  })
}

test('reproduces the first sample of spec §3.4 exactly: header and the last four cycles', () => {
  const r = replay('spec-sample-1', 43, 1)
  assert.equal(HEADER + lastCycles(r.combined, 4), read('golden/spec-sample-1.spec.txt'))
})

test('reproduces the second sample of spec §3.4 exactly as the last cycle', () => {
  const r = replay('spec-sample-2', 7, 1)
  assert.equal(lastCycles(r.combined, 1), '\n' + read('golden/spec-sample-2.spec.txt'))
})

test('prints only the header for -c 0 and for a negative count', () => {
  for (const count of [0, -3]) {
    const r = replayPlain(parseFramesFile(read('fixtures/spec-sample-2.frames')), { count, waitSecs: 1 })
    assert.equal(r.combined, HEADER)
    assert.equal(r.stderr, '')
  }
})

test('redraws every -w seconds without messages, fractional intervals included', () => {
  const r = replayPlain([], { count: 3, waitSecs: 0.3, epochMs: 1_700_000_000_000 })
  assert.equal(r.stderr, '0 active, 0 idling processes\n\n'.repeat(3))
})

test('renders the last moment of the first spec sample as a full screen', () => {
  const view = replay('spec-sample-1', 43, 1).lastView!
  const lines = formatScreen(view, {
    width: 80,
    height: 18,
    source: 'tcp://127.0.0.1:23232',
    paused: false,
    sort: 'elapsed',
    host: undefined,
    help: false,
    counters: { msgsPerSec: 4, msPerMsg: [['spam', 1830.5] as const, ['total', 2100] as const], totalMsgs: 1234 },
  })
  const text = lines.map((l) => `${l.dim ? '~' : l.bold ? '*' : ' '} ${l.text}`.trimEnd()).join('\n') + '\n'
  if (process.env.UPDATE_GOLDEN) writeFileSync(here('golden/tui-spec-sample-1.txt'), text)
  assert.equal(text, read('golden/tui-spec-sample-1.txt'))
})
