// Date values of Lucene queries on `date` fields, resolved to epoch ms by the parser so that every
// backend compares plain numbers: ISO 8601 dates and date-times, epoch ms, and Elasticsearch's
// date math (`now`, `now-1h`, `now+5m`, `now/d`, `2024-01-31||+1M/d`), always in UTC.
//
// Rounding follows Elasticsearch's range semantics, so a query means the same whether the engine
// or Vigil resolves it: a bound that must include the whole of a unit rounds up to the unit's
// last millisecond (`lte now/d` = through the end of today, `gt now/d` = after today), one that
// must exclude it rounds down. A plain ISO value with missing components, rounded up, is taken to
// the end of its precision (`lte 2024-01-31` includes all of that day). ES differs on one rare
// form: for `yyyy-MM` it rounds up to the first day of the month at 23:59:59.999 (its documented
// "missing date components" rule); we go to the end of the month, which is what users mean.

export type DateRounding = 'down' | 'up'

const FIXED_UNIT_MS: Readonly<Record<string, number>> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  H: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
}

// YYYY[-MM[-DD[THH[:mm[:ss[.fff]]]]]][Z|±HH[:]MM]; a zone only after a time, as strict_date_optional_time.
const ISO =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:[Tt](\d{2})(?::(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?)?)?)?$/
const MATH_OP = /^(?:([+-])(\d+)([yMwdhHms])|\/([yMwdhHms]))/

/**
 * Epoch ms of a date expression, rounded as `round` says, or undefined when the text is not a
 * date (the caller turns that into a QueryError at the value's span). Never throws.
 */
export function resolveDateMath(text: string, nowMs: number, round: DateRounding): number | undefined {
  let anchor: number | undefined
  let math: string
  if (text.startsWith('now')) {
    anchor = nowMs
    math = text.slice(3)
  } else {
    const bar = text.indexOf('||')
    if (bar < 0) return parseAnchor(text, round)
    anchor = parseAnchor(text.slice(0, bar), 'down')
    math = text.slice(bar + 2)
  }
  if (anchor === undefined) return undefined
  return applyMath(anchor, math, round)
}

// Four digits alone are a year (strict_date_optional_time is tried before epoch_millis); any
// other run of digits is epoch ms.
function parseAnchor(text: string, round: DateRounding): number | undefined {
  if (/^-?\d+$/.test(text) && !/^\d{4}$/.test(text)) {
    const ms = Number(text)
    return Number.isSafeInteger(ms) ? ms : undefined
  }
  return parseIso(text, round)
}

function parseIso(text: string, round: DateRounding): number | undefined {
  const m = ISO.exec(text)
  if (!m) return undefined
  const [, y, mo, d, h, mi, s, frac, zone] = m
  const year = Number(y)
  const month = mo === undefined ? 1 : Number(mo)
  const day = d === undefined ? 1 : Number(d)
  const hour = h === undefined ? 0 : Number(h)
  const minute = mi === undefined ? 0 : Number(mi)
  const second = s === undefined ? 0 : Number(s)
  const ms = frac === undefined ? 0 : Number(frac.slice(0, 3).padEnd(3, '0'))
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month - 1)) return undefined
  if (hour > 23 || minute > 59 || second > 59) return undefined
  let t = utc(year, month - 1, day, hour, minute, second, ms)
  if (round === 'up' && frac === undefined) t = endOfPrecision(t, precisionOf(mo, d, h, mi, s))
  return t - zoneOffsetMs(zone)
}

type Precision = 'y' | 'M' | 'd' | 'h' | 'm' | 's'

function precisionOf(...parts: (string | undefined)[]): Precision {
  const order: Precision[] = ['y', 'M', 'd', 'h', 'm', 's']
  const given = parts.findIndex((p) => p === undefined)
  return given < 0 ? 's' : order[given]
}

function endOfPrecision(t: number, p: Precision): number {
  return addUnit(roundDown(t, p), p, 1) - 1
}

function zoneOffsetMs(zone: string | undefined): number {
  if (!zone || zone === 'Z' || zone === 'z') return 0
  const sign = zone[0] === '-' ? -1 : 1
  const digits = zone.slice(1).replace(':', '')
  const hours = Number(digits.slice(0, 2))
  const minutes = digits.length > 2 ? Number(digits.slice(2, 4)) : 0
  return sign * (hours * 60 + minutes) * 60_000
}

function applyMath(anchor: number, math: string, round: DateRounding): number | undefined {
  let t = anchor
  let rest = math
  while (rest) {
    const m = MATH_OP.exec(rest)
    if (!m) return undefined
    rest = rest.slice(m[0].length)
    if (m[4]) {
      const unit = m[4] === 'H' ? 'h' : (m[4] as Precision | 'w')
      t = round === 'up' ? addUnit(roundDown(t, unit), unit, 1) - 1 : roundDown(t, unit)
    } else {
      const n = Number(m[2]) * (m[1] === '-' ? -1 : 1)
      t = addUnit(t, m[3] === 'H' ? 'h' : (m[3] as Precision | 'w'), n)
    }
    if (!Number.isFinite(t)) return undefined
  }
  return t
}

function addUnit(t: number, unit: Precision | 'w', n: number): number {
  if (unit === 'y') return addMonths(t, 12 * n)
  if (unit === 'M') return addMonths(t, n)
  return t + n * FIXED_UNIT_MS[unit]
}

// Java's plusMonths: the day of month is clamped (Jan 31 + 1M = Feb 28/29), never overflows.
function addMonths(t: number, n: number): number {
  const d = new Date(t)
  const total = d.getUTCFullYear() * 12 + d.getUTCMonth() + n
  const year = Math.floor(total / 12)
  const month = total - year * 12
  const day = Math.min(d.getUTCDate(), daysInMonth(year, month))
  return utc(year, month, day, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds())
}

// Weeks start on Monday (ISO 8601, as the engines round `/w`).
function roundDown(t: number, unit: Precision | 'w'): number {
  const d = new Date(t)
  const y = d.getUTCFullYear()
  switch (unit) {
    case 'y':
      return utc(y, 0, 1)
    case 'M':
      return utc(y, d.getUTCMonth(), 1)
    case 'w': {
      const day = Math.floor(t / 86_400_000) * 86_400_000
      const sinceMonday = (d.getUTCDay() + 6) % 7
      return day - sinceMonday * 86_400_000
    }
    default: {
      const unitMs = FIXED_UNIT_MS[unit]
      return Math.floor(t / unitMs) * unitMs
    }
  }
}

// Date.UTC would map the years 0–99 to 1900–1999; setUTCFullYear does not.
function utc(year: number, month0: number, day: number, h = 0, mi = 0, s = 0, ms = 0): number {
  const d = new Date(0)
  d.setUTCFullYear(year, month0, day)
  d.setUTCHours(h, mi, s, ms)
  return d.getTime()
}

function daysInMonth(year: number, month0: number): number {
  return new Date(utc(year, month0 + 1, 0)).getUTCDate()
}
