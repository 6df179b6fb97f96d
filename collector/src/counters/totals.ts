// snmp-responder's variable store (spec §2.7), kept per source host so that one host's FLUSH
// resets only that host's contribution. Answers are the aggregate: increments (C32/C64/TIM)
// summed over hosts, other values taken from the local host when it has one, else from the
// first remote host that does. Pure: no sockets, files or timers.
import { AMAVIS_ENTERPRISE_OID, COUNTERS, DELTA_TYPES, isNannyName, type WireType } from '@vigil/protocol'

/** One stored variable: its wire type and value; `undefined` value is amavis's "? ?". */
export interface Variable {
  type: WireType | '?'
  value: string | number | undefined
}

export type VarMap = Map<string, Variable>

export interface TotalsSnapshot {
  version: 1
  savedAt: number
  /** The responder's own start (its initial sysUpTime), kept so that uptime continues across restarts. */
  responderStart?: number
  hosts: Record<string, Record<string, [string, string | number | null]>>
}

export interface Totals {
  /** Applies one `am.snmp`/`am.nanny` record (name FLUSH resets that host). */
  apply(host: string, name: string, type: WireType | '?' | undefined, value: string | undefined): void
  /** The aggregate over hosts, initial values included, in catalogue (OID) order then by name. */
  aggregate(): Map<string, Variable>
  /** Aggregate value of one variable, or undefined when unknown. */
  get(name: string): Variable | undefined
  snapshot(nowSecs: number): TotalsSnapshot
  /** Replaces the per-host maps with a saved snapshot; returns false (and changes nothing) when it is invalid. */
  restore(s: unknown): boolean
  /** Per-host names, local first. */
  hosts(): string[]
  /** Bumped on every change; persistence saves only when it moved. */
  readonly generation: number
}

const ORDER = new Map<string, number>()
COUNTERS.forEach((c, i) => {
  if (!ORDER.has(c.name)) ORDER.set(c.name, i)
})

/** Perl numification: the leading decimal number of a string, or 0. */
export function perlNumber(v: string | number | undefined): number {
  if (typeof v === 'number') return v
  if (v === undefined) return 0
  const m = /^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)/.exec(v)
  return m ? Number(m[1]) : 0
}

/** Perl's number formatting: integers (IV/UV) in full, other numbers as `%.15g`. */
export function formatPerlNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 2 ** 64) return BigInt(n).toString()
  if (!Number.isFinite(n)) return n > 0 ? 'Inf' : n < 0 ? '-Inf' : 'NaN'
  let s = n.toPrecision(15)
  if (s.includes('e')) {
    let [m, e] = s.split('e')
    if (m.includes('.')) m = m.replace(/0+$/, '').replace(/\.$/, '')
    const sign = e[0] === '-' ? '-' : '+'
    const digits = e.replace(/^[+-]/, '').padStart(2, '0')
    s = `${m}e${sign}${digits}`
  } else if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '')
  return s
}

/** The value as it goes on the wire. */
export function formatValue(v: Variable['value']): string | undefined {
  if (v === undefined) return undefined
  return typeof v === 'number' ? formatPerlNumber(v) : v
}

function isFalsy(v: Variable['value']): boolean {
  return v === undefined || v === '' || v === '0' || v === 0
}

export function createTotals(opts: { localHost: string; startSecs: number }): Totals {
  const initial = (): VarMap =>
    new Map<string, Variable>([
      ['sysUpTime', { type: 'INT', value: String(Math.floor(opts.startSecs)) }],
      ['sysObjectID', { type: 'OID', value: AMAVIS_ENTERPRISE_OID }],
      ['sysServices', { type: 'INT', value: '64' }],
    ])
  const base = initial()
  const perHost = new Map<string, VarMap>()
  let generation = 0
  let cache: Map<string, Variable> | undefined

  const hostMap = (host: string): VarMap => {
    let m = perHost.get(host)
    if (!m) {
      m = new Map()
      perHost.set(host, m)
    }
    return m
  }
  const orderedHosts = (): string[] => {
    const hs = [...perHost.keys()].filter((h) => h !== opts.localHost)
    return perHost.has(opts.localHost) ? [opts.localHost, ...hs] : hs
  }

  const compute = (): Map<string, Variable> => {
    const names = new Set<string>(base.keys())
    for (const m of perHost.values()) for (const n of m.keys()) names.add(n)
    const sorted = [...names].sort((a, b) => {
      const oa = ORDER.get(a)
      const ob = ORDER.get(b)
      if (oa !== undefined && ob !== undefined) return oa - ob
      if (oa !== undefined) return -1
      if (ob !== undefined) return 1
      return a < b ? -1 : a > b ? 1 : 0
    })
    const hosts = orderedHosts()
    const out = new Map<string, Variable>()
    for (const name of sorted) {
      const found: Variable[] = []
      for (const h of hosts) {
        const v = perHost.get(h)!.get(name)
        if (v) found.push(v)
      }
      if (found.length === 0) {
        out.set(name, { ...base.get(name)! })
      } else if (found.length === 1 || !DELTA_TYPES.has(found[0].type as WireType)) {
        out.set(name, { ...found[0] })
      } else {
        let sum = 0
        for (const v of found) sum += perlNumber(v.value)
        out.set(name, { type: found[0].type, value: sum })
      }
    }
    return out
  }

  return {
    get generation() {
      return generation
    },
    apply(host, name, type, value) {
      generation++
      cache = undefined
      if (name === 'FLUSH') {
        perHost.delete(host)
        return
      }
      const m = hostMap(host)
      const t = type ?? '?'
      const val = t === '?' ? undefined : (value ?? '')
      const old = m.get(name)
      if (!old || isFalsy(old.value)) m.set(name, { type: t, value: val })
      else if (DELTA_TYPES.has(t as WireType)) old.value = perlNumber(old.value) + perlNumber(val)
      else m.set(name, { type: t, value: val })
    },
    aggregate() {
      cache ??= compute()
      return cache
    },
    get(name) {
      return this.aggregate().get(name)
    },
    snapshot(nowSecs) {
      const hosts: TotalsSnapshot['hosts'] = {}
      for (const [h, m] of perHost) {
        const o: Record<string, [string, string | number | null]> = {}
        for (const [n, v] of m) o[n] = [v.type, v.value === undefined ? null : v.value]
        hosts[h] = o
      }
      return { version: 1, savedAt: nowSecs, responderStart: Number(base.get('sysUpTime')!.value), hosts }
    },
    restore(s) {
      if (!s || typeof s !== 'object') return false
      const snap = s as Partial<TotalsSnapshot>
      if (snap.version !== 1 || !snap.hosts || typeof snap.hosts !== 'object') return false
      const next = new Map<string, VarMap>()
      for (const [h, vars] of Object.entries(snap.hosts)) {
        if (!vars || typeof vars !== 'object') return false
        const m: VarMap = new Map()
        for (const [n, entry] of Object.entries(vars)) {
          if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string') return false
          const [t, v] = entry
          if (v !== null && typeof v !== 'string' && typeof v !== 'number') return false
          m.set(n, { type: t as WireType | '?', value: v === null ? undefined : v })
        }
        next.set(h, m)
      }
      perHost.clear()
      for (const [h, m] of next) perHost.set(h, m)
      if (typeof snap.responderStart === 'number' && Number.isInteger(snap.responderStart) && snap.responderStart > 0)
        base.set('sysUpTime', { type: 'INT', value: String(snap.responderStart) })
      generation++
      cache = undefined
      return true
    },
    hosts: orderedHosts,
  }
}

/** Whether a name belongs to the `am.nanny?` reply. */
export { isNannyName }
