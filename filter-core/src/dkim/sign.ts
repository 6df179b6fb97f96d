// DKIM signing of originating mail, amavis's dkim_make_signatures: which key and options, and the
// signature itself (mailauth's signer does the canonicalisation and the crypto).
//
// Choosing: the candidate originators are the From: addresses, then Sender:, then the envelope
// sender (amavis also tries Resent-From/Resent-Sender between them). For each, the first matching
// @dkim_signature_options_bysender_maps entry gives the options (catch-all: c=relaxed/simple,
// a=rsa-sha256), d= defaults to the address's domain, and the first dkim_keys entry with that
// domain (and selector s=, if given) and key type (rsa for rsa-sha256, ed25519 for
// ed25519-sha256) signs. Nothing is signed when no address finds a key, nor when a valid
// signature by the same domain is already there.
import { createPrivateKey, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { ErrorCode, VigilError } from '@vigil/protocol'
import type { DkimSignatureOptions, FilterConfig } from '../config.ts'
import type { LookupTable } from '../lookup/table.ts'
import { signedHeaderFields } from './signed-headers.ts'

export interface SigningKey {
  domain: string
  selector: string
  keyFile: string
  key: KeyObject
  type: 'rsa' | 'ed25519'
  /** PKCS#8 PEM, the form mailauth's signer takes. */
  pem: string
  options?: DkimSignatureOptions
}

const keysByConfig = new WeakMap<FilterConfig, SigningKey[]>()

/** The dkim_keys entries with their private keys, read once per configuration (a bad file throws CONFIG_INVALID). */
export function signingKeys(cfg: FilterConfig): SigningKey[] {
  let keys = keysByConfig.get(cfg)
  if (keys) return keys
  keys = cfg.dkim_keys.map((k) => {
    let key: KeyObject
    try {
      key = createPrivateKey(readFileSync(k.key_file))
    } catch (e) {
      throw new VigilError(
        ErrorCode.CONFIG_INVALID,
        `dkim_keys: cannot load the key of ${k.selector}._domainkey.${k.domain} from ${k.key_file}: ${(e as Error).message}`,
      )
    }
    const type = key.asymmetricKeyType
    if (type !== 'rsa' && type !== 'ed25519')
      throw new VigilError(ErrorCode.CONFIG_INVALID, `dkim_keys: ${k.key_file} is a ${type} key, not RSA or Ed25519`)
    const pem = key.export({ type: 'pkcs8', format: 'pem' }).toString()
    return {
      domain: k.domain.toLowerCase(),
      selector: k.selector,
      keyFile: k.key_file,
      key,
      type,
      pem,
      options: k.options,
    }
  })
  keysByConfig.set(cfg, keys)
  return keys
}

export interface SignPlan {
  key: SigningKey
  d: string
  s: string
  c: NonNullable<DkimSignatureOptions['c']>
  a: NonNullable<DkimSignatureOptions['a']>
  ttl?: number
  /** Which candidate chose the key ('From', 'Sender', 'mail_from') and its address. */
  source: string
  address: string
}

export interface Originators {
  from: readonly string[]
  senderHdr?: string
  envSender: string
  /** Domains of valid signatures already on the message. */
  validDomains: readonly string[]
}

const domainOf = (a: string) => a.slice(a.lastIndexOf('@') + 1).toLowerCase()

/** amavis's choice of signing key and options, or undefined (with why) when nothing is signed. */
export function planSignature(
  who: Originators,
  keys: readonly SigningKey[],
  optionsBySender: LookupTable<DkimSignatureOptions>,
): { plan?: SignPlan; why?: string } {
  const seen = new Set<string>()
  const candidates = [
    ...who.from.map((a) => ['From', a]),
    ['Sender', who.senderHdr ?? ''],
    ['mail_from', who.envSender],
  ].filter(([, a]) => a.includes('@') && !seen.has(a) && !!seen.add(a))
  const tried: string[] = []
  for (const [source, address] of candidates) {
    const o: DkimSignatureOptions = { ...(optionsBySender.lookup(address) ?? {}) }
    const d = (o.d ?? domainOf(address)).toLowerCase()
    const a = o.a ?? 'rsa-sha256'
    tried.push(d)
    const key = keys.find(
      (k) => k.domain === d && (!o.s || k.selector === o.s) && k.type === (a === 'ed25519-sha256' ? 'ed25519' : 'rsa'),
    )
    if (!key) continue
    if (who.validDomains.includes(d)) return { why: `already signed by domain ${d}` }
    const ko = key.options ?? {}
    return {
      plan: { key, d, s: key.selector, c: o.c ?? ko.c ?? 'relaxed/simple', a, ttl: o.ttl ?? ko.ttl, source, address },
    }
  }
  return { why: `no applicable private key for domains ${[...new Set(tried)].join(', ') || '(none)'}` }
}

/** The DKIM-Signature field (with its CRLF) for `message`, as it is forwarded. */
export async function signMessage(
  message: Buffer,
  plan: SignPlan,
  cfg: FilterConfig,
  headerNames: readonly string[],
  rxTime: number,
): Promise<string> {
  const t = Math.floor(rxTime)
  const { dkimSign } = await import('./mailauth.ts')
  const out = await dkimSign(message, {
    canonicalization: plan.c,
    signTime: new Date(t * 1000),
    expires: plan.ttl ? new Date(Math.ceil(rxTime + plan.ttl) * 1000) : undefined,
    headerList: signedHeaderFields(headerNames, cfg.signed_header_fields).join(':'),
    signatureData: [{ signingDomain: plan.d, selector: plan.s, privateKey: plan.key.pem, algorithm: plan.a }],
  })
  if (out.errors?.length) throw out.errors[0].err
  return out.signatures
}
