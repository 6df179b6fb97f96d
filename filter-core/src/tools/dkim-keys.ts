// `vigil dkim genkey DOMAIN SELECTOR` and `vigil dkim showkeys [DOMAIN...]`: a signing key and the
// DNS TXT record that publishes it, printed as `amavisd showkeys` prints it (Amavis::Tools
// show_or_test_dkim_public_keys): a comment line, then `sel._domainkey.dom.<TAB>3600 TXT (` and
// the record as quoted strings, the public key split at 64 characters.
import { generateKeyPairSync, createPublicKey, type KeyObject } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { ErrorCode, VigilError } from '@vigil/protocol'
import type { FilterConfig } from '../config.ts'
import { signingKeys } from '../dkim/sign.ts'

/** The p= value: SPKI DER in base64 for RSA, the raw 32-byte key for Ed25519 (RFC 8463). */
export function publicKeyValue(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key
  const der = pub.export({ type: 'spki', format: 'der' })
  return (pub.asymmetricKeyType === 'ed25519' ? der.subarray(der.length - 32) : der).toString('base64')
}

export function keyBits(key: KeyObject): number {
  return key.asymmetricKeyType === 'ed25519' ? 256 : (key.asymmetricKeyDetails?.modulusLength ?? 0)
}

/** One key as `amavisd showkeys` prints it. */
export function formatTxtRecord(n: number, domain: string, selector: string, key: KeyObject, file?: string): string {
  const tags = key.asymmetricKeyType === 'ed25519' ? ['v=DKIM1', 'k=ed25519'] : ['v=DKIM1']
  const p = publicKeyValue(key)
  const chunks = [`${tags.join('; ')}; p=`, ...(p.match(/.{1,64}/g) ?? [])]
  return (
    `; key#${n} ${keyBits(key)} bits, s=${selector}, d=${domain}${file ? `, ${file}` : ''}\n` +
    `${selector}._domainkey.${domain}.\t3600 TXT (${chunks.map((c) => `\n  "${c}"`).join('')})\n`
  )
}

export interface GenkeyOptions {
  type?: 'rsa' | 'ed25519'
  bits?: number
  /** Where the private key goes (PEM, mode 0600; never overwritten). */
  keyFile: string
}

/** Generates and stores a key; returns the text to print (the TXT record and the dkim_keys entry). */
export function genkey(domain: string, selector: string, opts: GenkeyOptions): string {
  if (!/^[A-Za-z0-9.-]+$/.test(domain) || !/^[A-Za-z0-9._-]+$/.test(selector))
    throw new VigilError(ErrorCode.CONFIG_INVALID, `not a domain and selector: ${domain} ${selector}`)
  const type = opts.type ?? 'rsa'
  const pair =
    type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: opts.bits ?? 2048 }) : generateKeyPairSync('ed25519')
  mkdirSync(dirname(opts.keyFile), { recursive: true })
  try {
    writeFileSync(opts.keyFile, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' })
  } catch (e) {
    throw new VigilError(ErrorCode.CONFIG_INVALID, `cannot write ${opts.keyFile}: ${(e as Error).message}`)
  }
  return (
    formatTxtRecord(1, domain.toLowerCase(), selector, pair.privateKey, opts.keyFile) +
    `\n; vigil.yaml, filter.dkim_keys:\n;   - { domain: ${domain.toLowerCase()}, selector: ${selector}, key_file: ${opts.keyFile} }\n`
  )
}

/** The configured keys (all, or those of `domains`), as `amavisd showkeys`. */
export function showkeys(cfg: FilterConfig, domains: readonly string[] = []): string {
  const keys = signingKeys(cfg)
  if (!keys.length) return 'No DKIM private keys declared in a config file.\n'
  const want = domains.map((d) => d.toLowerCase())
  const out = keys
    .map((k, i) => ({ k, i }))
    .filter(
      ({ k }) =>
        !want.length ||
        want.some((d) => (d.startsWith('.') ? k.domain.endsWith(d) || k.domain === d.slice(1) : k.domain === d)),
    )
    .map(({ k, i }) => formatTxtRecord(i + 1, k.domain, k.selector, k.key, k.keyFile))
  return out.length ? out.join('\n') : 'No DKIM private keys match the selection list.\n'
}
