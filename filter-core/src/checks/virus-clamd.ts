// ClamAV through clamd's INSTREAM command (amavis's "ClamAV-clamd" scanner). Every part that
// carries decoded content is streamed to clamd: leaves, archive members, and archives
// themselves (clamd unpacks archives on its own, so its archive support adds to ours).
import { createHash } from 'node:crypto'
import { ErrorCode, VigilError } from '@vigil/protocol'
import type { MimePart, ParsedMessage, VirusResult, VirusScanner } from './check.ts'
import { describeTarget, exchange, parseSocketTarget, writeAll, type SocketTarget } from './socket-target.ts'

export interface ClamdScannerOptions {
  /** `tcp:host:port`, `unix:/path`, `host:port` or an absolute socket path. */
  readonly socket: string
  /** Deadline for one whole message scan (all parts). */
  readonly timeoutMs?: number
  /** Largest part sent; must not exceed clamd's StreamMaxLength. Larger parts make the scan fail. */
  readonly maxStreamBytes?: number
  /** Parts scanned at the same time over separate connections. */
  readonly concurrency?: number
}

export const CLAMD_SCANNER_NAME = 'ClamAV-clamd'
const CHUNK_BYTES = 64 * 1024

export type ClamdReply = { readonly infected: false } | { readonly infected: true; readonly virusName: string }

/**
 * Parses one clamd reply line (`stream: OK`, `stream: Eicar-Test-Signature FOUND`, optionally
 * prefixed by an IDSESSION id `1: `). Throws VigilError(CHECK_FAILED) for `... ERROR` replies
 * (including `INSTREAM size limit exceeded. ERROR`) and anything unrecognised.
 */
export function parseClamdReply(reply: string): ClamdReply {
  const line = reply
    .replaceAll('\0', '')
    .trim()
    .replace(/^\d+: /, '')
  if (/^stream: OK$/.test(line)) return { infected: false }
  const found = /^stream: (.+) FOUND$/.exec(line)
  if (found) return { infected: true, virusName: found[1] }
  if (/ERROR$/.test(line))
    throw new VigilError(ErrorCode.CHECK_FAILED, `${CLAMD_SCANNER_NAME}: clamd reported "${line}".`)
  throw new VigilError(ErrorCode.CHECK_FAILED, `${CLAMD_SCANNER_NAME}: unexpected clamd reply "${line.slice(0, 200)}".`)
}

/** Parts with content, depth-first, identical contents only once. */
function scannableParts(root: MimePart): MimePart[] {
  const out: MimePart[] = []
  const seen = new Set<string>()
  const walk = (p: MimePart) => {
    if (p.content) {
      const key = createHash('md5').update(p.content).digest('hex')
      if (!seen.has(key)) {
        seen.add(key)
        out.push(p)
      }
    }
    for (const c of p.children) walk(c)
  }
  walk(root)
  return out
}

export interface ClamdScanner extends VirusScanner {
  /** Scans one buffer; resolves with clamd's verdict. Throws like `scan`. */
  scanBuffer(data: Buffer, signal?: AbortSignal, timeoutMs?: number): Promise<ClamdReply>
  /** `PONG` check: resolves when clamd answers, throws VigilError(CHECK_FAILED/CHECK_TIMEOUT) otherwise. */
  ping(timeoutMs?: number): Promise<void>
  describe(): string
}

/** Creates the scanner; validates the socket address at once (VigilError CONFIG_INVALID). No connection is made until a scan. */
export function createClamdScanner(opts: ClamdScannerOptions): ClamdScanner {
  const target: SocketTarget = parseSocketTarget(opts.socket)
  const timeoutMs = opts.timeoutMs ?? 60_000
  const maxStreamBytes = opts.maxStreamBytes ?? 25 * 1024 * 1024
  const concurrency = Math.max(1, opts.concurrency ?? 2)

  const scanBuffer = async (data: Buffer, signal?: AbortSignal, ms = timeoutMs): Promise<ClamdReply> => {
    if (data.length > maxStreamBytes)
      throw new VigilError(
        ErrorCode.CHECK_FAILED,
        `${CLAMD_SCANNER_NAME}: part of ${data.length} bytes exceeds max_stream_bytes ${maxStreamBytes}.`,
      )
    const reply = await exchange(
      target,
      async (sock) => {
        await writeAll(sock, Buffer.from('zINSTREAM\0'))
        for (let off = 0; off < data.length; off += CHUNK_BYTES) {
          const chunk = data.subarray(off, off + CHUNK_BYTES)
          const len = Buffer.alloc(4)
          len.writeUInt32BE(chunk.length)
          await writeAll(sock, len)
          await writeAll(sock, chunk)
        }
        await writeAll(sock, Buffer.alloc(4))
      },
      { name: CLAMD_SCANNER_NAME, timeoutMs: ms, signal, complete: (b) => b.includes(0) },
    )
    if (reply.length === 0)
      throw new VigilError(
        ErrorCode.CHECK_FAILED,
        `${CLAMD_SCANNER_NAME} at ${describeTarget(target)}: connection closed without a reply.`,
      )
    return parseClamdReply(reply.toString('utf8'))
  }

  return {
    name: CLAMD_SCANNER_NAME,
    scanBuffer,
    describe: () => `${CLAMD_SCANNER_NAME} at ${describeTarget(target)}`,
    async ping(ms = 5000) {
      const reply = await exchange(target, (sock) => writeAll(sock, Buffer.from('zPING\0')), {
        name: CLAMD_SCANNER_NAME,
        timeoutMs: ms,
        complete: (b) => b.includes(0),
      })
      if (reply.toString().replace(/\0/g, '').trim() !== 'PONG')
        throw new VigilError(ErrorCode.CHECK_FAILED, `${CLAMD_SCANNER_NAME}: unexpected PING reply.`)
    },
    async scan(message: ParsedMessage, signal: AbortSignal): Promise<VirusResult> {
      const deadline = Date.now() + timeoutMs
      const parts = scannableParts(message.root)
      const found: (string | undefined)[] = new Array(parts.length)
      // One failing part stops the others at once: the scan as a whole has failed.
      const local = new AbortController()
      const onAbort = () => local.abort(signal.reason)
      signal.addEventListener('abort', onAbort, { once: true })
      if (signal.aborted) local.abort(signal.reason)
      let next = 0
      const worker = async () => {
        while (next < parts.length) {
          const i = next++
          const left = deadline - Date.now()
          if (left <= 0)
            throw new VigilError(
              ErrorCode.CHECK_TIMEOUT,
              `${CLAMD_SCANNER_NAME}: scan did not finish within ${timeoutMs} ms.`,
            )
          const r = await scanBuffer(parts[i].content!, local.signal, left)
          if (r.infected) found[i] = r.virusName
        }
      }
      try {
        await Promise.all(
          Array.from({ length: Math.min(concurrency, parts.length) }, () =>
            worker().catch((err: unknown) => {
              local.abort(err)
              throw err
            }),
          ),
        )
      } finally {
        signal.removeEventListener('abort', onAbort)
      }
      const names = [...new Set(found.filter((n): n is string => n !== undefined))]
      return { scanner: CLAMD_SCANNER_NAME, infected: names.length > 0, virusNames: names }
    },
  }
}
