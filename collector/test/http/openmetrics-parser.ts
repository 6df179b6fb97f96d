// A strict OpenMetrics 1.0 text parser for tests: throws on anything the spec does not allow
// that our exposition could get wrong (family grouping, suffixes, units, labels, # EOF).
import assert from 'node:assert/strict'

export interface Family {
  type: string
  unit?: string
  help?: string
  samples: { name: string; labels: Record<string, string>; value: number }[]
}

/** Parses OpenMetrics text strictly; throws on anything the spec does not allow. */
export function parseOpenMetrics(text: string): Map<string, Family> {
  assert.ok(text.endsWith('# EOF\n'), 'ends with # EOF and a newline')
  const lines = text.slice(0, -'# EOF\n'.length).split('\n')
  assert.equal(lines.pop(), '', 'every line ends with a newline')
  const families = new Map<string, Family>()
  const closed = new Set<string>()
  let current: string | undefined
  const seen = new Set<string>()
  const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*'
  for (const line of lines) {
    const meta = new RegExp(`^# (TYPE|UNIT|HELP) (${NAME}) (.*)$`).exec(line)
    if (meta) {
      const [, kind, name, rest] = meta
      if (current !== name) {
        if (current) closed.add(current)
        assert.ok(!closed.has(name) && !families.has(name), `family ${name} is not interleaved or repeated`)
        current = name
        families.set(name, { type: 'unknown', samples: [] })
      }
      const f = families.get(name)!
      if (kind === 'TYPE') {
        assert.match(rest, /^(counter|gauge|histogram|info|summary|stateset|gaugehistogram|unknown)$/)
        assert.equal(f.samples.length, 0, `TYPE of ${name} before its samples`)
        f.type = rest
      } else if (kind === 'UNIT') {
        assert.ok(name.endsWith(`_${rest}`), `family ${name} ends with its unit ${rest}`)
        f.unit = rest
      } else f.help = rest
      continue
    }
    assert.ok(!line.startsWith('#'), `unexpected comment ${line}`)
    const m = new RegExp(`^(${NAME})(\\{(.*)\\})? (\\S+)$`).exec(line)
    assert.ok(m, `sample line syntax: ${line}`)
    const [, sname, , lbl, v] = m
    assert.ok(current && sname.startsWith(current), `sample ${sname} belongs to the current family ${current}`)
    const f = families.get(current)!
    const suffix = sname.slice(current.length)
    const allowed: Record<string, string[]> = {
      counter: ['_total', '_created'],
      gauge: [''],
      info: ['_info'],
      histogram: ['_bucket', '_count', '_sum', '_created'],
    }
    assert.ok(allowed[f.type]?.includes(suffix), `suffix "${suffix}" allowed for ${f.type} ${current}`)
    const labels: Record<string, string> = {}
    if (lbl) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\[\\"n])*)"(,|$)/y
      let pos = 0
      while (pos < lbl.length) {
        re.lastIndex = pos
        const lm = re.exec(lbl)
        assert.ok(lm, `label syntax in ${line}`)
        labels[lm[1]] = lm[2]
        pos = re.lastIndex
      }
    }
    assert.match(v, /^([+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|[+-]Inf|NaN)$/, `number ${v}`)
    const key = `${sname}${JSON.stringify(Object.entries(labels).sort())}`
    assert.ok(!seen.has(key), `duplicate sample ${key}`)
    seen.add(key)
    if (f.type === 'counter' && suffix === '_total') assert.ok(Number(v) >= 0, 'counter is not negative')
    f.samples.push({ name: sname, labels, value: Number(v) })
  }
  return families
}
