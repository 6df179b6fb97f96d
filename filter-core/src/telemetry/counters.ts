// The per-message SNMP counter list of an amavis child (Amavis::snmp_count / update_snmp_variables,
// spec §2.3 and §4.3): names in call order, duplicates allowed, negative deltas dropped, sent as
// one multi-part `am.snmp` message.
import { formatSnmpFrame } from '@vigil/protocol'

export type CounterType = 'C32' | 'C64' | 'INT' | 'STR' | 'OID' | 'G32'

export class SnmpCounters {
  private readonly items: [string, number | string, CounterType][] = []

  /** `snmp_count(name)` = C32 1; `(name, n)` = C32 n; `(name, n, type)` as given. */
  count(name: string, n: number | string = 1, type: CounterType = 'C32'): void {
    if ((type === 'C32' || type === 'C64') && (typeof n !== 'number' || n < 0 || !Number.isFinite(n))) return
    if (name === 'entropy') return
    if (/\s/.test(name)) name = name.replace(/\s+/g, '_')
    this.items.push([name, n, type])
  }

  get size(): number {
    return this.items.length
  }

  names(): string[] {
    return this.items.map((i) => i[0])
  }

  /** The value sent for `name` (summed over duplicates), for tests and tools. */
  get(name: string): number | undefined {
    let t: number | undefined
    for (const [n, v] of this.items) if (n === name && typeof v === 'number') t = (t ?? 0) + v
    return t
  }

  /** One `am.snmp <name> <type> <value>` frame per item, in call order. */
  frames(): string[] {
    return this.items.map(([name, v, type]) =>
      formatSnmpFrame('am.snmp', name, type, typeof v === 'number' ? String(Math.trunc(v)) : v),
    )
  }

  clear(): void {
    this.items.length = 0
  }
}
