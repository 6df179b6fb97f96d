// Local gzip file quarantine (amavis quarantine method `local:<ccat>-%m.gz`, quar_type `Z`).
// Files are written to a temporary name in the target directory, optionally fsynced, and
// renamed into place, so a reader never sees a partial file and a crash leaves no half-quarantine.
import { createReadStream, createWriteStream } from 'node:fs'
import { link, mkdir, open, readdir, readFile, rm } from 'node:fs/promises'
import { join, posix } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { randomBytes } from 'node:crypto'
import { createGzip, gunzipSync } from 'node:zlib'
import { CC, ErrorCode, VigilError, type Ccat } from '@vigil/protocol'

export interface QuarantineOptions {
  /** $QUARANTINEDIR. Created on first use. */
  readonly dir: string
  /** Hashed subdirectory levels by the first characters of mail_id (amavis $quarantine_subdir_levels; 0 or 1). */
  readonly subdirLevels?: 0 | 1
  /** fsync the file and its directory before reporting success. */
  readonly fsync?: boolean
}

export interface QuarantineMeta {
  /** Blocking content category; names the file (`spam-`, `virus-`, `banned-`, `badh-`, …). */
  readonly ccat: Ccat | number
  /** Envelope sender, without angle brackets ('' for the null sender). */
  readonly sender?: string
  readonly recipients?: readonly string[]
}

export interface StoredQuarantine {
  /** Path relative to the quarantine dir (the JSON `quarantine` field). */
  readonly location: string
  /** The JSON `quar_type`: `Z` for a gzipped file. */
  readonly type: 'Z'
}

export interface Quarantine {
  /** Stores one message (bytes, or a path to read it from). Throws VigilError(QUARANTINE_FAILED). */
  store(mailId: string, raw: Buffer | string, meta: QuarantineMeta): Promise<StoredQuarantine>
  /** Returns the stored message (with the envelope headers added on store). Throws VigilError(RELEASE_NOT_FOUND). */
  read(mailId: string): Promise<Buffer>
  /** The location of a stored message, or undefined. */
  find(mailId: string): Promise<string | undefined>
}

const MAIL_ID_RE = /^[A-Za-z0-9_+-]{1,64}$/

/** Amavis's file name prefix for a blocking category. */
export function quarantinePrefix(ccat: Ccat | number): string {
  const major = typeof ccat === 'number' ? ccat : ccat.major
  switch (major) {
    case CC.VIRUS:
      return 'virus'
    case CC.BANNED:
      return 'banned'
    case CC.SPAM:
    case CC.SPAMMY:
      return 'spam'
    case CC.BADH:
      return 'badh'
    case CC.UNCHECKED:
      return 'unchecked'
    case CC.OVERSIZED:
      return 'oversized'
    case CC.MTA:
      return 'mta'
    case CC.CLEAN:
      return 'clean'
    default:
      return 'other'
  }
}

/** Header lines prepended to a quarantined message, as amavis does for file quarantines. */
export function quarantineHeaders(mailId: string, meta: QuarantineMeta): string {
  const clean = (s: string) => s.replace(/[\r\n<>]/g, '')
  const lines: string[] = []
  if (meta.sender !== undefined) lines.push(`X-Envelope-From: <${clean(meta.sender)}>`)
  for (const r of meta.recipients ?? []) lines.push(`X-Envelope-To: <${clean(r)}>`)
  lines.push(`X-Quarantine-ID: <${mailId}>`)
  return lines.join('\n') + '\n'
}

export function createQuarantine(opts: QuarantineOptions): Quarantine {
  const levels = opts.subdirLevels ?? 1
  const subdirOf = (mailId: string) => (levels === 1 ? mailId[0] : '')
  const checkId = (mailId: string, code: typeof ErrorCode.QUARANTINE_FAILED | typeof ErrorCode.RELEASE_NOT_FOUND) => {
    if (!MAIL_ID_RE.test(mailId)) throw new VigilError(code, `Invalid mail_id ${JSON.stringify(mailId)}.`)
  }

  const find = async (mailId: string): Promise<string | undefined> => {
    checkId(mailId, ErrorCode.RELEASE_NOT_FOUND)
    const sub = subdirOf(mailId)
    let names: string[]
    try {
      names = await readdir(join(opts.dir, sub))
    } catch {
      return undefined
    }
    const hit = names.find((n) => n.endsWith(`-${mailId}.gz`) && /^[a-z]+-/.test(n))
    return hit === undefined ? undefined : sub ? posix.join(sub, hit) : hit
  }

  return {
    find,
    async store(mailId, raw, meta) {
      checkId(mailId, ErrorCode.QUARANTINE_FAILED)
      const sub = subdirOf(mailId)
      const name = `${quarantinePrefix(meta.ccat)}-${mailId}.gz`
      const dir = join(opts.dir, sub)
      const final = join(dir, name)
      const tmp = join(dir, `.tmp-${name}-${randomBytes(6).toString('hex')}`)
      try {
        await mkdir(dir, { recursive: true, mode: 0o750 })
        const source =
          typeof raw === 'string'
            ? Readable.from(
                (async function* () {
                  yield Buffer.from(quarantineHeaders(mailId, meta))
                  yield* createReadStream(raw)
                })(),
              )
            : Readable.from([Buffer.from(quarantineHeaders(mailId, meta)), raw])
        // `flush` fsyncs the file before it is closed.
        await pipeline(
          source,
          createGzip(),
          createWriteStream(tmp, { flags: 'wx', mode: 0o640, flush: opts.fsync === true }),
        )
        // A mail_id collision must never overwrite an earlier quarantine: link() fails if `final`
        // exists (atomically), and the lookup catches the same id under another category prefix.
        if ((await find(mailId)) !== undefined) throw new Error(`mail_id ${mailId} is already quarantined`)
        await link(tmp, final)
        await rm(tmp, { force: true })
        if (opts.fsync) {
          const dh = await open(dir, 'r')
          try {
            await dh.sync()
          } finally {
            await dh.close()
          }
        }
      } catch (err) {
        await rm(tmp, { force: true }).catch(() => {})
        throw new VigilError(
          ErrorCode.QUARANTINE_FAILED,
          `Quarantine of ${mailId} in ${opts.dir} failed: ${(err as Error).message}.`,
          {
            cause: err,
          },
        )
      }
      return { location: sub ? posix.join(sub, name) : name, type: 'Z' }
    },
    async read(mailId) {
      const location = await find(mailId)
      if (location === undefined)
        throw new VigilError(
          ErrorCode.RELEASE_NOT_FOUND,
          `No quarantined message with mail_id ${mailId} in ${opts.dir}.`,
        )
      try {
        return gunzipSync(await readFile(join(opts.dir, location)))
      } catch (err) {
        throw new VigilError(
          ErrorCode.QUARANTINE_FAILED,
          `Cannot read quarantined ${location}: ${(err as Error).message}.`,
          {
            cause: err,
          },
        )
      }
    },
  }
}
