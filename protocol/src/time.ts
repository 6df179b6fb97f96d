// amavis timestamps (spec §2.1): absolute `%014.3f` seconds or relative integer milliseconds.

/** Formats Unix seconds as amavis's `%014.3f`, e.g. `1700000100.005`. */
export function formatAbsTime(unixSecs: number): string {
  return unixSecs.toFixed(3).padStart(14, '0')
}

/** Formats the milliseconds since `baseSecs` as amavis does: `int(dt*1000+0.5)`, clamped to ≥ 0. */
export function formatRelTime(nowSecs: number, baseSecs: number): string {
  const ms = Math.floor((nowSecs - baseSecs) * 1000 + 0.5)
  return String(ms < 0 ? 0 : ms)
}

/** Receivers' rule: a value above 1e9 is absolute seconds, otherwise relative ms (spec §8.1). */
export function isAbsoluteTime(value: number): boolean {
  return value > 1e9
}

/** Perl `%.3f`-style formatting that keeps trailing zeros, as amavis's JSON numbers. */
export function fixed3(n: number): string {
  const s = n.toFixed(3)
  return s === '-0.000' ? '0.000' : s
}
