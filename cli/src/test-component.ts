// A stand-in component for supervisor tests and smoke checks (hidden command `test-component`).
// It honours the component contract with a real loopback listener, and can be told to crash or to
// ignore stop requests, so restart and shutdown paths are exercised without the real components.
import { createServer, type Server } from 'node:net'
import type { Logger } from '@vigil/protocol'
import type { Component } from './components.ts'

export interface TestComponentOptions {
  /** Exit the process with `exitCode` this many ms after start. */
  readonly crashAfterMs?: number
  readonly exitCode: number
  /** Never finish stop() (the supervisor must escalate to KILL). */
  readonly hangOnStop: boolean
  readonly port: number
  /**
   * A bug this many ms after start: a promise rejected with nothing to handle it, and at twice
   * the delay an exception thrown from a timer (what the crash guard must log, count and survive).
   */
  readonly bugAfterMs?: number
}

/** Reads VIGIL_TEST_COMPONENT_{CRASH_MS,EXIT_CODE,HANG,PORT,BUG_MS}. */
export function testComponentOptions(env: Readonly<Record<string, string | undefined>>): TestComponentOptions {
  const crash = env.VIGIL_TEST_COMPONENT_CRASH_MS
  const bug = env.VIGIL_TEST_COMPONENT_BUG_MS
  return {
    bugAfterMs: bug ? Number(bug) : undefined,
    crashAfterMs: crash ? Number(crash) : undefined,
    exitCode: Number(env.VIGIL_TEST_COMPONENT_EXIT_CODE ?? 3),
    hangOnStop: env.VIGIL_TEST_COMPONENT_HANG === '1',
    port: Number(env.VIGIL_TEST_COMPONENT_PORT ?? 0),
  }
}

/** The stand-in component: a TCP listener answering one line, with the crash and hang switches of `opts`. */
export function createTestComponent(opts: TestComponentOptions, deps: { log: Logger }): Component {
  let server: Server | undefined
  let crashTimer: NodeJS.Timeout | undefined
  const bugTimers: NodeJS.Timeout[] = []
  return {
    async start() {
      const srv = createServer((sock) => sock.end('vigil test-component\r\n'))
      server = srv
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject)
        srv.listen(opts.port, '127.0.0.1', () => resolve())
      })
      if (opts.crashAfterMs !== undefined)
        crashTimer = setTimeout(() => {
          deps.log.error('Crashing on purpose.', { exit_code: opts.exitCode })
          process.exit(opts.exitCode)
        }, opts.crashAfterMs)
      if (opts.bugAfterMs !== undefined) {
        bugTimers.push(
          setTimeout(() => void Promise.reject(new Error('test-component: rejected on purpose')), opts.bugAfterMs),
          setTimeout(() => {
            throw new Error('test-component: thrown on purpose')
          }, 2 * opts.bugAfterMs),
        )
      }
    },
    async stop() {
      clearTimeout(crashTimer)
      for (const b of bugTimers) clearTimeout(b)
      if (opts.hangOnStop) return new Promise<void>(() => {})
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
    },
    describe() {
      const addr = server?.address()
      return [typeof addr === 'object' && addr ? `test-component on ${addr.address}:${addr.port}` : 'test-component']
    },
  }
}
