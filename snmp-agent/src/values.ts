// Turns a responder value (`am.snmp <name> <type> <value>`, stored as text) into the AgentX varbind
// its MIB object is served as, with the conversions of amavisd-snmp-subagent-zmq (spec §4.2):
//   sysUpTime      INT <unix start>  → TimeTicks int((now − start)·100)
//   TimeElapsed*   C32 cumulative ms → Integer32 (TimeInterval) int((ms+5)/10) centiseconds
//   Counter32      running total     → total mod 2^32 (the responder sums without wrapping)
//   Counter64      running total     → exact BigInt mod 2^64
//   strings        UTF-8 octets; a missing value is 0 or "" (never invented)
import type { CounterDef } from '@vigil/protocol'
import { parseOid, VarType, type Oid, type VarBind } from './agentx/pdu.ts'

export interface StoredValue {
  /** Wire type as the responder reported it (`C32`, `INT`, `?` …). */
  readonly type: string
  readonly value: string
}

const TWO_32 = 1n << 32n
const TWO_64 = 1n << 64n
const INT32_MAX = 2147483647n
const INT32_MIN = -2147483648n

/**
 * Parses a responder number exactly. Integers in decimal are read as BigInt (so a Counter64 above
 * 2^53 stays exact); anything else Perl may print (`1.5`, `1.84467440737096e+19`) is truncated
 * towards zero. Returns undefined for text that is not a number (`?`, ``, `abc`).
 */
export function parseWireInteger(text: string): bigint | undefined {
  const s = text.trim()
  if (/^[+-]?\d+$/.test(s)) return BigInt(s)
  if (s === '' || !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return undefined
  const n = Number(s)
  if (!Number.isFinite(n)) return undefined
  return BigInt(Math.trunc(n))
}

function mod(v: bigint, m: bigint): bigint {
  const r = v % m
  return r < 0n ? r + m : r
}
function clamp(v: bigint, lo: bigint, hi: bigint): bigint {
  return v < lo ? lo : v > hi ? hi : v
}

/** Counter32 as net-snmp encodes a Perl total: the low 32 bits. */
export function toCounter32(total: bigint): number {
  return Number(mod(total, TWO_32))
}
export function toCounter64(total: bigint): bigint {
  return mod(total, TWO_64)
}
/** Gauges cannot wrap meaningfully: a negative value is served as 0 and a huge one as 2^32−1. */
export function toGauge32(v: bigint): number {
  return Number(clamp(v, 0n, TWO_32 - 1n))
}
export function toInteger32(v: bigint): number {
  return Number(clamp(v, INT32_MIN, INT32_MAX))
}
/**
 * TimeElapsed* milliseconds → TimeInterval centiseconds, `int((ms+5)/10)` exactly as the zmq
 * subagent rounds. The cumulative value exceeds Integer32 after ~248 days of summed processing
 * time; it then wraps modulo 2^31 so pollers computing a rate see a counter wrap, not a negative.
 */
export function msToCentiseconds(ms: bigint): number {
  const cs = (ms + 5n) / 10n
  return Number(mod(cs, 1n << 31n))
}
/** sysUpTime: `INT <unix start>` → hundredths of a second since then, as TimeTicks (mod 2^32). */
export function upTimeTicks(startUnixSecs: bigint, nowMs: number): number {
  const ticks = (BigInt(Math.floor(nowMs)) - startUnixSecs * 1000n) / 10n
  return ticks < 0n ? 0 : Number(mod(ticks, TWO_32))
}

/** Builds the varbind for one MIB object from its stored value (undefined when the responder never sent it). */
export function toVarBind(def: CounterDef, oid: Oid, stored: StoredValue | undefined, nowMs: number): VarBind {
  const known = stored && stored.type !== '?' ? stored : undefined
  if (def.syntax === 'DisplayString') {
    return { type: VarType.OctetString, oid, value: Buffer.from(known?.value ?? '', 'utf8') }
  }
  if (def.syntax === 'OBJECT IDENTIFIER') {
    let value: number[] = []
    try {
      value = known?.value ? parseOid(known.value.trim()) : []
    } catch {
      value = []
    }
    return { type: VarType.ObjectIdentifier, oid, value }
  }
  const n = known ? (parseWireInteger(known.value) ?? 0n) : 0n
  switch (def.syntax) {
    case 'TimeTicks':
      // amavis sends sysUpTime as INT <unix time of start>; a TIM value is already in ticks.
      if (!known) return { type: VarType.TimeTicks, oid, value: 0 }
      if (known.type === 'TIM') return { type: VarType.TimeTicks, oid, value: toCounter32(n) }
      return { type: VarType.TimeTicks, oid, value: upTimeTicks(n, nowMs) }
    case 'TimeInterval':
      return { type: VarType.Integer, oid, value: msToCentiseconds(n < 0n ? 0n : n) }
    case 'Counter32':
      return { type: VarType.Counter32, oid, value: toCounter32(n) }
    case 'Counter64':
      return { type: VarType.Counter64, oid, value: toCounter64(n) }
    case 'Gauge32':
      return { type: VarType.Gauge32, oid, value: toGauge32(n) }
    case 'Integer32':
      return { type: VarType.Integer, oid, value: toInteger32(n) }
  }
  return { type: VarType.Null, oid, value: null }
}
