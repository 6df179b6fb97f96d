// Header section validity (amavis check_header_validity): the BadHdr minor categories of spec §7.1.
import type { HeaderResult, ParsedMessage } from './check.ts'
import { addressList } from '../mime/fields.ts'
import { splitHeaderBody, splitLines } from '../mime/headers.ts'

export const BADH_MINOR = {
  MIME: 1,
  EIGHT_BIT: 2,
  CHAR: 3,
  SPACE: 4,
  LONG: 5,
  SYNTAX: 6,
  MISSING: 7,
  DUPL: 8,
} as const

/** Which tests run (amavis %allowed_header_tests); all default to true. */
export interface HeaderCheckOptions {
  /** The message came with SMTPUTF8: 8-bit header data is legitimate. */
  readonly smtputf8?: boolean
  readonly tests?: Partial<
    Record<'mime' | '8bit' | 'control' | 'empty' | 'long' | 'syntax' | 'missing' | 'multiple', boolean>
  >
}

export interface HeaderProblem {
  readonly minor: number
  readonly reason: string
}

/** Fields that may appear at most once (RFC 5322 §3.6), checked for duplicates as amavis does. */
export const UNIQUE_FIELDS = [
  'From',
  'Sender',
  'Reply-To',
  'To',
  'Cc',
  'Bcc',
  'Subject',
  'Date',
  'Message-ID',
  'In-Reply-To',
  'References',
] as const
export const REQUIRED_FIELDS = ['From', 'Date'] as const

/**
 * Checks the header section of `raw` (and the MIME problems `msg` collected while parsing).
 * `minor` is the highest BadHdr minor found (0 when clean) and `reason` the amavis-style text of
 * the first problem of that minor, e.g. `Duplicate header field: "Subject"`; `problems` lists all.
 */
export function checkHeaders(
  msg: ParsedMessage,
  raw: Buffer,
  opts: HeaderCheckOptions = {},
): HeaderResult & { problems: readonly HeaderProblem[] } {
  const on = (k: keyof NonNullable<HeaderCheckOptions['tests']>) => opts.tests?.[k] !== false
  const problems: HeaderProblem[] = []
  const counts = new Map<string, number>()
  const { headerBytes } = splitHeaderBody(raw)
  const lines = splitRawLines(headerBytes)

  // Group physical lines into fields, as amavis works on whole (folded) fields.
  const fields: { name?: string; lines: string[] }[] = []
  for (const line of lines) {
    if (/^[ \t]/.test(line) && fields.length) fields[fields.length - 1].lines.push(line)
    else fields.push({ name: /^([\x21-\x39\x3b-\x7e]+)[ \t]*:/.exec(line)?.[1], lines: [line] })
  }
  for (const f of fields) {
    const text = f.lines.join('\n')
    if (f.name) counts.set(f.name.toLowerCase(), (counts.get(f.name.toLowerCase()) ?? 0) + 1)
    let found: HeaderProblem | undefined
    const eight = /[\x80-\xff]/.exec(text)
    if (on('8bit') && !opts.smtputf8 && eight)
      found = { minor: 2, reason: `Non-encoded 8-bit data (char ${hex(eight[0])} hex): ${excerpt(text, eight.index)}` }
    // A CR is only legitimate as part of a CRLF line ending, which splitRawLines already removed.
    const ctl = /[\x00-\x08\x0b\x0c\x0d\x0e-\x1f\x7f]/.exec(text)
    if (!found && on('control') && ctl)
      found = {
        minor: 3,
        reason: `Improper use of control character (char ${hex(ctl[0])} hex): ${excerpt(text, ctl.index)}`,
      }
    const blank = f.lines.findIndex((l, i) => i > 0 && /^[ \t]+$/.test(l))
    if (!found && on('empty') && blank > 0)
      found = {
        minor: 4,
        reason: `Improper folded header field made up entirely of whitespace (char ${hex(f.lines[blank][0])} hex): ${excerpt(text, 0)}`,
      }
    if (!found && on('long') && f.lines.some((l) => l.length > 998))
      found = { minor: 5, reason: `Header line longer than 998 characters: ${excerpt(text, 0)}` }
    if (!found && on('syntax')) {
      if (!f.name) found = { minor: 6, reason: `Header field syntax error: ${excerpt(text, 0)}` }
      else {
        const bad = fieldSyntaxError(f.name, unfold(text))
        if (bad) found = { minor: 6, reason: `Header field syntax error (${bad}): ${excerpt(text, 0)}` }
      }
    }
    if (found) problems.push(found)
  }
  if (on('missing'))
    for (const name of REQUIRED_FIELDS)
      if (!counts.get(name.toLowerCase()))
        problems.push({ minor: 7, reason: `Missing required header field: "${name}"` })
  if (on('multiple'))
    for (const name of UNIQUE_FIELDS)
      if ((counts.get(name.toLowerCase()) ?? 0) > 1)
        problems.push({ minor: 8, reason: `Duplicate header field: "${name}"` })
  if (on('mime')) for (const p of msg.mimeProblems ?? []) problems.push({ minor: 1, reason: `MIME error: ${p}` })

  if (problems.length === 0) return { bad: false, minor: 0, problems }
  const minor = Math.max(...problems.map((p) => p.minor))
  return { bad: true, minor, reason: problems.find((p) => p.minor === minor)!.reason, problems }
}

