// `node:net` for the browser: only isIP, which the shared Lucene parser uses (vite.config.ts aliases it).
const V4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/

function isV6(s: string): boolean {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || !s.includes(':')) return false
  let head = s
  let groupsFromV4 = 0
  const lastColon = s.lastIndexOf(':')
  const tail = s.slice(lastColon + 1)
  if (tail.includes('.')) {
    if (!V4.test(tail)) return false
    head = s.slice(0, lastColon + 1) + '0:0'
    groupsFromV4 = 0
  }
  const halves = head.split('::')
  if (halves.length > 2) return false
  const parts = (h: string) => (h === '' ? [] : h.split(':'))
  const groups = halves.map(parts)
  if (groups.some((g) => g.some((x) => !/^[0-9a-fA-F]{1,4}$/.test(x)))) return false
  const n = groups.reduce((a, g) => a + g.length, 0) + groupsFromV4
  return halves.length === 2 ? n < 8 : n === 8
}

export function isIP(s: string): 0 | 4 | 6 {
  if (V4.test(s)) return 4
  return isV6(s) ? 6 : 0
}
export function isIPv4(s: string): boolean {
  return isIP(s) === 4
}
export function isIPv6(s: string): boolean {
  return isIP(s) === 6
}
