// What the CLI needs from its process, passed in explicitly so commands are testable in-process.
import type { GuardedProcess } from '@vigil/protocol'

/** Standard input (`vigil user` reads passwords from it): a terminal or a pipe. */
export type CliStdin = NodeJS.ReadableStream & { readonly isTTY?: boolean }
export interface CliIo {
  readonly stdout: (text: string) => void
  readonly stderr: (text: string) => void
  readonly env: Readonly<Record<string, string | undefined>>
  readonly cwd: string
  /** Standard input; absent in tests that do not need it. */
  readonly stdin?: CliStdin
  /** Signal and IPC events of the running process (`process` in main.ts). */
  readonly proc: {
    once(event: 'SIGTERM' | 'SIGINT' | 'SIGHUP' | 'disconnect', listener: () => void): unknown
    on(event: 'SIGTERM' | 'SIGINT' | 'SIGHUP', listener: () => void): unknown
    removeListener(event: 'SIGTERM' | 'SIGINT' | 'SIGHUP' | 'disconnect', listener: () => void): unknown
    /** Present when started with an IPC channel (by the supervisor). */
    readonly send?: unknown
    /** Whether that IPC channel is still open. */
    readonly connected?: boolean
  }
  /**
   * The process a running component guards against its own bugs (protocol's installCrashGuard:
   * uncaught exceptions and unhandled rejections); `process` in main.ts, absent in in-process tests.
   */
  readonly guard?: GuardedProcess
}
