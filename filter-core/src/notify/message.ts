// Small helpers for composing notification messages: RFC 5322 dates, RFC 2047 header words,
// and header-safe values. Output uses CRLF line endings (SMTP wire form).

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

/** RFC 5322 date in UTC: `Mon, 01 Jan 2024 10:00:00 +0000`. */
export function rfc5322Date(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0')
  return `${DAYS[d.getUTCDay()]}, ${p(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`
}

/** Encodes a header text as RFC 2047 UTF-8 B-words when it is not plain printable ASCII; strips CR/LF. */
export function encodeHeaderText(text: string): string {
  const s = text.replace(/[\r\n]+/g, ' ')
  if (/^[\x20-\x7e]*$/.test(s)) return s
  // Split on whole characters so no encoded word exceeds 75 characters or cuts a UTF-8 sequence.
  const words: string[] = []
  let cur = ''
  for (const ch of s) {
    if (Buffer.byteLength(cur + ch) > 45) {
      words.push(cur)
      cur = ''
    }
    cur += ch
  }
  if (cur) words.push(cur)
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w).toString('base64')}?=`).join(' ')
}

/** An address for a header or envelope, without CR/LF or angle brackets. */
export function safeAddress(addr: string): string {
  return addr.replace(/[\r\n<>]/g, '')
}

/** Joins lines with CRLF, converting any LF-only line ends inside them too. */
export function crlf(lines: readonly string[]): string {
  return lines.join('\n').replace(/\r?\n/g, '\r\n')
}

/** Folds long header lines at spaces to stay under 78 characters where possible. */
export function foldHeader(line: string): string {
  if (line.length <= 78) return line
  const out: string[] = []
  let cur = ''
  for (const word of line.split(' ')) {
    if (cur && cur.length + 1 + word.length > 76) {
      out.push(cur)
      cur = ' ' + word
    } else cur = cur ? `${cur} ${word}` : word
  }
  out.push(cur)
  return out.join('\n')
}
