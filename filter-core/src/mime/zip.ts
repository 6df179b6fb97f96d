// A small, dependency-free zip reader: central directory, stored and deflate members
// (node:zlib inflateRawSync), with limits against zip bombs. Zip64 and multi-disk archives
// are rejected with a reason rather than misread.
import { inflateRawSync } from 'node:zlib'

export interface ZipLimits {
  /** Largest decompressed size of one member. */
  readonly maxMemberBytes: number
  /** Largest decompressed size of all members together. */
  readonly maxTotalBytes: number
  /** Largest decompressed/compressed ratio of a member bigger than 1 MiB. */
  readonly maxRatio: number
  readonly maxMembers: number
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = {
  maxMemberBytes: 50 * 1024 * 1024,
  maxTotalBytes: 100 * 1024 * 1024,
  maxRatio: 200,
  maxMembers: 1000,
}

export interface ZipMember {
  /** Path inside the archive as stored (UTF-8 when flagged so, else CP437 read as Latin-1). */
  readonly path: string
  readonly compressedSize: number
  readonly size: number
  /** Decompressed bytes; absent when the member could not be extracted. */
  readonly content?: Buffer
  readonly undecodableReason?: string
}

export interface ZipReadResult {
  readonly members: readonly ZipMember[]
  /** Set when the archive as a whole could not be read (corrupt, zip64, over limits). */
  readonly error?: string
}

const EOCD_SIG = 0x06054b50
const CEN_SIG = 0x02014b50
const LOC_SIG = 0x04034b50

/** Lists and extracts the members of a zip archive. Never throws: problems become `error` or per-member reasons. */
export function readZip(buf: Buffer, limits: ZipLimits = DEFAULT_ZIP_LIMITS): ZipReadResult {
  const eocd = findEocd(buf)
  if (eocd < 0) return { members: [], error: 'corrupt zip: no end of central directory' }
  const disk = buf.readUInt16LE(eocd + 4)
  const cdDisk = buf.readUInt16LE(eocd + 6)
  const total = buf.readUInt16LE(eocd + 10)
  const cdSize = buf.readUInt32LE(eocd + 12)
  const cdOffset = buf.readUInt32LE(eocd + 16)
  if (total === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff)
    return { members: [], error: 'zip64 not supported' }
  if (disk !== 0 || cdDisk !== 0) return { members: [], error: 'multi-disk zip not supported' }
  if (total > limits.maxMembers) return { members: [], error: `too many zip members (${total})` }
  if (cdOffset + cdSize > eocd) return { members: [], error: 'corrupt zip: central directory out of range' }
  const members: ZipMember[] = []
  let pos = cdOffset
  let totalBytes = 0
  for (let i = 0; i < total; i++) {
    if (pos + 46 > buf.length || buf.readUInt32LE(pos) !== CEN_SIG)
      return { members, error: 'corrupt zip: bad central directory entry' }
    const flags = buf.readUInt16LE(pos + 8)
    const method = buf.readUInt16LE(pos + 10)
    const compressedSize = buf.readUInt32LE(pos + 20)
    const size = buf.readUInt32LE(pos + 24)
    const nameLen = buf.readUInt16LE(pos + 28)
    const extraLen = buf.readUInt16LE(pos + 30)
    const commentLen = buf.readUInt16LE(pos + 32)
    const localOffset = buf.readUInt32LE(pos + 42)
    const nameBytes = buf.subarray(pos + 46, pos + 46 + nameLen)
    const path = flags & 0x800 ? nameBytes.toString('utf8') : nameBytes.toString('latin1')
    pos += 46 + nameLen + extraLen + commentLen
    if (path.endsWith('/') && size === 0) continue // directory entry
    if (compressedSize === 0xffffffff || size === 0xffffffff || localOffset === 0xffffffff) {
      members.push({ path, compressedSize, size, undecodableReason: 'zip64 not supported' })
      continue
    }
    if (flags & 0x1) {
      members.push({ path, compressedSize, size, undecodableReason: 'encrypted' })
      continue
    }
    if (size > limits.maxMemberBytes || totalBytes + size > limits.maxTotalBytes) {
      members.push({ path, compressedSize, size, undecodableReason: 'exceeds size limit' })
      continue
    }
    if (size > 1024 * 1024 && size / Math.max(1, compressedSize) > limits.maxRatio) {
      members.push({ path, compressedSize, size, undecodableReason: 'exceeds compression ratio limit' })
      continue
    }
    const dataStart = localDataStart(buf, localOffset)
    if (dataStart < 0 || dataStart + compressedSize > buf.length) {
      members.push({ path, compressedSize, size, undecodableReason: 'corrupt zip member' })
      continue
    }
    const data = buf.subarray(dataStart, dataStart + compressedSize)
    let content: Buffer
    try {
      if (method === 0) content = Buffer.from(data)
      else if (method === 8) {
        // The declared size may lie: cap the output so a forged header cannot inflate past the limit.
        content = inflateRawSync(data, { maxOutputLength: Math.max(1, Math.min(limits.maxMemberBytes, size + 1)) })
      } else {
        members.push({ path, compressedSize, size, undecodableReason: `unsupported compression method ${method}` })
        continue
      }
    } catch {
      members.push({ path, compressedSize, size, undecodableReason: 'corrupt zip member' })
      continue
    }
    if (content.length !== size) {
      members.push({ path, compressedSize, size, undecodableReason: 'corrupt zip member: size mismatch' })
      continue
    }
    totalBytes += size
    members.push({ path, compressedSize, size, content })
  }
  return { members }
}

function findEocd(buf: Buffer): number {
  const min = Math.max(0, buf.length - 22 - 0xffff)
  for (let i = buf.length - 22; i >= min; i--) {
    if (buf.readUInt32LE(i) === EOCD_SIG) return i
  }
  return -1
}

function localDataStart(buf: Buffer, offset: number): number {
  if (offset + 30 > buf.length || buf.readUInt32LE(offset) !== LOC_SIG) return -1
  return offset + 30 + buf.readUInt16LE(offset + 26) + buf.readUInt16LE(offset + 28)
}
