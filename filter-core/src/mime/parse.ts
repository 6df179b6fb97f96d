// parseMessage: raw RFC 5322 message → decoded MIME tree (contract in checks/check.ts),
// with archive members as children, amavis-style part ids (p001…) and placements (1/2/…).
import { createHash } from 'node:crypto'
import type { MimePart, ParsedMessage } from '../checks/check.ts'
import { detectType } from './detect-type.ts'
import { decodeBase64, decodeQuotedPrintable } from './decode.ts'
import {
  decodeRfc2047,
  headerValue,
  parseHeaderFields,
  parseStructuredValue,
  splitHeaderBody,
  type HeaderField,
} from './headers.ts'
import { DEFAULT_ZIP_LIMITS, readZip, type ZipLimits } from './zip.ts'
import { readGzip, readTar } from './archives.ts'

export interface ParseOptions {
  /** Deepest nesting of multiparts, rfc822 messages and archives (amavis $MAXLEVELS is 14). */
  readonly maxDepth?: number
  /** Most parts in the whole tree, archive members included (amavis $MAXFILES is 3000). */
  readonly maxParts?: number
  /** Unpack zip archives into members. */
  readonly unpackArchives?: boolean
  readonly zipLimits?: ZipLimits
  /** Budget for all archive members of the message together, nested archives included (amavis expansion quota). */
  readonly maxUnpackedBytes?: number
}

interface MutablePart {
  id: string
  placement: string
  declaredType?: string
  declaredNames: string[]
  detectedType?: string
  content?: Buffer
  children: MutablePart[]
  undecodable?: boolean
  undecodableReason?: string
  archiveMember?: boolean
}

interface Ctx {
  count: number
  maxDepth: number
  maxParts: number
  unpack: boolean
  zipLimits: ZipLimits
  unpackBudget: number
  problems: string[]
}

/**
 * Parses a raw message into its header fields and decoded MIME tree. Never throws on bad input:
 * undecodable pieces are flagged on their part (`undecodable`, `undecodableReason`), structural
 * oddities are listed in `mimeProblems`.
 */
export function parseMessage(raw: Buffer, opts: ParseOptions = {}): ParsedMessage {
  const ctx: Ctx = {
    count: 0,
    maxDepth: opts.maxDepth ?? 20,
    maxParts: opts.maxParts ?? 3000,
    unpack: opts.unpackArchives ?? true,
    zipLimits: opts.zipLimits ?? DEFAULT_ZIP_LIMITS,
    unpackBudget: opts.maxUnpackedBytes ?? 100 * 1024 * 1024,
    problems: [],
  }
  const split = splitEntity(raw)
  const headers = parseHeaderFields(split.headerBytes)
  const root = parseEntity(headers, split.body, '1', 0, ctx, 'text/plain')
  const leaves: MimePart[] = []
  collectLeaves(root, leaves)
  const subjectRaw = headerValue(headers, 'subject')
  const msgIdRaw = headerValue(headers, 'message-id')
  return {
    headerBytes: split.headerBytes,
    headers,
    root,
    leaves,
    subject:
      subjectRaw === undefined
        ? undefined
        : decodeRfc2047(subjectRaw)
            .replace(/[\r\n]+/g, '')
            .trim(),
    messageId: msgIdRaw === undefined ? undefined : parseMessageIds(msgIdRaw).join(' ') || msgIdRaw.trim(),
    bodyDigest: bodyDigest(split.body),
    mimeProblems: ctx.problems,
  }
}

/** MD5 hex of the body with line endings normalised to LF, as amavis digests the body of its LF-stored mail file. */
export function bodyDigest(body: Buffer): string {
  const h = createHash('md5')
  if (body.indexOf('\r\n') === -1) return h.update(body).digest('hex')
  const out = Buffer.allocUnsafe(body.length)
  let o = 0
  let start = 0
  for (let i = body.indexOf('\r\n'); i !== -1; i = body.indexOf('\r\n', i + 2)) {
    if (i - start < 64) for (let k = start; k < i; k++) out[o++] = body[k]
    else o += body.copy(out, o, start, i)
    start = i + 1
  }
  o += body.copy(out, o, start)
  return h.update(out.subarray(0, o)).digest('hex')
}