function splitRawLines(headerBytes: Buffer): string[] {
  // Like splitLines, but only a CR directly before LF counts as a line ending.
  return splitLines(headerBytes)
}

function unfold(text: string): string {
  return text.replace(/\n(?=[ \t])/g, '')
}

function hex(ch: string): string {
  return ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')
}

/** Up to 60 characters of the field around `at`, control and 8-bit bytes as octal escapes (amavis style). */
function excerpt(text: string, at: number): string {
  const start = Math.max(0, at - 20)
  const s = text
    .slice(start, start + 60)
    .replace(/\n/g, ' ')
    .replace(/[\x00-\x1f\x7f-\xff]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`)
  return `${start > 0 ? '...' : ''}${s}${start + 60 < text.length ? '[...]' : ''}`
}

const DATE_RE =
  /^\s*(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)\s*,\s*)?\d{1,2}\s+(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\s+\d{2,4}\s+\d{1,2}:\d{2}(?::\d{2})?\s+(?:[+-]\d{4}|UT|GMT|[ECMP][SD]T|[A-IK-Za-ik-z])(?:\s*\([^()]*\))?\s*$/i

/** A short description of a syntax error in a well-known structured field, or undefined. */
function fieldSyntaxError(name: string, text: string): string | undefined {
  const value = text.slice(text.indexOf(':') + 1).trim()
  switch (name.toLowerCase()) {
    case 'date':
    case 'resent-date':
      return DATE_RE.test(value) ? undefined : 'bad date'
    case 'from':
    case 'sender':
    case 'reply-to':
    case 'to':
    case 'cc': {
      if (value === '' && name.toLowerCase() !== 'from') return undefined
      if (/^[^:]*:\s*;\s*$/.test(value) && name.toLowerCase() !== 'from') return undefined // empty group
      const addrs = addressList(value)
      if (addrs.length === 0) return 'no address'
      if ((value.match(/</g) ?? []).length !== (value.match(/>/g) ?? []).length) return 'unbalanced angle brackets'
      // A quoted local part may hold spaces and @: judge the address with quoted strings masked.
      const mask = (a: string) => a.replace(/"(?:[^"\\]|\\.)*"/g, 'q')
      const bad = addrs.find(
        (a) =>
          !/^[^@\s<>]+@[^@\s<>]+$/.test(mask(a)) && !(name.toLowerCase() !== 'from' && /^[^@\s<>]+$/.test(mask(a))),
      )
      return bad === undefined ? undefined : `bad address ${bad}`
    }
    default:
      return undefined
  }
}
