// Postfix queue gauges (amavisMta, spec §4.4): the number of entries under
// `<queue_directory>/{maildrop,incoming,active,deferred}`, recursing into Postfix's hashed
// one-character subdirectories. One implementation for the SNMP agent (cached per directory with
// amavis's adaptive TTL) and the collector's counter history (sampled for the Graphs page).
// Counting is asynchronous with a deadline, so a huge deferred queue never stalls either caller.
//
// Unlike the rest of @vigil/protocol this module reads files and runs `postconf`, so it is not
// exported from index.ts: import it as '@vigil/protocol/postfix-queue.ts' (Node only).
import { execFile } from 'node:child_process'
import { opendir } from 'node:fs/promises'
import { join } from 'node:path'

/** MIB order of the counted directories (3.1.1 … 3.1.4). `hold` is documented but has no OID. */
export const QUEUE_DIRS = ['maildrop', 'incoming', 'active', 'deferred'] as const
export type QueueDir = (typeof QUEUE_DIRS)[number]

/** Postfix's compiled-in queue_directory, used when `postconf` does not answer. */
export const DEFAULT_QUEUE_DIRECTORY = '/var/spool/postfix'

/** amavis's deadline of one directory count (5 s). */
export const DEFAULT_COUNT_DEADLINE_MS = 5000

/** The AMAVIS-MIB variable of a queue directory: `active` → `MtaQueueEntriesActive`. */
export function queueGaugeName(dir: QueueDir): string {
  return `MtaQueueEntries${dir[0].toUpperCase()}${dir.slice(1)}`
}

export class CountDeadlineError extends Error {
  constructor(dir: string, ms: number) {
    super(`counting ${dir} took longer than ${ms} ms`)
    this.name = 'CountDeadlineError'
  }
}

/**
 * Counts the entries of one queue directory: one-character subdirectories are hash levels and are
 * descended into; every other entry counts once. Rejects on an unreadable top directory, when
 * `deadlineMs` passes, or when `signal` aborts (a partial count would be a wrong value, so none
 * is returned).
 */
export async function countQueueEntries(dir: string, deadlineMs: number, signal?: AbortSignal): Promise<number> {
  const until = Date.now() + deadlineMs
  const walk = async (d: string, top: boolean): Promise<number> => {
    let n = 0
    let handle
    try {
      handle = await opendir(d, { bufferSize: 256 })
    } catch (err) {
      if (top) throw err
      return 0 // a hash subdirectory vanished while we counted (Postfix removes empty ones)
    }
    for await (const ent of handle) {
      if (Date.now() > until) throw new CountDeadlineError(dir, deadlineMs)
      signal?.throwIfAborted()
      if (ent.name.length === 1 && ent.isDirectory()) n += await walk(join(d, ent.name), false)
      else n++
    }
    return n
  }
  return walk(dir, true)
}

/**
 * amavis's adaptive TTL for a Postfix directory (spec §4.2): at least the base TTL, at least 8×
 * the time the last count took, at least 1.5× the time since the previous query when the count
 * was slow (> 4 s), and at most 20 minutes.
 */
export function nextQueueTtlMs(baseTtlMs: number, elapsedMs: number, sinceLastQueryMs: number): number {
  let ttl = Math.max(baseTtlMs, 8 * elapsedMs)
  if (elapsedMs > 4000) ttl = Math.max(ttl, 1.5 * sinceLastQueryMs)
  return Math.min(ttl, 20 * 60 * 1000)
}

/** `postconf -h queue_directory`, or undefined when Postfix is not installed or does not answer in 3 s. */
export function detectQueueDirectory(): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('postconf', ['-h', 'queue_directory'], { timeout: 3000 }, (err, stdout) => {
      const v = String(stdout ?? '').trim()
      resolve(err || !v.startsWith('/') ? undefined : v)
    })
  })
}

/**
 * The queue directory a setting names: the path itself, or for '' what Postfix uses
 * (`postconf -h queue_directory`, else /var/spool/postfix). Never rejects.
 */
export async function resolveQueueDirectory(configured: string): Promise<string> {
  return configured || (await detectQueueDirectory()) || DEFAULT_QUEUE_DIRECTORY
}