/** `<a@b>` message ids found in a Message-ID / References / In-Reply-To value. */
export function parseMessageIds(value: string): string[] {
  return [...value.matchAll(/<[^<>\s]+>/g)].map((m) => m[0])
}

function splitEntity(raw: Buffer): { headerBytes: Buffer; body: Buffer } {
  // A part (or message) whose first line is not a header field has no header block at all.
  const firstEnd = raw.indexOf(0x0a)
  const first = raw
    .subarray(0, firstEnd === -1 ? raw.length : firstEnd)
    .toString('latin1')
    .replace(/\r$/, '')
  if (first !== '' && !/^[\x21-\x39\x3b-\x7e]+[ \t]*:/.test(first))
    return { headerBytes: raw.subarray(0, 0), body: raw }
  return splitHeaderBody(raw)
}

function newPart(ctx: Ctx, placement: string): MutablePart {
  ctx.count++
  return { id: `p${String(ctx.count).padStart(3, '0')}`, placement, declaredNames: [], children: [] }
}

function declaredNamesOf(headers: readonly HeaderField[]): string[] {
  const names: string[] = []
  const cd = headerValue(headers, 'content-disposition')
  const ct = headerValue(headers, 'content-type')
  if (cd !== undefined) {
    const fn = parseStructuredValue(cd).params.filename
    if (fn) names.push(fn.trim())
  }
  if (ct !== undefined) {
    const n = parseStructuredValue(ct).params.name
    if (n) names.push(n.trim())
  }
  return [...new Set(names.filter((n) => n !== ''))]
}

