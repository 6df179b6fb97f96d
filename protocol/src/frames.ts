// The amavis ZMQ wire records (spec §2): parsed once at the edge into a typed union, and
// formatted byte for byte as amavis 2.13 writes them. Pure: no sockets here.
import { WIRE_TYPES, type WireType } from './counters.ts'
import { isAbsoluteTime } from './time.ts'

export type TimeField = { kind: 'abs'; secs: number; raw: string } | { kind: 'rel'; ms: number; raw: string }

export type Frame =
  | { topic: 'am.st'; pid: number; time: TimeField; state: string; taskId?: string }
  | { topic: 'am.snmp' | 'am.nanny'; name: string; type: WireType | '?'; value: string }
  | { topic: 'am.snmp' | 'am.nanny'; name: 'FLUSH'; type?: undefined; value?: undefined }
  | { topic: 'am.proc.busy' | 'am.proc.idle'; pids: number[] }

export interface ParseError {
  readonly error: string
  readonly frame: string
}

export function isParseError(x: Frame | ParseError): x is ParseError {
  return (x as ParseError).error !== undefined
}

const utf8 = new TextDecoder('utf-8', { fatal: false })
/** Upper bound on a single record; anything longer is counted as malformed (a 1 MB frame is not amavis). */
export const MAX_FRAME_BYTES = 64 * 1024

/** Perl's `split(' ', $s, $limit)`: skips leading whitespace, splits on whitespace runs. */
export function perlSplit(s: string, limit = 0): string[] {
  const out: string[] = []
  let i = 0
  const n = s.length
  while (i < n && /\s/.test(s[i])) i++
  while (i < n) {
    if (limit > 0 && out.length === limit - 1) {
      out.push(s.slice(i))
      return out
    }
    let j = i
    while (j < n && !/\s/.test(s[j])) j++
    out.push(s.slice(i, j))
    i = j
    if (i < n) {
      i++
      while (i < n && /\s/.test(s[i])) i++
      if (i >= n && limit > 0 && out.length === limit - 1) out.push('')
    }
  }
  return out
}

/** Parses one record. Never throws: a malformed record yields a ParseError naming the problem. */
export function parseFrame(bytes: Uint8Array | string): Frame | ParseError {
  const len = typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.length
  const text = typeof bytes === 'string' ? bytes : utf8.decode(bytes)
  const head = text.length > 80 ? text.slice(0, 80) + '…' : text
  if (len > MAX_FRAME_BYTES) return { error: `frame of ${len} bytes exceeds ${MAX_FRAME_BYTES}`, frame: head }
  const bad = (error: string): ParseError => ({ error, frame: head })
  const f = perlSplit(text)
  const topic = f[0]
  switch (topic) {
    case 'am.st': {
      if (f.length < 4) return bad('am.st needs pid, time and state')
      if (!/^\d+$/.test(f[1])) return bad('am.st pid is not a number')
      if (!/^\d+(\.\d*)?$/.test(f[2])) return bad('am.st time is not a number')
      const v = Number(f[2])
      const time: TimeField = isAbsoluteTime(v)
        ? { kind: 'abs', secs: v, raw: f[2] }
        : { kind: 'rel', ms: v, raw: f[2] }
      const state = f[3] === '-' ? ' ' : f[3]
      const frame: Frame = { topic, pid: Number(f[1]), time, state }
      if (f.length > 4) frame.taskId = f[4]
      return frame
    }
    case 'am.snmp':
    case 'am.nanny': {
      const p = perlSplit(text, 4)
      if (p[1] === 'FLUSH') return { topic, name: 'FLUSH' }
      if (p.length < 4) return bad(`${topic} needs name, type and value`)
      const type = p[2]
      if (type !== '?' && !(WIRE_TYPES as readonly string[]).includes(type)) return bad(`${topic} unknown type ${type}`)
      return { topic, name: p[1], type: type as WireType | '?', value: p[3] }
    }
    case 'am.proc.busy':
    case 'am.proc.idle': {
      const pids: number[] = []
      for (const x of f.slice(1)) {
        if (!/^\d+$/.test(x)) return bad(`${topic} pid is not a number`)
        pids.push(Number(x))
      }
      return { topic, pids }
    }
    default:
      return bad(`unknown topic ${JSON.stringify(topic ?? '')}`)
  }
}

/** Parses every frame of one multi-part ZMQ message. */
export function parseMessage(parts: readonly (Uint8Array | string)[]): { frames: Frame[]; errors: ParseError[] } {
  const frames: Frame[] = []
  const errors: ParseError[] = []
  for (const p of parts) {
    const r = parseFrame(p)
    if (isParseError(r)) errors.push(r)
    else frames.push(r)
  }
  return { frames, errors }
}

/** `am.st <pid> <time> <state> [<task_id>]`; the blank state travels as `-`. */
export function formatStateFrame(pid: number, time: string, state: string, taskId?: string): string {
  const s = state === ' ' || state === '' ? '-' : state
  return taskId ? `am.st ${pid} ${time} ${s} ${taskId}` : `am.st ${pid} ${time} ${s}`
}

/** `am.snmp <name> <type> <value>` (or `am.nanny …`). */
export function formatSnmpFrame(
  topic: 'am.snmp' | 'am.nanny',
  name: string,
  type: string,
  value: string | number,
): string {
  return `${topic} ${name} ${type} ${value}`
}

/** `am.proc.busy 4307 4308`; an empty list still carries the trailing space (spec §2.5). */
export function formatProcList(topic: 'am.proc.busy' | 'am.proc.idle', pids: Iterable<number>): string {
  return `${topic} ${[...pids].sort((a, b) => a - b).join(' ')}`
}
