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
  // Intl.Segmenter costs ~10 µs per call even on short strings; most amavis values are ASCII.
  if (/^[\x00-\x7f]*$/.test(text)) return tokenizeAscii(text)
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

// UAX#29 word boundaries restricted to ASCII, equal to Intl.Segmenter's output on ASCII text
// (checked by a randomised test): letters, digits and '_' join (WB5, WB8–10, WB13a/b); ':' '.'
// and "'" join two letters (WB6/7); '.' ',' ';' and "'" join two digits (WB11/12). A lone '_'
// is not word-like for ICU, a run of two or more is.
const C = { Other: 0, Letter: 1, Digit: 2, Under: 3 } as const
const ASCII_CLASS = new Uint8Array(128)
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c)
  ASCII_CLASS[c] = /[A-Za-z]/.test(ch) ? C.Letter : /[0-9]/.test(ch) ? C.Digit : ch === '_' ? C.Under : C.Other
}
const MID_LETTER = new Set([0x3a, 0x2e, 0x27]) // : . '
const MID_NUM = new Set([0x2c, 0x3b, 0x2e, 0x27]) // , ; . '

function tokenizeAscii(text: string): string[] {
  const out: string[] = []
  const n = text.length
  let i = 0
  while (i < n) {
    if (ASCII_CLASS[text.charCodeAt(i)] === C.Other) {
      i++
      continue
    }
    let j = i + 1
    while (j < n) {
      const c = text.charCodeAt(j)
      if (ASCII_CLASS[c] !== C.Other) {
        j++
        continue
      }
      if (j + 1 >= n) break
      const prev = ASCII_CLASS[text.charCodeAt(j - 1)]
      const next = ASCII_CLASS[text.charCodeAt(j + 1)]
      if (
        (prev === C.Letter && next === C.Letter && MID_LETTER.has(c)) ||
        (prev === C.Digit && next === C.Digit && MID_NUM.has(c))
      )
        j += 2
      else break
    }
    if (!(j - i === 1 && text.charCodeAt(i) === 0x5f)) pushToken(out, text.slice(i, j))
    i = j
  }
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
