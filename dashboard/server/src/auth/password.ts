// Password hashing: node:crypto scrypt, stored as `scrypt$N$r$p$salt$hash` (salt and hash base64).
// New hashes use N = 2^log_n (17 by default, the OWASP minimum: ~0.7 s on a small box), r = 8,
// p = 1; verification always uses the parameters stored with the hash, so lowering the cost for
// tests (dashboard.auth.scrypt_log_n) never weakens or breaks existing hashes. Passwords are
// NFC-normalised first (the same password typed on two keyboards hashes alike), compared with
// timingSafeEqual.
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto'

const R = 8
const P = 1
const KEY_LEN = 32
const SALT_LEN = 16
/** 256 MiB: 128·N·r bytes for N = 2^17 is 128 MiB, and Node's default cap (32 MiB) is too small. */
const MAXMEM = 256 * 1024 * 1024

function scrypt(password: string, salt: Buffer, keyLen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCb(password, salt, keyLen, opts, (err, key) => (err ? reject(err) : resolve(key))),
  )
}

export async function hashPassword(password: string, logN = 17): Promise<string> {
  const N = 2 ** logN
  const salt = randomBytes(SALT_LEN)
  const key = await scrypt(password.normalize('NFC'), salt, KEY_LEN, { N, r: R, p: P, maxmem: MAXMEM })
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`
}

/** True when `password` matches `stored`; false for a wrong password or a malformed/unknown hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$')
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false
  const [N, r, p] = parts.slice(1, 4).map(Number)
  if (
    ![N, r, p].every((n) => Number.isSafeInteger(n) && n > 0) ||
    (N & (N - 1)) !== 0 ||
    N > 2 ** 20 ||
    r > 32 ||
    p > 16
  )
    return false
  const salt = Buffer.from(parts[4], 'base64')
  const expected = Buffer.from(parts[5], 'base64')
  if (expected.length < 16) return false
  const key = await scrypt(password.normalize('NFC'), salt, expected.length, {
    N,
    r,
    p,
    maxmem: Math.max(MAXMEM, 129 * N * r * p),
  })
  return timingSafeEqual(key, expected)
}

/** A random password for the first admin: 20 characters from an unambiguous alphabet (~115 bits). */
export function generatePassword(length = 20): string {
  const alphabet = 'abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789'
  const out: string[] = []
  // Rejection sampling keeps the distribution uniform.
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      if (b < 256 - (256 % alphabet.length) && out.length < length) out.push(alphabet[b % alphabet.length])
    }
  }
  return out.join('')
}

/** A hash to verify against when the user does not exist, so unknown names take as long as known ones. */
let dummy: Promise<string> | undefined
export function dummyHash(logN: number): Promise<string> {
  dummy ??= hashPassword(generatePassword(), logN)
  return dummy
}
