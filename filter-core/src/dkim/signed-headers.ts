// amavis's %signed_header_fields (Amavis::Conf): the RFC 6376 set plus the fields amavis adds,
// Sender/To/Cc/Resent-To/Resent-Cc off by default (a list manager replaces Sender; long address
// lists get mangled), and From/Date/Subject/Content-Type at 2 (amavis signs one extra, empty
// instance so a second one cannot be prepended; mailauth cannot, so 2 signs as 1 here:
// docs/adr/0013-dkim.md). `signed_header_fields` in the config overrides single names, e.g.
// { sender: 1 } for the talk's "sign Sender too".
const SIGN = `From Sender Reply-To Subject Date Message-ID To Cc In-Reply-To References MIME-Version
  Content-Type Content-Transfer-Encoding Content-ID Content-Description Resent-Date Resent-From
  Resent-Sender Resent-To Resent-Cc Resent-Message-ID List-Id List-Post List-Owner List-Subscribe
  List-Unsubscribe List-Help List-Archive Received Precedence Original-Message-ID Message-Context
  PICS-Label Sensitivity Solicitation Content-Location Content-Features Content-Disposition
  Content-Language Content-Alternative Content-Base Content-MD5 Content-Duration Content-Class
  Accept-Language Auto-Submitted Archived-At VBR-Info Organization Organisation User-Agent X-Mailer`

export const DEFAULT_SIGNED_HEADER_FIELDS: Readonly<Record<string, 0 | 1 | 2>> = Object.freeze({
  ...Object.fromEntries(SIGN.split(/\s+/).map((n) => [n.toLowerCase(), 1 as const])),
  ...Object.fromEntries(['sender', 'to', 'cc', 'resent-to', 'resent-cc'].map((n) => [n, 0 as const])),
  ...Object.fromEntries(['from', 'date', 'subject', 'content-type'].map((n) => [n, 2 as const])),
})

/** The names (lower case, once each, in header order) of the present fields to be signed. */
export function signedHeaderFields(
  present: readonly string[],
  overrides: Readonly<Record<string, number>> = {},
): string[] {
  const out: string[] = []
  for (const n0 of present) {
    const n = n0.toLowerCase()
    const v = overrides[n] ?? DEFAULT_SIGNED_HEADER_FIELDS[n] ?? 0
    if (v > 0 && !out.includes(n)) out.push(n)
  }
  return out
}
