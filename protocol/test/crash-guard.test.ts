import { test } from 'node:test'
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { createLogger, installCrashGuard, unexpectedErrorCounts, EXIT_UNEXPECTED } from '../src/index.ts'

function setup(stop?: () => Promise<void>, stopTimeoutMs?: number) {
  const lines: string[] = []
  const exits: number[] = []
  const proc = Object.assign(new EventEmitter(), { exit: (code: number) => void exits.push(code) })
  const log = createLogger({ name: 'guarded', write: (l) => lines.push(l) })
  const remove = installCrashGuard({ log, stop, stopTimeoutMs, proc })
  return { lines, exits, proc, remove }
}

test('an unhandled rejection is logged with its stack and counted; the process goes on', () => {
  const before = unexpectedErrorCounts().unhandledRejections
  const g = setup()
  g.proc.emit('unhandledRejection', new Error('lost write'))
  g.proc.emit('unhandledRejection', 'a string reason')
  assert.equal(unexpectedErrorCounts().unhandledRejections, before + 2)
  assert.deepEqual(g.exits, [])
  assert.match(
    g.lines[0],
    /error guarded\[\d+\]: Unhandled promise rejection.*err="lost write".*stack=.*crash-guard\.test\.ts/,
  )
  assert.match(g.lines[1], /err="a string reason"/)
  g.remove()
  assert.equal(g.proc.listenerCount('unhandledRejection'), 0)
})

test('an uncaught exception stops the component, then exits 70; a second one while stopping is only logged', async () => {
  const before = unexpectedErrorCounts().uncaughtExceptions
  let stopped = 0
  let release!: () => void
  const g = setup(() => {
    stopped++
    return new Promise<void>((r) => (release = r))
  })
  g.proc.emit('uncaughtException', new TypeError('x is undefined'))
  g.proc.emit('uncaughtException', new Error('again'))
  assert.equal(stopped, 1)
  assert.deepEqual(g.exits, [], 'no exit before the stop finished')
  release()
  await new Promise((r) => setImmediate(r))
  assert.deepEqual(g.exits, [EXIT_UNEXPECTED])
  assert.equal(unexpectedErrorCounts().uncaughtExceptions, before + 2)
  assert.match(g.lines[0], /fatal guarded\[\d+\]: Uncaught exception: stopping.*err="x is undefined".*exit_code=70/)
  assert.match(g.lines[1], /Another uncaught exception while stopping\..*again/)
  g.remove()
})

test('a stop that never ends does not keep the process: exit 70 after the timeout', async () => {
  const g = setup(() => new Promise<void>(() => {}), 50)
  g.proc.emit('uncaughtException', new Error('boom'))
  await new Promise((r) => setTimeout(r, 120))
  assert.deepEqual(g.exits, [EXIT_UNEXPECTED])
  assert.match(g.lines.at(-1)!, /Stop after the exception timed out; exiting\. timeout_ms=50/)
  g.remove()
})
