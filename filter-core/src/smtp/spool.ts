// The body of one received message: held in memory while small, spooled to a temp file under
// <home>/tmp once it crosses the threshold, so a large message is never held in memory twice.
// The SMTP DATA decoder (dot-unstuffing, bare-LF tolerance, end-of-data detection) writes into it.
import { closeSync, mkdirSync, openSync, readSync, rmSync, writeSync, writevSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'

export interface MessageBody {
  /** Size in bytes after dot-unstuffing, lines ending in CRLF. */
  readonly size: number
  /** Byte offset of the first body byte (just after the empty line ending the header), or size when none. */
  readonly headerEnd: number
  /** Path of the spool file when the message was spooled. */
  readonly path?: string
  /** The header block (up to headerEnd). */
  header(): Buffer
  /** The whole message. Reads the spool file for a spooled message. */
  readAll(): Promise<Buffer>
  /** Streams bytes [start, size). */
  stream(start?: number): Readable
  /** Removes the spool file. Idempotent. */
  dispose(): void
}

export function memoryBody(raw: Buffer): MessageBody {
  return {
    size: raw.length,
    headerEnd: findHeaderEnd(raw),
    header() {
      return raw.subarray(0, this.headerEnd)
    },
    readAll: async () => raw,
    stream: (start = 0) => Readable.from([raw.subarray(start)]),
    dispose() {},
  }
}

/** Offset just after the first empty line (CRLF CRLF or LF LF), or the length when there is none. */
export function findHeaderEnd(raw: Buffer): number {
  if (raw.length >= 2 && raw[0] === 0x0d && raw[1] === 0x0a) return 2
  if (raw.length >= 1 && raw[0] === 0x0a) return 1
  const a = raw.indexOf('\r\n\r\n')
  const b = raw.indexOf('\n\n')
  if (a < 0 && b < 0) return raw.length
  if (a >= 0 && (b < 0 || a + 1 <= b)) return a + 4
  return b + 2
}

const CRLF = Buffer.from('\r\n')
/** Spooled bytes are written in pieces of at least this size (one write per socket read cost a syscall each). */
const SPOOL_WRITE_BYTES = 64 * 1024
/** Spool files are read back in pieces of this size, synchronously (no thread-pool round trip per piece). */
const SPOOL_READ_BYTES = 256 * 1024
/** Spool directories already created by this process (one mkdir per process, not per message). */
const madeDirs = new Set<string>()

/** Reads [start, end) of a file in pieces, synchronously; the fd is closed when done or abandoned. */
function* readPieces(path: string, start: number, end: number): Generator<Buffer> {
  const fd = openSync(path, 'r')
  try {
    let pos = start
    while (pos < end) {
      const b = Buffer.allocUnsafe(Math.min(SPOOL_READ_BYTES, end - pos))
      const n = readSync(fd, b, 0, b.length, pos)
      if (n <= 0) throw new Error(`spool file ${path} is shorter than expected (${pos} of ${end} bytes)`)
      pos += n
      yield n === b.length ? b : b.subarray(0, n)
    }
  } finally {
    closeSync(fd)
  }
}

/**
 * Decodes the DATA phase of an SMTP session into a MessageBody. Feed it raw socket chunks;
 * `push` returns the number of bytes consumed when the terminating `.` line was seen (the
 * rest belongs to the next command), or -1 when more data is needed.
 */
export class DataReceiver {
  size = 0
  headerEnd = -1
  oversize = false
  /** Set when the spool could not be written (disk full, permissions): the message must be tempfailed. */
  error: Error | undefined
  private readonly chunks: Buffer[] = []
  private memBytes = 0
  /** Bytes for the spool file not written yet (below SPOOL_WRITE_BYTES). */
  private pending: Buffer[] = []
  private pendingBytes = 0
  /** The first bytes of a spooled message (what was in memory when it was spooled): holds the header. */
  private head: Buffer | undefined
  private fd: number | undefined
  private path: string | undefined
  private partial: Buffer | undefined
  private readonly maxSize: number
  private readonly threshold: number
  private readonly spoolDir: string
  private inHeader = true

  constructor(opts: { maxSizeBytes: number; spoolThresholdBytes: number; spoolDir: string }) {
    this.maxSize = opts.maxSizeBytes
    this.threshold = opts.spoolThresholdBytes
    this.spoolDir = opts.spoolDir
  }

  /** Stores decoded message bytes (already CRLF-normalised and dot-unstuffed). */
  private store(parts: Buffer[], len: number) {
    if (!len) return
    this.size += len
    if (this.oversize || this.error) return
    if (this.maxSize > 0 && this.size > this.maxSize) {
      this.oversize = true
      return
    }
    try {
      if (this.fd === undefined && this.memBytes + len > this.threshold) this.openSpool()
      if (this.fd !== undefined) {
        // The parts are views of socket chunks (each read gets a fresh buffer): kept until written.
        for (const p of parts) this.pending.push(p)
        this.pendingBytes += len
        if (this.pendingBytes >= SPOOL_WRITE_BYTES) this.writePending()
      } else {
        for (const p of parts) this.chunks.push(p) // views of fresh socket chunks: no copy needed
        this.memBytes += len
      }
    } catch (e) {
      // Keep reading to the end of data, then tempfail: never a half-stored message.
      this.error = e as Error
      this.chunks.length = 0
    }
  }

  /** Writes what is still pending to the spool file; a failure is kept in `error` (the message is tempfailed). */
  private flushSpool() {
    if (this.fd === undefined || this.error) return
    try {
      this.writePending()
    } catch (e) {
      this.error = e as Error
    }
  }

  private writePending() {
    if (!this.pendingBytes) return
    const parts = this.pending
    const total = this.pendingBytes
    this.pending = []
    this.pendingBytes = 0
    // One writev of the pieces as they are; a short write (rare) finishes with plain writes.
    let done = writevSync(this.fd!, parts)
    if (done < total) {
      const rest = Buffer.concat(parts, total).subarray(done)
      let off = 0
      while (off < rest.length) off += writeSync(this.fd!, rest, off)
    }
  }

  private openSpool() {
    if (!madeDirs.has(this.spoolDir)) {
      mkdirSync(this.spoolDir, { recursive: true })
      madeDirs.add(this.spoolDir)
    }
    this.path = join(this.spoolDir, `vigil-${process.pid}-${randomBytes(6).toString('hex')}.eml`)
    try {
      this.fd = openSync(this.path, 'wx', 0o600)
    } catch (e) {
      // The directory may have been removed since (tmp cleaners): make it again, once.
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
      mkdirSync(this.spoolDir, { recursive: true })
      this.fd = openSync(this.path, 'wx', 0o600)
    }
    this.head = Buffer.concat(this.chunks)
    this.chunks.length = 0
    this.memBytes = 0
    this.pending.push(this.head)
    this.pendingBytes += this.head.length
  }

  /**
   * Consumes `chunk`. Returns the number of bytes used up to and including the end-of-data line, or
   * -1. Views of `chunk` are kept until written, so the caller must not reuse its buffer (socket
   * reads are fresh buffers).
   */
  push(chunk: Buffer): number {
    const partial = this.partial
    if (!partial) return this.decode(chunk, 0)
    this.partial = undefined
    const lf = chunk.indexOf(0x0a)
    if (lf < 0) return this.decode(Buffer.concat([partial, chunk]), -partial.length)
    // Complete the held line with the head of the chunk; the rest is decoded in place (no copy
    // of the whole chunk).
    const used = this.decode(Buffer.concat([partial, chunk.subarray(0, lf + 1)]), -partial.length)
    if (used >= 0 || lf + 1 === chunk.length) return used
    return this.decode(chunk.subarray(lf + 1), lf + 1)
  }

  /** push() for a buffer that starts at a line start; offsets returned are shifted by offsetBase. */
  private decode(buf: Buffer, offsetBase: number): number {
    // Copy runs of ordinary lines in one piece; only dot-stuffed lines, bare LFs and the end
    // marker need attention.
    const out: Buffer[] = []
    let outLen = 0
    let seg = 0
    const flush = (to: number) => {
      if (to > seg) {
        out.push(buf.subarray(seg, to))
        outLen += to - seg
      }
    }
    let pos = 0
    for (;;) {
      const lf = buf.indexOf(0x0a, pos)
      if (lf < 0) break
      const hasCr = lf > pos && buf[lf - 1] === 0x0d
      const lineLen = lf - pos - (hasCr ? 1 : 0)
      if (lineLen === 1 && buf[pos] === 0x2e) {
        flush(pos)
        seg = lf + 1
        this.store(out, outLen)
        this.flushSpool()
        if (this.headerEnd < 0) this.headerEnd = this.size
        return lf + 1 + offsetBase
      }
      if (this.inHeader && lineLen === 0) {
        this.inHeader = false
        this.headerEnd = this.size + outLen + (pos - seg) + 2
      }
      if (lineLen > 0 && buf[pos] === 0x2e) {
        flush(pos)
        seg = pos + 1
      }
      if (!hasCr) {
        flush(lf)
        out.push(CRLF)
        outLen += 2
        seg = lf + 1
      }
      pos = lf + 1
    }
    flush(pos)
    seg = pos
    this.store(out, outLen)
    if (pos < buf.length) {
      const rest = buf.subarray(pos)
      // Bound a line without LF: flush its head as data (a long body line is legal for us).
      if (rest.length > 65536) {
        const keep = rest.subarray(rest.length - 1)
        this.appendRaw(rest.subarray(0, rest.length - 1))
        this.partial = Buffer.from(keep)
      } else this.partial = Buffer.from(rest)
    }
    return -1
  }

  private appendRaw(bytes: Buffer) {
    // Part of an overlong line: stored without a terminator (the line continues).
    this.store([bytes], bytes.length)
  }

  /** Turns what was received into a MessageBody (call once, after push returned ≥ 0). */
  finish(): MessageBody {
    const size = this.size
    const headerEnd = this.headerEnd < 0 ? size : this.headerEnd
    if (this.fd !== undefined) {
      this.flushSpool()
      closeSync(this.fd)
      this.fd = undefined
      const path = this.path!
      // The header is nearly always within the bytes held before spooling: no read needed.
      let headerCache: Buffer | undefined =
        this.head && headerEnd <= this.head.length ? this.head.subarray(0, headerEnd) : undefined
      this.head = undefined
      let disposed = false
      return {
        size,
        headerEnd,
        path,
        header() {
          if (!headerCache) {
            const fd = openSync(path, 'r')
            try {
              const b = Buffer.alloc(headerEnd)
              let off = 0
              while (off < headerEnd) {
                const n = readSync(fd, b, off, headerEnd - off, off)
                if (n <= 0) break
                off += n
              }
              headerCache = b.subarray(0, off)
            } finally {
              closeSync(fd)
            }
          }
          return headerCache
        },
        readAll: () => readFile(path),
        stream: (start = 0) => Readable.from(start >= size ? [] : readPieces(path, start, size)),
        dispose() {
          if (disposed) return
          disposed = true
          rmSync(path, { force: true })
        },
      }
    }
    const raw = Buffer.concat(this.chunks)
    this.chunks.length = 0
    const body = memoryBody(raw)
    return { ...body, headerEnd, header: () => raw.subarray(0, headerEnd) }
  }

  /** Drops any spool file (aborted transaction). */
  abort() {
    this.pending = []
    this.pendingBytes = 0
    this.head = undefined
    if (this.fd !== undefined) {
      closeSync(this.fd)
      this.fd = undefined
    }
    if (this.path) rmSync(this.path, { force: true })
    this.chunks.length = 0
  }

  get spooled(): boolean {
    return this.path !== undefined
  }
}
