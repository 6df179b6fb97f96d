// A list of regular expressions (amavis Amavis::Lookup::RE, `new_RE`, README.lookups "REGULAR
// EXPRESSION LOOKUPS"): the whole unmodified key is matched against each expression in turn,
// the first match wins, and its result (1 unless the entry gives one) may reference the
// captures as $1, ${1} or $(1). No implicit anchoring and no implicit case folding.
import {
  type LookupValue,
  type LookupTable,
  type ProblemSink,
  substituteCaptures,
  tableOf,
  throwOnProblem,
} from './table.ts'

/**
 * One entry as the config writes it: `'/^(.*)@example\.com$/i'` (result 1), a pair
 * `['/re/i', result]`, or `{ re: '^(.*)@example\\.com$', flags: 'i', value: result }`.
 * A null result is amavis's undef: the match stops this table and the next table is asked.
 */
export type RegexpEntry<T = LookupValue> =
  string | readonly [string, T | null] | { readonly re: string; readonly flags?: string; readonly value?: T | null }

interface Compiled<T> {
  readonly source: string
  readonly re: RegExp
  readonly value: T | null
}

/**
 * Compiles a Perl-style expression for JavaScript: `/…/flags` or a bare pattern, a leading
 * `(?i)`-style modifier group becomes flags, `\A`, `\z`, `\Z` become lookarounds. Throws a
 * SyntaxError naming the problem for anything JavaScript cannot take as written.
 */
export function compilePerlRegexp(text: string, flags0 = ''): RegExp {
  const slashed = /^\/([\s\S]*)\/([a-z]*)$/.exec(text)
  let pattern = slashed ? slashed[1] : text
  let flags = slashed ? flags0 + slashed[2] : flags0
  const inline = /^\(\?([a-z]+)\)/.exec(pattern)
  if (inline) {
    flags += inline[1]
    pattern = pattern.slice(inline[0].length)
  }
  const unique = [...new Set(flags)]
  const bad = unique.filter((f) => !'ims'.includes(f))
  if (bad.length) throw new SyntaxError(`unsupported regular expression flag(s) ${bad.join('')} (allowed: i, m, s)`)
  return new RegExp(translateAnchors(pattern), unique.join(''))
}

function translateAnchors(p: string): string {
  let out = ''
  for (let i = 0; i < p.length; i++) {
    const c = p[i]
    if (c !== '\\' || i + 1 >= p.length) {
      out += c
      continue
    }
    const n = p[++i]
    if (n === 'A') out += '(?<![\\s\\S])'
    else if (n === 'z') out += '(?![\\s\\S])'
    else if (n === 'Z') out += '(?=\\n?(?![\\s\\S]))'
    else out += c + n
  }
  return out
}

/** Builds the table; a bad expression is reported at its index and left out (by default: throws CONFIG_INVALID). */
export function createRegexpTable<T = LookupValue>(
  entries: readonly RegexpEntry<T>[],
  report: ProblemSink = throwOnProblem,
): LookupTable<T | true> {
  const list: Compiled<T | true>[] = []
  entries.forEach((e, i) => {
    const [text, flags, value, path] =
      typeof e === 'string'
        ? [e, '', true as const, [i]]
        : Array.isArray(e)
          ? [e[0] as string, '', e[1] as T | null, [i, 0]]
          : [
              (e as { re: string }).re,
              (e as { flags?: string }).flags ?? '',
              (e as { value?: T | null }).value,
              [i, 're'],
            ]
    try {
      list.push({ source: text, re: compilePerlRegexp(text, flags), value: value === undefined ? true : value })
    } catch (err) {
      report(path, `bad regular expression ${JSON.stringify(text)}: ${(err as Error).message}`)
    }
  })
  return tableOf('re', (key) => {
    for (const c of list) {
      const m = c.re.exec(key)
      if (!m) continue
      return { key: c.source, value: c.value === null ? undefined : substituteCaptures(c.value, m.slice(1)) }
    }
    return undefined
  })
}
