// DKIM verification of one message (mailauth does the canonicalisation and the crypto), with
// each signature's result put in the words amavis uses: Mail::DKIM's result and result_detail
// (pass, fail, invalid, temperror: what amavis logs and decides on) and the RFC 7601 value
// amavis writes into Authentication-Results (Amavis::DKIM::generate_authentication_results).
// The author match is amavis's collect_some_dkim_info: a valid, unexpired signature whose d=
// equals the domain of a From: address is an author domain signature (dkim_author_sig).
import { createPublicKey } from 'node:crypto'
import type { DnsResolver } from '../dns/resolver.ts'

interface MailauthResult {
  signingDomain?: string
  selector?: string
  signature?: string
  algo?: string
  format?: string
  modulusLength?: number
  status: { result: string; comment?: string; header?: { i?: string | false } }
}

/** Mail::DKIM's result of one signature. */
export type DkimResult = 'pass' | 'fail' | 'invalid' | 'temperror'
/** RFC 7601 dkim= values, mapped from DkimResult as amavis maps them. */
export type AuthResult = 'pass' | 'fail' | 'neutral' | 'temperror' | 'permerror'

export interface DkimSignature {
  /** d= (lower case). */
  domain: string
  /** s=. */
  selector: string
  /** a=, e.g. rsa-sha256, ed25519-sha256. */
  algorithm: string
  /** c=, e.g. relaxed/simple. */
  canonicalization: string
  result: DkimResult
  /** Mail::DKIM's result detail in its words ('body has been altered', 'public key: not available'). */
  detail?: string
  /** What amavis writes as dkim= in Authentication-Results. */
  authResult: AuthResult
  /** Size of the public key in bits, when it was fetched. */
  keyBits?: number
  /** b= (the signature data), for A-R header.b. */
  b: string
  /** d= equals the domain of a From: address / of Sender: (or the first From:) / of the envelope sender. */
  author: boolean
  sender: boolean
  envSender: boolean
}

export interface VerifyOptions {
  resolver: DnsResolver
  /** Envelope sender ('' for the null sender). */
  envSender: string
  /** From: addresses, in header order. */
  from: readonly string[]
  /** Sender: address, if any. */
  senderHdr?: string
  /** Verification time, seconds (rx_time). */
  now: number
}

const AUTH_RESULT: Record<DkimResult, AuthResult> = {
  pass: 'pass',
  fail: 'fail',
  invalid: 'neutral', // amavis: `$sig_result eq 'invalid' ? 'neutral'`
  temperror: 'temperror',
}

function domainOf(addr: string | undefined): string | undefined {
  const at = addr?.lastIndexOf('@') ?? -1
  return at < 0 ? undefined : addr!.slice(at + 1).toLowerCase()
}

/** Mail::DKIM's result and detail for a mailauth status. */
function classify(r: MailauthResult): { result: DkimResult; detail?: string } {
  const { result, comment = '' } = r.status
  if (result === 'pass') return { result: 'pass' }
  if (result === 'temperror') return { result: 'temperror', detail: `public key: ${comment || 'DNS failure'}` }
  if (result === 'fail')
    return { result: 'fail', detail: /^rsa/i.test(r.algo ?? '') ? 'bad RSA signature' : 'bad signature' }
  if (comment === 'body hash did not verify') return { result: 'fail', detail: 'body has been altered' }
  if (comment === 'no key') return { result: 'invalid', detail: 'public key: not available' }
  if (comment === 'expired' || comment === 'invalid expiration')
    return { result: 'invalid', detail: 'signature is expired' }
  if (result === 'policy') return { result: 'invalid', detail: 'public key: key too short' }
  if (/key/.test(comment)) return { result: 'invalid', detail: `public key: ${comment}` }
  return { result: 'invalid', detail: comment || undefined }
}

/** Size in bits of a signature's published key; undefined when there is none (or DNS fails). */
async function keyBits(resolver: DnsResolver, r: MailauthResult): Promise<number | undefined> {
  if (r.status.result === 'temperror' || r.status.comment === 'no key') return undefined
  try {
    const txt = (await resolver.resolveTxt(`${r.selector}._domainkey.${r.signingDomain}`))[0]?.join('') ?? ''
    const p = /(?:^|;)\s*p=([A-Za-z0-9+/=\s]+)/.exec(txt)?.[1].replace(/\s+/g, '')
    if (!p) return undefined
    if (/\bk=ed25519\b/.test(txt)) return 256
    const key = createPublicKey({ key: Buffer.from(p, 'base64'), format: 'der', type: 'spki' })
    return key.asymmetricKeyDetails?.modulusLength
  } catch {
    return undefined
  }
}

/** Verifies every DKIM-Signature of `raw`; [] when there is none. Never rejects for a message problem. */
export async function verifyMessage(raw: Buffer, opts: VerifyOptions): Promise<DkimSignature[]> {
  const resolver = async (name: string, type: string) => {
    if (type !== 'TXT') throw Object.assign(new Error(`unsupported type ${type}`), { code: 'ENOTIMP' })
    return opts.resolver.resolveTxt(name)
  }
  // Loaded on the first signed message: a worker that sees none never runs mailauth's modules.
  const { dkimVerify } = await import('./mailauth.ts')
  const out = (await dkimVerify(raw, {
    resolver,
    sender: opts.envSender || undefined,
    curTime: new Date(opts.now * 1000),
    // Short keys are amavis's decision (dkim_minimum_key_bits), not the verifier's.
    minBitLength: 512,
  })) as { results: MailauthResult[] }
  // Mail::DKIM fetches the key of every signature; mailauth not when the body hash differs.
  // amavis reports the key size in either case, so fetch it (from the resolver's cache, mostly).
  const results = out.results.filter((r) => r.status.result !== 'none' && r.signingDomain).slice(0, 50) // amavis: "Too many DKIM or DK signatures, truncating to 50"
  const bits = await Promise.all(
    results.map((r) => (r.modulusLength || !r.signingDomain ? r.modulusLength : keyBits(opts.resolver, r))),
  )
  const fromDomains = opts.from.map(domainOf)
  const senderDomain = domainOf(opts.senderHdr ?? opts.from[0])
  const envDomain = domainOf(opts.envSender)
  return results.map((r, i) => {
    const domain = r.signingDomain!.toLowerCase()
    const { result, detail } = classify(r)
    return {
      domain,
      selector: r.selector ?? '',
      algorithm: r.algo ?? '',
      canonicalization: r.format ?? 'simple/simple',
      result,
      detail,
      authResult: AUTH_RESULT[result],
      keyBits: bits[i],
      b: (r.signature ?? '').replace(/\s+/g, ''),
      author: fromDomains.includes(domain),
      sender: senderDomain === domain,
      envSender: envDomain === domain,
    }
  })
}