function parseEntity(
  headers: readonly HeaderField[],
  body: Buffer,
  placement: string,
  depth: number,
  ctx: Ctx,
  defaultType: string,
): MutablePart {
  const part = newPart(ctx, placement)
  const ctRaw = headerValue(headers, 'content-type')
  const ct = ctRaw === undefined ? undefined : parseStructuredValue(ctRaw)
  let type = defaultType
  if (ct) {
    if (/^[!#$%&'*+.^_`|~0-9a-z-]+\/[!#$%&'*+.^_`|~0-9a-z-]+$/.test(ct.value)) type = ct.value
    else ctx.problems.push(`${placement}: malformed Content-Type "${ctRaw}"`)
    for (const p of ct.problems) ctx.problems.push(`${placement}: Content-Type ${p}`)
  }
  part.declaredType = type
  part.declaredNames = declaredNamesOf(headers)
  for (const name of ['content-type', 'content-transfer-encoding', 'content-disposition'])
    if (headers.filter((h) => h.name.toLowerCase() === name).length > 1)
      ctx.problems.push(`${placement}: ambiguous content: multiple ${name} header fields`)

  if (depth > ctx.maxDepth) return flag(part, 'too deep')
  if (ctx.count > ctx.maxParts) return flag(part, 'too many parts')

  if (type.startsWith('multipart/')) {
    const boundary = ct?.params.boundary
    if (!boundary) {
      ctx.problems.push(`${placement}: ${type} without boundary`)
    } else {
      const pieces = splitMultipart(body, boundary, placement, ctx)
      if (pieces.length > 0) {
        const childDefault = type === 'multipart/digest' ? 'message/rfc822' : 'text/plain'
        pieces.forEach((piece, i) => {
          if (ctx.count >= ctx.maxParts) {
            if (!part.undecodable) flag(part, 'too many parts')
            return
          }
          const s = splitEntity(piece)
          part.children.push(
            parseEntity(
              parseHeaderFields(s.headerBytes),
              s.body,
              `${placement}/${i + 1}`,
              depth + 1,
              ctx,
              childDefault,
            ),
          )
        })
        return part
      }
      ctx.problems.push(`${placement}: ${type} without any part`)
    }
    // Not a usable multipart: scan and check its body as one opaque leaf.
  }

  const content = decodeTransfer(headers, body, part, ctx)
  if (type === 'message/rfc822' || type === 'message/global') {
    const s = splitEntity(content)
    const inner = parseHeaderFields(s.headerBytes)
    part.children.push(parseEntity(inner, s.body, `${placement}/1`, depth + 1, ctx, 'text/plain'))
    return part
  }
  part.content = content
  part.detectedType = detectType(content)
  if (ctx.unpack && ARCHIVE_TYPES.has(part.detectedType!)) unpackArchive(part, depth, ctx)
  return part
}

function flag(part: MutablePart, reason: string): MutablePart {
  part.undecodable = true
  part.undecodableReason = reason
  return part
}

function decodeTransfer(headers: readonly HeaderField[], body: Buffer, part: MutablePart, ctx: Ctx): Buffer {
  const cte = (headerValue(headers, 'content-transfer-encoding') ?? '7bit').trim().toLowerCase()
  switch (cte) {
    case 'base64': {
      const d = decodeBase64(body)
      if (d.junk) ctx.problems.push(`${part.placement}: invalid base64 data`)
      return d.bytes
    }
    case 'quoted-printable':
      return decodeQuotedPrintable(body)
    case '7bit':
    case '8bit':
    case 'binary':
    case '':
      return body
    default:
      ctx.problems.push(`${part.placement}: unknown Content-Transfer-Encoding "${cte}"`)
      return body
  }
}

function splitMultipart(body: Buffer, boundary: string, placement: string, ctx: Ctx): Buffer[] {
  const delim = Buffer.from(`--${boundary}`, 'latin1')
  const parts: Buffer[] = []
  let start = -1
  let closed = false
  let pos = 0
  while (pos <= body.length) {
    const at = body.indexOf(delim, pos)
    if (at === -1) break
    if (at !== 0 && body[at - 1] !== 0x0a) {
      pos = at + 1
      continue
    }
    const after = at + delim.length
    const isClose = body[after] === 0x2d && body[after + 1] === 0x2d
    // The delimiter line may carry trailing whitespace only.
    let eol = after + (isClose ? 2 : 0)
    while (eol < body.length && (body[eol] === 0x20 || body[eol] === 0x09)) eol++
    if (eol < body.length && body[eol] !== 0x0d && body[eol] !== 0x0a && !isClose) {
      pos = at + 1
      continue
    }
    if (start >= 0) {
      // The line break before the delimiter belongs to the delimiter.
      let end = at
      if (end > start && body[end - 1] === 0x0a) end--
      if (end > start && body[end - 1] === 0x0d) end--
      parts.push(body.subarray(start, Math.max(start, end)))
    }
    if (isClose) {
      closed = true
      break
    }
    const nl = body.indexOf(0x0a, eol)
    start = nl === -1 ? body.length : nl + 1
    pos = start
  }
  if (!closed && start >= 0) {
    ctx.problems.push(`${placement}: multipart not terminated by its closing boundary`)
    parts.push(body.subarray(start))
  }
  return parts
}

const ARCHIVE_TYPES = new Set(['zip', 'gz', 'tar'])

function unpackArchive(part: MutablePart, depth: number, ctx: Ctx): void {
  if (depth + 1 > ctx.maxDepth) {
    flag(part, 'too deep')
    return
  }
  const limits = { ...ctx.zipLimits, maxTotalBytes: Math.min(ctx.zipLimits.maxTotalBytes, ctx.unpackBudget) }
  const z =
    part.detectedType === 'gz'
      ? readGzip(part.content!, part.declaredNames[0], limits)
      : part.detectedType === 'tar'
        ? readTar(part.content!, limits)
        : readZip(part.content!, limits)
  for (const m of z.members) ctx.unpackBudget -= m.content?.length ?? 0
  if (z.error) flag(part, z.error)
  z.members.forEach((m, i) => {
    if (ctx.count >= ctx.maxParts) {
      if (!part.undecodable) flag(part, 'too many parts')
      return
    }
    const child = newPart(ctx, `${part.placement}/${i + 1}`)
    child.declaredNames = [m.path]
    child.archiveMember = true
    if (m.content) {
      child.content = m.content
      child.detectedType = detectType(m.content)
      if (ARCHIVE_TYPES.has(child.detectedType!)) unpackArchive(child, depth + 1, ctx)
    } else flag(child, m.undecodableReason ?? 'corrupt zip member')
    part.children.push(child)
  })
}

function collectLeaves(p: MimePart, out: MimePart[]): void {
  if (p.children.length === 0) out.push(p)
  else for (const c of p.children) collectLeaves(c, out)
}
