// Malformed event input is never dropped silently: each bad frame is appended to
// <dir>/dead-letter.ndjson as {received_at, error, raw | raw_base64}.
import { appendFile, mkdir } from 'node:fs/promises'
import { isUtf8 } from 'node:buffer'
import { join } from 'node:path'

export interface DeadLetter {
  readonly path: string
  add(raw: Uint8Array, error: string, receivedAt: number): Promise<void>
}

export function createDeadLetter(dir: string): DeadLetter {
  const path = join(dir, 'dead-letter.ndjson')
  let ready: Promise<unknown> | undefined
  let chain: Promise<void> = Promise.resolve()
  return {
    path,
    add(raw, error, receivedAt) {
      const rec: Record<string, unknown> = {
        received_at: new Date(receivedAt * 1000).toISOString(),
        error,
        bytes: raw.length,
      }
      const MAX = 256 * 1024
      const body = raw.length > MAX ? raw.subarray(0, MAX) : raw
      if (raw.length > MAX) rec.truncated = true
      if (isUtf8(body)) rec.raw = Buffer.from(body).toString('utf8')
      else rec.raw_base64 = Buffer.from(body).toString('base64')
      const line = JSON.stringify(rec) + '\n'
      const p = chain.then(async () => {
        ready ??= mkdir(dir, { recursive: true })
        await ready
        await appendFile(path, line)
      })
      chain = p.catch(() => {})
      return p
    },
  }
}
