// The Unchecked category (spec §7.1, major 7): content the scanners could not fully see.
// Amavis sets UncheckedEncrypted (7,1) for encrypted archive members, UncheckedOverLimits (7,2)
// when decoding stopped at a limit (nesting depth, part count, archive size or ratio), and
// UncheckedAmbiguousContent (7,3) for MIME headers that readers could interpret differently.
import type { MimePart, ParsedMessage } from './check.ts'

export interface UncheckedResult {
  readonly unchecked: boolean
  /** 1 encrypted, 2 over limits, 3 ambiguous content, 0 other decoding failure; the highest found. */
  readonly minor: number
  /** First reason of that minor, e.g. `p004 secret.txt: encrypted`. */
  readonly reason?: string
}

const OVER_LIMITS =
  /^(too deep|too many parts|too many (zip|tar) members|exceeds size limit|exceeds compression ratio limit)/

/** Minor category for one undecodable part's reason. */
export function uncheckedMinor(reason: string | undefined): number {
  if (reason === 'encrypted') return 1
  if (reason && OVER_LIMITS.test(reason)) return 2
  return 0
}

/**
 * Whether any part of the message escaped analysis, and why. Never throws. Ambiguity comes
 * from `msg.mimeProblems` (duplicate Content-Type / Content-Transfer-Encoding / Content-Disposition).
 */
export function checkUnchecked(msg: ParsedMessage): UncheckedResult {
  const found: { minor: number; reason: string }[] = []
  const walk = (p: MimePart) => {
    if (p.undecodable) {
      const name = p.declaredNames[0] ? ` ${p.declaredNames[0]}` : ''
      found.push({
        minor: uncheckedMinor(p.undecodableReason),
        reason: `${p.id}${name}: ${p.undecodableReason ?? 'undecodable'}`,
      })
    }
    for (const c of p.children) walk(c)
  }
  walk(msg.root)
  for (const p of msg.mimeProblems ?? []) if (/ambiguous content/.test(p)) found.push({ minor: 3, reason: p })
  if (found.length === 0) return { unchecked: false, minor: 0 }
  const minor = Math.max(...found.map((f) => f.minor))
  return { unchecked: true, minor, reason: found.find((f) => f.minor === minor)!.reason }
}
