// Temporary directories owned by a test (or a scope) and removed when it ends.
import { rmSync } from 'node:fs'
import { mkdtemp, rm, chmod } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * Anything that can run cleanup code at its end: node:test's TestContext (`t`), or a scope from
 * createScope() for describe-level fixtures. Cleanups run in reverse registration order
 * (node:test runs `t.after` hooks in registration order, so starters register exactly one hook).
 */
export interface Owner {
  after(fn: () => unknown): unknown
}

export interface Scope extends Owner {
  /** Runs every registered cleanup, newest first; errors are collected and rethrown at the end. */
  close(): Promise<void>
}

/**
 * A cleanup scope for fixtures shared by several tests:
 *   const scope = createScope()
 *   before(async () => { redis = await startRedis(scope) })
 *   after(() => scope.close())
 */
export function createScope(): Scope {
  const fns: Array<() => unknown> = []
  return {
    after(fn) {
      fns.push(fn)
    },
    async close() {
      const errors: unknown[] = []
      while (fns.length) {
        const fn = fns.pop()!
        try {
          await fn()
        } catch (err) {
          errors.push(err)
        }
      }
      if (errors.length === 1) throw errors[0]
      if (errors.length > 1) throw new AggregateError(errors, 'scope cleanup failed')
    },
  }
}

// ---- last-chance cleanup at process end ---------------------------------------------------------

const endHandlers: Array<() => void> = []
let endHooksInstalled = false

/**
 * Runs `fn` (synchronously) when the process exits, or when it receives SIGINT/SIGTERM
 * (node:test's runner SIGTERMs a test file that overruns). One handler per signal for the whole
 * harness: if it is the only listener it then restores the default action and re-raises the signal.
 */
export function onProcessEnd(fn: () => void): void {
  endHandlers.push(fn)
  if (endHooksInstalled) return
  endHooksInstalled = true
  const runAll = (): void => {
    for (const h of endHandlers.splice(0)) {
      try {
        h()
      } catch {}
    }
  }
  process.on('exit', runAll)
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    const onSignal = (): void => {
      runAll()
      if (process.listenerCount(sig) === 1) {
        process.removeListener(sig, onSignal)
        process.kill(process.pid, sig)
      }
    }
    process.on(sig, onSignal)
  }
}

const pending = new Set<string>()
let exitHook = false

function removeNow(dir: string): void {
  pending.delete(dir)
  try {
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 })
  } catch {}
}

/**
 * Creates `$TMPDIR/vigil-<prefix>-XXXXXX`, removed (recursively) when `t` ends.
 *
 * With a node:test TestContext the directory is removed after *all* of the test's `t.after` hooks
 * (on `t.signal`'s abort, which node:test fires once the hooks are done): node:test runs hooks in
 * registration order, so a removal registered with t.after would run before the stop() of a
 * component started later that still writes into the directory. With a scope, removal is an
 * ordinary cleanup (scopes run newest first). Whatever is left when the process exits is removed then.
 */
export async function tmpDir(t: Owner | null, prefix: string): Promise<string> {
  const safe = prefix
    .replace(/[^A-Za-z0-9_.-]/g, '_')
    .replace(/^vigil-/, '')
    .replace(/-+$/, '')
  const dir = await mkdtemp(join(tmpdir(), `vigil-${safe}-`))
  // Services that drop privileges (smtp-sink -u nobody, spamd -u) must be able to reach it.
  await chmod(dir, 0o755)
  if (!t) return dir
  pending.add(dir)
  if (!exitHook) {
    exitHook = true
    // Registered once, after the services' hook (process.ts registers at import), so services are
    // signalled before their directories go.
    onProcessEnd(() => {
      for (const d of [...pending]) removeNow(d)
    })
  }
  const signal = (t as { signal?: unknown }).signal
  if (signal instanceof AbortSignal && !signal.aborted) {
    signal.addEventListener('abort', () => removeNow(dir), { once: true })
  } else {
    t.after(async () => {
      pending.delete(dir)
      await rm(dir, { recursive: true, force: true, maxRetries: 3 })
    })
  }
  return dir
}

/**
 * A scope that closes when `t` ends (when `t` is given). Starters put their temp dir and process
 * in one: cleanups run newest first, so the process stops before its directory is removed.
 */
export function childScope(t: Owner | null): Scope {
  const scope = createScope()
  t?.after(() => scope.close())
  return scope
}
