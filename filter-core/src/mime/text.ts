// Linear-time string trimming. Regexps like /\s+$/ are quadratic on long runs that do not reach
// the end of the string (V8 retries the run from every start position), and header values,
// reports and base64 bodies are attacker-controlled.

/** Removes trailing characters contained in `chars`. */
export function trimEndChars(s: string, chars: string): string {
  let end = s.length
  while (end > 0 && chars.includes(s[end - 1])) end--
  return end === s.length ? s : s.slice(0, end)
}

/** The part of `s` before the first occurrence of `ch` (all of `s` when absent). */
export function beforeChar(s: string, ch: string): string {
  const i = s.indexOf(ch)
  return i === -1 ? s : s.slice(0, i)
}
