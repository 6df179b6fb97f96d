// One AM.PDP connection (amavis process_policy_request): reads requests (attribute lines, an
// empty line ends each), answers each in turn, and serves several requests on one connection
// (amavisd-release sends one per line of `amavisd-release -`). Malformed lines are counted and
// skipped, as amavis logs and skips them; an oversized line or request gets amavis's Failure reply
// and the connection is closed, so a client cannot make the worker buffer without bound.
import type { Socket } from 'node:net'
import type { Logger } from '@vigil/protocol'
import { addAttribute, first, formatResponse, parseLine, type AmpdpRequest } from './codec.ts'
import { failureResponse } from './replies.ts'
import { handleQuarantineRequest, type QuarantineRequestDeps } from './release.ts'

/** Longest request line accepted (amavis has no limit; a release request line is < 1 KiB). */
export const MAX_LINE_BYTES = 16 * 1024
/** Most attribute lines in one request (recipients included). */
export const MAX_ATTRIBUTES = 1000

/** What AM.PDP sessions counted (one object per worker; the worker logs each session's share). */
export interface AmpdpStats {
  requests: number
  released: number
  /** Re-sent, but not every recipient was accepted. */
  failed: number
  /** Refused before anything was sent (bad request, unknown mail_id, missing secret_id). */
  refused: number
  invalid_lines: number
  oversized: number
}

export function createAmpdpStats(): AmpdpStats {
  return { requests: 0, released: 0, failed: 0, refused: 0, invalid_lines: 0, oversized: 0 }
}

export interface AmpdpSessionDeps extends QuarantineRequestDeps {
  log: Logger
  /** Log prefix, amavis's `(<pid>-<seq>)`. */
  taskId: string
  timeoutSecs: number
  stats: AmpdpStats
}

/** Serves one AM.PDP connection until the client closes it (or idles past timeoutSecs). */
export async function runAmpdpSession(socket: Socket, deps: AmpdpSessionDeps): Promise<void> {
  const { log, stats, taskId } = deps
  socket.setTimeout(deps.timeoutSecs * 1000, () => {
    log.info(`(${taskId}) AM.PDP client idle too long; closing.`, { timeout_secs: deps.timeoutSecs })
    socket.destroy()
  })
  let req: AmpdpRequest = new Map()
  let attrs = 0
  let buf = ''
  const answer = async (lines: string[]) => {
    if (!socket.destroyed) await new Promise<void>((r) => socket.write(formatResponse(lines), 'latin1', () => r()))
  }
  const refuse = async (why: string) => {
    stats.oversized++
    log.warn(`(${taskId}) AM.PDP request refused: ${why}.`)
    await answer(failureResponse(why))
    socket.end()
  }
  const dispatch = async () => {
    stats.requests++
    const request = first(req, 'request') ?? ''
    const res = await handleQuarantineRequest(req, deps)
    stats[res.outcome]++
    const level = res.outcome === 'released' ? 'info' : 'warn'
    log[level](`(${taskId}) AM.PDP ${request || 'request'} ${res.mailId ?? ''}: ${res.outcome}.`, {
      mail_id: res.mailId,
      reply: res.lines.join(' | '),
    })
    await answer(res.lines)
    req = new Map()
    attrs = 0
  }
  try {
    for await (const chunk of socket as AsyncIterable<Buffer>) {
      buf += chunk.toString('latin1')
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl)
        buf = buf.slice(nl + 1)
        const p = parseLine(line)
        if (p.kind === 'end') await dispatch()
        else if (p.kind === 'error') {
          stats.invalid_lines++
          log.warn(`(${taskId}) AM.PDP: invalid attribute line skipped.`, { line: p.error.detail })
        } else if (++attrs > MAX_ATTRIBUTES) return void (await refuse(`more than ${MAX_ATTRIBUTES} attributes`))
        else addAttribute(req, p.name, p.value)
      }
      if (buf.length > MAX_LINE_BYTES) return void (await refuse(`line longer than ${MAX_LINE_BYTES} bytes`))
    }
  } catch (e) {
    log.debug(`(${taskId}) AM.PDP connection error.`, { err: e as Error })
  } finally {
    socket.setTimeout(0)
    if (!socket.destroyed) socket.end()
  }
}
