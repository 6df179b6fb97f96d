// gzip and tar readers for the MIME tree (zip lives in zip.ts). Same result shape and limits as
// readZip: problems become `error` or per-member reasons, never exceptions.
import { gunzipSync } from 'node:zlib'
import { trimEndChars } from './text.ts'
import { DEFAULT_ZIP_LIMITS, type ZipLimits, type ZipMember, type ZipReadResult } from './zip.ts'

/**
 * Decompresses a gzip file (all members). The single member is named by the gzip FNAME field,
 * else by `fallbackName` without its `.gz`/`.tgz` suffix (`.tgz` becomes `.tar`).
 */
export function readGzip(
  buf: Buffer,
  fallbackName: string | undefined,
  limits: ZipLimits = DEFAULT_ZIP_LIMITS,
): ZipReadResult {
  if (buf.length < 18 || buf[0] !== 0x1f || buf[1] !== 0x8b) return { members: [], error: 'corrupt gzip' }
  if (buf[2] !== 8) return { members: [], error: `unsupported gzip method ${buf[2]}` }
  const flags = buf[3]
  let pos = 10
  if (flags & 4) pos += 2 + buf.readUInt16LE(Math.min(pos, buf.length - 2))
  let name: string | undefined
  if (flags & 8) {
    const end = buf.indexOf(0, pos)
    if (end === -1) return { members: [], error: 'corrupt gzip' }
    name = buf.subarray(pos, end).toString('latin1')
  }
  if (!name) {
    const base = (fallbackName ?? '').replace(/^.*[/\\]/, '')
    name = /\.tgz$/i.test(base) ? base.replace(/\.tgz$/i, '.tar') : base.replace(/\.gz$/i, '') || 'unnamed'
  }
  // The ISIZE trailer is only the size modulo 2^32 and is easily forged: cap the output instead,
  // by the size limits and by the compression ratio (above 1 MiB).
  const sizeCap = Math.min(limits.maxMemberBytes, limits.maxTotalBytes)
  const ratioCap = Math.max(1024 * 1024, buf.length * limits.maxRatio)
  const cap = Math.max(1, Math.min(sizeCap, ratioCap))
  try {
    const content = gunzipSync(buf, { maxOutputLength: cap })
    return { members: [{ path: name, compressedSize: buf.length, size: content.length, content }] }
  } catch (err) {
    const tooLarge = (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE'
    const reason = !tooLarge
      ? 'corrupt gzip'
      : cap === sizeCap
        ? 'exceeds size limit'
        : 'exceeds compression ratio limit'
    return { members: [{ path: name, compressedSize: buf.length, size: 0, undecodableReason: reason }] }
  }
}

function octal(buf: Buffer, off: number, len: number): number {
  const s = buf
    .subarray(off, off + len)
    .toString('latin1')
    .replace(/\0.*$/s, '')
    .trim()
  return s === '' ? 0 : /^[0-7]+$/.test(s) ? parseInt(s, 8) : NaN
}

function cstring(buf: Buffer, off: number, len: number): string {
  const b = buf.subarray(off, off + len)
  const end = b.indexOf(0)
  return (end === -1 ? b : b.subarray(0, end)).toString('utf8')
}

/** Lists regular files of a tar archive (ustar, GNU long names, pax `path`); verifies header checksums. */
export function readTar(buf: Buffer, limits: ZipLimits = DEFAULT_ZIP_LIMITS): ZipReadResult {
  const members: ZipMember[] = []
  let pos = 0
  let total = 0
  let longName: string | undefined
  while (pos + 512 <= buf.length) {
    const h = buf.subarray(pos, pos + 512)
    if (h.every((b) => b === 0)) break
    let sum = 0
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]
    if (octal(h, 148, 8) !== sum) return { members, error: 'corrupt tar: bad header checksum' }
    const size = octal(h, 124, 12)
    if (!Number.isFinite(size)) return { members, error: 'corrupt tar: bad size' }
    const type = String.fromCharCode(h[156] || 0x30)
    const prefix = h.subarray(257, 262).toString('latin1') === 'ustar' ? cstring(h, 345, 155) : ''
    const dataStart = pos + 512
    const data = buf.subarray(dataStart, Math.min(buf.length, dataStart + size))
    pos = dataStart + Math.ceil(size / 512) * 512
    if (type === 'L') {
      longName = trimEndChars(data.toString('utf8'), '\0')
      continue
    }
    if (type === 'x') {
      const m = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data.toString('utf8'))
      if (m) longName = m[1]
      continue
    }
    const path = longName ?? (prefix ? `${prefix}/${cstring(h, 0, 100)}` : cstring(h, 0, 100))
    longName = undefined
    if (type !== '0' && type !== '7') continue // directories, links, devices: no content
    if (members.length >= limits.maxMembers) return { members, error: `too many tar members` }
    if (data.length < size) {
      members.push({ path, compressedSize: size, size, undecodableReason: 'corrupt tar member: truncated' })
      break
    }
    if (size > limits.maxMemberBytes || total + size > limits.maxTotalBytes) {
      members.push({ path, compressedSize: size, size, undecodableReason: 'exceeds size limit' })
      continue
    }
    total += size
    members.push({ path, compressedSize: size, size, content: Buffer.from(data) })
  }
  return { members }
}
