// The Authentication-Results field body amavis adds for local recipients
// (Amavis::DKIM::generate_authentication_results): one field with every signature's result,
// `dkim=<RFC 7601 value> (<bits>-bit key)`, the Mail::DKIM detail as reason="…" when it says more,
// header.d=, and header.b= (first 8 characters of b=) when there are several signatures.
import type { DkimSignature } from './verify.ts'

export function authenticationResults(authservId: string, sigs: readonly DkimSignature[]): string | undefined {
  if (!sigs.length) return undefined
  const all = new Map<string, number>()
  const valid = new Set<string>()
  const first8 = new Map<string, number>()
  for (const s of sigs) {
    all.set(s.b, (all.get(s.b) ?? 0) + 1)
    first8.set(s.b.slice(0, 8), (first8.get(s.b.slice(0, 8)) ?? 0) + 1)
    if (s.result === 'pass') valid.add(s.b)
  }
  let out = ''
  for (const s of sigs) {
    if (s.result !== 'pass' && all.get(s.b)! > 1 && valid.has(s.b)) continue // a bad duplicate of a good one
    const bits = s.keyBits ?? (s.algorithm.startsWith('ed25519') && s.result === 'pass' ? 256 : undefined)
    let str = `;\n dkim=${s.authResult}${bits ? ` (${bits}-bit key)` : ''}`
    if (s.detail && s.detail.toLowerCase() !== s.authResult)
      str += `\n reason="${s.result} (${s.detail.replace(/[\x00-\x1f\x7f"\\]/g, (c) => `\\${c}`)})"`
    str += `\n header.d=${s.domain}`
    if (sigs.length > 1 && /^[A-Za-z0-9+/]+=*$/.test(s.b) && first8.get(s.b.slice(0, 8))! <= all.get(s.b)!)
      str += `\n header.b="${s.b.slice(0, 8)}"`
    out += str
  }
  return `${authservId} (amavis)${out}`.replace(/\n/g, '\r\n')
}
