// The agent's view of AMAVIS-MIB: every scalar of the protocol catalogue (`COUNTERS`, 331 objects)
// with its OID and SYNTAX, the value store each one reads from, and the backend that answers the
// master's requests: plan the answer, refresh the sources it touches (bounded wait), convert.
import { AMAVIS_MIB_OID, COUNTERS, type CounterDef, type CounterSource } from '@vigil/protocol'
import { parseOid, type Oid, type VarBind } from './agentx/pdu.ts'
import { planRequest, type ObjectIndex } from './agentx/requests.ts'
import type { RequestPdu, SubagentBackend } from './agentx/session.ts'
import type { CachedSource } from './cached-source.ts'
import { toVarBind, type StoredValue } from './values.ts'

export interface MibEntry {
  readonly def: CounterDef
  readonly oid: Oid
}

/** Every served instance, sorted by OID. */
export const MIB_ENTRIES: readonly MibEntry[] = COUNTERS.map((def) => ({ def, oid: parseOid(def.oid) }))
export const MIB_INDEX: ObjectIndex<MibEntry> = { entries: MIB_ENTRIES, oidOf: (e) => e.oid }

/** The three registered subtrees: amavisStats (…2.1.1), amavisProc (…2.1.2), amavisMta (…2.1.3). */
export const SUBTREES: readonly Oid[] = [1, 2, 3].map((n) => [...parseOid(AMAVIS_MIB_OID), n])

/** Values by wire name, per source. The Postfix source stores `MtaQueueEntries<Dir>` itself. */
export interface ValueStores {
  get(source: CounterSource, name: string): StoredValue | undefined
}

export interface BackendDeps {
  stores: ValueStores
  /** Sources by catalogue source; the `mta` source is keyed per wire name (one per queue directory). */
  sourceFor(def: CounterDef): CachedSource | undefined
  now?: () => number
}

/** Builds the request backend: plan → refresh touched sources (each at most once) → convert values. */
export function createMibBackend(deps: BackendDeps): SubagentBackend {
  const now = deps.now ?? Date.now
  return {
    answer(pdu: RequestPdu): VarBind[] | Promise<VarBind[]> {
      const plan = planRequest(MIB_INDEX, pdu)
      const touched = new Set<CachedSource>()
      for (const slot of plan)
        if (slot.kind === 'value') {
          const src = deps.sourceFor(slot.entry.def)
          if (src) touched.add(src)
        }
      const waits: Promise<void>[] = []
      for (const s of touched) {
        const w = s.touch()
        if (w) waits.push(w)
      }
      const fill = (): VarBind[] => {
        const t = now()
        return plan.map((slot): VarBind => {
          if (slot.kind === 'exception') return { type: slot.type, oid: slot.oid, value: null }
          const { def, oid } = slot.entry
          return toVarBind(def, oid, deps.stores.get(def.source, def.name), t)
        })
      }
      // Fresh caches (the usual case inside a walk) answer synchronously: no promise, no timer.
      return waits.length ? Promise.all(waits).then(fill) : fill()
    },
  }
}
