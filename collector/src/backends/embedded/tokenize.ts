// The embedded store's analyser for `text` fields, standing in for Lucene's standard analyzer
// (StandardTokenizer + LowerCaseFilter, no stop words), which the engines apply to the same
// fields. Built on Intl.Segmenter (ICU's UAX#29 word breaks), then shaped like Lucene's output:
//   - each Han ideograph and each Hiragana character is its own token (ICU would keep
//     dictionary words such as 日本語 together);
//   - a run of Thai/Lao/Khmer/Myanmar words is one token (StandardTokenizer does not split
//     South-East Asian scripts; ICU splits them by dictionary);
//   - emoji are tokens (StandardTokenizer's <EMOJI> type; ICU does not mark them word-like);
//   - tokens longer than 255 UTF-16 units are cut into 255-unit pieces (maxTokenLength).
// Residual differences, known and accepted: ICU and JFlex may disagree on rare Unicode-version
// edge cases (new scripts, some emoji sequences with modifiers, Katakana runs ICU splits by
// dictionary), and lower-casing is JS's full-string toLowerCase (Lucene lower-cases per code
// point: 'İ' gives 'i̇' here, 'i' there).

const segmenter = new Intl.Segmenter('und', { granularity: 'word' })

const SINGLE_CHAR_SCRIPTS = /[\p{Script=Han}\p{Script=Hiragana}]/u
const SOUTH_EAST_ASIAN = /^[\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}\p{M}]+$/u
const EMOJI = /\p{Extended_Pictographic}/u
const MAX_TOKEN_UNITS = 255

/** Position increment between the values of a multi-valued text field (ES position_increment_gap). */
export const POSITION_GAP = 100

export interface Token {
  readonly token: string
  readonly pos: number
}

/** Splits one value into lower-cased words, in order. Never throws; '' and punctuation give []. */
export function tokenize(text: string): string[] {
  const out: string[] = []
  let seaRun = ''
  let seaEnd = -1
  for (const seg of segmenter.segment(text)) {
    const s = seg.segment
    if (seaRun && seg.index !== seaEnd) {
      pushToken(out, seaRun)
      seaRun = ''
    }
    if (!seg.isWordLike) {
      if (EMOJI.test(s) && !/^\p{Nd}/u.test(s)) pushToken(out, s)
      continue
    }
    if (SOUTH_EAST_ASIAN.test(s)) {
      seaRun += s
      seaEnd = seg.index + s.length
      continue
    }
    if (SINGLE_CHAR_SCRIPTS.test(s)) splitSingleChars(out, s)
    else pushToken(out, s)
  }
  if (seaRun) pushToken(out, seaRun)
  return out
}

// A segment such as "日本語" or "東京tower" is cut so that each Han/Hiragana code point stands
// alone and the other characters keep their runs.
function splitSingleChars(out: string[], s: string): void {
  let run = ''
  for (const ch of s) {
    if (SINGLE_CHAR_SCRIPTS.test(ch)) {
      if (run) pushToken(out, run)
      run = ''
      out.push(ch)
    } else run += ch
  }
  if (run) pushToken(out, run)
}

function pushToken(out: string[], s: string): void {
  const lower = s.toLowerCase()
  for (let i = 0; i < lower.length; i += MAX_TOKEN_UNITS) out.push(lower.slice(i, i + MAX_TOKEN_UNITS))
}

/**
 * Tokens of every value of a (possibly multi-valued) field with Lucene positions: consecutive
 * within a value, POSITION_GAP apart between values, so a phrase never spans two values.
 */
export function tokenizeValues(values: readonly string[]): Token[] {
  const out: Token[] = []
  let next = 0
  for (const v of values) {
    const toks = tokenize(v)
    for (const t of toks) out.push({ token: t, pos: next++ })
    if (toks.length) next += POSITION_GAP
  }
  return out
}
