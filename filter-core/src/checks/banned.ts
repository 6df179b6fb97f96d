// Banned names and types (amavis $banned_filename_re). Each part is described by its declared
// MIME type, its detected type tags (`.exe`, `.exe-ms`) and its declared names. For every part,
// rules are tried in order against the descriptions of the part AND of all its ancestors (its
// path from the root); the first rule that matches any of them decides, deny or allow. So, as in
// amavis's sample config, a deny rule placed before `[ qr'^\.(rpm|cpio|tar)$' => 0 ]` blocks
// "anywhere", and deny rules after it do not apply inside Unix archives. A denied part is
// reported with its whole path, as amavis logs
// `BANNED (multipart/mixed | application/zip,.zip,a.zip | .exe,.exe-ms,virus.exe)`.
import type { BannedResult, BannedRules, MimePart, ParsedMessage } from './check.ts'
import { typeTags } from '../mime/detect-type.ts'

const RISKY_EXT = 'exe|com|pif|scr|bat|cmd|cpl|vbs|vbe|js|jse|wsf|wsh|lnk|hta|msi|reg|dll'

/** Amavis-like defaults: executable names, double extensions, Windows executable MIME types and file types. */
export const DEFAULT_BANNED_RULES: BannedRules = {
  rules: [
    // Blocked anywhere, even inside Unix archives: Windows executables by content.
    { pattern: '^\\.(exe-ms|dll)$' },
    // Anything else inside Unix-type archives is allowed.
    { pattern: '^\\.(rpm|cpio|tar)$', allow: true },
    // Double extensions anywhere in the name: invoice.pdf.exe
    { pattern: `\\.[^./]*\\.(${RISKY_EXT})\\.?$` },
    // Windows class id hidden in a name: file.{3050f4d8-98b5-11cf-bb82-00aa00bdce0b}
    { pattern: '\\{[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}\\}?' },
    { pattern: '^application/(x-msdownload|x-msdos-program|hta|x-ms-installer|x-dosexec)$' },
    { pattern: `.\\.(${RISKY_EXT})$` },
    { pattern: '^\\.(exe|exe-unix|elf)$' },
  ],
}

interface CompiledRule {
  readonly re: RegExp
  readonly allow: boolean
  readonly pattern: string
}

/** Compiles rules once (case-insensitive). Throws a SyntaxError naming the bad pattern. */
export function compileBannedRules(rules: BannedRules): readonly CompiledRule[] {
  return rules.rules.map((r) => {
    try {
      return { re: new RegExp(r.pattern, 'i'), allow: r.allow === true, pattern: r.pattern }
    } catch (err) {
      throw new SyntaxError(`Invalid banned rule pattern ${JSON.stringify(r.pattern)}: ${(err as Error).message}`)
    }
  })
}

/** The strings a part is judged by, in amavis order: declared MIME type, type tags, declared names. */
export function partAttributes(p: MimePart): string[] {
  const out: string[] = []
  if (p.declaredType && !p.archiveMember) out.push(p.declaredType)
  out.push(...typeTags(p.detectedType))
  out.push(...p.declaredNames)
  return out
}

/**
 * Returns `banned: true` with amavis's short reason for the first (depth-first) denied part;
 * `banned: false` when no part is denied. Names inside zip archives count. Never throws for a
 * valid rule set; pass compiled rules from `compileBannedRules` to avoid recompiling per message.
 */
export function checkBanned(
  msg: ParsedMessage,
  rules: BannedRules | readonly CompiledRule[] = DEFAULT_BANNED_RULES,
): BannedResult & { partId?: string; rule?: string } {
  const compiled = Array.isArray(rules) ? (rules as readonly CompiledRule[]) : compileBannedRules(rules as BannedRules)
  const path: string[][] = []
  const visit = (p: MimePart): (BannedResult & { partId?: string; rule?: string }) | undefined => {
    path.push(partAttributes(p))
    try {
      const rule = compiled.find((r) => path.some((attrs) => attrs.some((a) => r.re.test(a))))
      if (rule && !rule.allow)
        return {
          banned: true,
          reason: path
            .map((attrs) => attrs.join(','))
            .filter((d) => d !== '')
            .join(' | '),
          partId: p.id,
          rule: rule.pattern,
        }
      for (const c of p.children) {
        const r = visit(c)
        if (r) return r
      }
      return undefined
    } finally {
      path.pop()
    }
  }
  return visit(msg.root) ?? { banned: false }
}
