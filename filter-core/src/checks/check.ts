// The contract between the filter's pipeline (filter-core/src/pipeline/) and the content
// analysis modules in this folder and in mime/. The pipeline owns ordering, process states,
// timeouts, bypass_* settings, categories and destinies; a check only analyses and reports.
// A check MUST NOT swallow its own failures: it throws (a VigilError with code CHECK_FAILED or
// CHECK_TIMEOUT) and the pipeline turns that into a tempfail, unless configured otherwise.

/** One leaf or container of the decoded MIME tree, including members of archives. */
export interface MimePart {
  /** Position in the tree, amavis style: `p001`, `p002`, … in depth-first order. */
  readonly id: string
  /** Declared Content-Type (lower-cased, without parameters), e.g. `application/zip`. */
  readonly declaredType?: string
  /** Declared file names (Content-Disposition filename / Content-Type name, RFC 2231/2047 decoded). */
  readonly declaredNames: readonly string[]
  /** Short type detected from the content's magic bytes, amavis style: `asc`, `html`, `zip`, `exe`, `pdf`, `gif`, … */
  readonly detectedType?: string
  /** Decoded content (transfer encoding removed); absent for multipart containers. */
  readonly content?: Buffer
  /** Children: MIME sub-parts, or members of an archive (zip) with their paths as declaredNames. */
  readonly children: readonly MimePart[]
  /** True when the part could not be fully decoded (bad encoding, encrypted or broken archive). */
  readonly undecodable?: boolean
  /** Reason for `undecodable`, e.g. `encrypted`, `corrupt zip`, `too deep`. */
  readonly undecodableReason?: string
  /** Amavis placement path (`L=` in banned reasons): `1` for the root, `1/2` for its second child, … */
  readonly placement?: string
  /** True for a member extracted from an archive (zip) rather than a MIME part. */
  readonly archiveMember?: boolean
}

export interface ParsedMessage {
  /** Raw header block as received (unfolded lines available through `headers`). */
  readonly headerBytes: Buffer
  /** Header fields in order, name as written, value unfolded and raw (not RFC 2047 decoded). */
  readonly headers: readonly { readonly name: string; readonly value: string }[]
  readonly root: MimePart
  /** Every leaf part (depth-first), including archive members. */
  readonly leaves: readonly MimePart[]
  /** Decoded, unfolded, trimmed Subject (RFC 2047 decoded). */
  readonly subject?: string
  readonly messageId?: string
  /** MD5 hex of the body (everything after the header block). */
  readonly bodyDigest: string
  /** MIME structure problems found while parsing (missing boundary, bad base64, …); used by checkHeaders. */
  readonly mimeProblems?: readonly string[]
}

export interface VirusResult {
  readonly scanner: string // e.g. 'ClamAV-clamd'
  readonly infected: boolean
  readonly virusNames: readonly string[]
}
export interface VirusScanner {
  readonly name: string
  /** Scans every leaf part; resolves with the combined result. Throws on any failure or on abort. */
  scan(message: ParsedMessage, signal: AbortSignal): Promise<VirusResult>
}

export interface SpamTest {
  readonly name: string
  readonly score: number
}
export interface SpamResult {
  readonly score: number
  readonly requiredScore: number
  readonly tests: readonly SpamTest[]
  /** SpamAssassin's text report (for X-Spam-Report). */
  readonly report: string
  readonly autolearn?: string
}
export interface SpamScanner {
  readonly name: string
  /** Scores the whole raw message. Throws on failure or abort. */
  check(raw: Buffer, opts: { user?: string; signal: AbortSignal }): Promise<SpamResult>
}

export interface BannedRules {
  /** Case-insensitive regexps (amavis $banned_filename_re style) matched against names, `.type` and `.ext`. */
  readonly rules: readonly { readonly pattern: string; readonly allow?: boolean }[]
}
export interface BannedResult {
  readonly banned: boolean
  /** Short reason, amavis style, e.g. `.exe,.exe-ms,virus.exe` or `P=p003,L=1/2,M=application/zip,T=zip,N=a.zip | .exe`. */
  readonly reason?: string
}

/** Bad-header findings; `minor` is the BadHdr minor category (spec §7.1): 1 Mime … 8 Dupl. */
export interface HeaderResult {
  readonly bad: boolean
  readonly minor: number
  readonly reason?: string
}
