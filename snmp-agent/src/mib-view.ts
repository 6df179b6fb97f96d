// The agent's view of AMAVIS-MIB: every scalar of the protocol catalogue (`COUNTERS`, 331 objects)
// with its OID and SYNTAX, the value store each one reads from, and the backend that answers the
// master's requests: plan the answer, refresh the sources it touches (bounded wait), convert.
// The hot path of a walk (one AgentX GetNext per object, since snmpd 5.9 turns every GetBulk
// repetition into its own GetNext) is synchronous and allocation-light: each object's varbind is
// kept encoded in both byte orders and re-encoded only when its stored value changes.
import { AMAVIS_MIB_OID, COUNTERS, type CounterDef, type CounterSource } from '@vigil/protocol'
import { encodeVarBind, parseOid, type Oid, type VarBind } from './agentx/pdu.ts'
import { planRequest, type ObjectIndex, type Slot } from './agentx/requests.ts'
import type { RequestPdu, SubagentBackend } from './agentx/session.ts'
import type { CachedSource } from './cached-source.ts'
import { toVarBind, type StoredValue } from './values.ts'

export interface MibEntry {
  readonly def: CounterDef
  readonly oid: Oid
  /** Position in MIB_ENTRIES. */
  readonly index: number
}

/** Every served instance, sorted by OID. */
export const MIB_ENTRIES: readonly MibEntry[] = COUNTERS.map((def, index) => ({ def, oid: parseOid(def.oid), index }))
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

/** Encoded varbinds of one object, valid while the store holds the same StoredValue object. */
interface EncodedCache {
  valid: boolean
  stored: StoredValue | undefined
  be: Buffer | undefined
  le: Buffer | undefined
}

/** Builds the request backend: plan → refresh touched sources (each at most once) → convert values. */
export function createMibBackend(deps: BackendDeps): SubagentBackend {
  const now = deps.now ?? Date.now
  const cache: EncodedCache[] = MIB_ENTRIES.map(() => ({
    valid: false,
    stored: undefined,
    be: undefined,
    le: undefined,
  }))

  /** Refreshes what the plan reads; undefined when every touched source is fresh (the usual case). */
  const touch = (plan: readonly Slot<MibEntry>[]): Promise<unknown> | undefined => {
    let waits: Promise<void>[] | undefined
    let seen: CachedSource[] | undefined
    for (let i = 0; i < plan.length; i++) {
      const slot = plan[i]
      if (slot.kind !== 'value') continue
      const src = deps.sourceFor(slot.entry.def)
      if (!src) continue
      // A walk's GetNext touches one source; a Set would cost more than this scan of ≤ 3 sources.
      if (seen === undefined) seen = [src]
      else if (seen.includes(src)) continue
      else seen.push(src)
      const w = src.touch()
      if (w) (waits ??= []).push(w)
    }
    return waits && Promise.all(waits)
  }

  const fill = (plan: readonly Slot<MibEntry>[]): VarBind[] => {
    const t = now()
    return plan.map((slot): VarBind => {
      if (slot.kind === 'exception') return { type: slot.type, oid: slot.oid, value: null }
      const { def, oid } = slot.entry
      return toVarBind(def, oid, deps.stores.get(def.source, def.name), t)
    })
  }

  const encodedSlot = (slot: Slot<MibEntry>, be: boolean, t: number): Buffer => {
    if (slot.kind === 'exception') return encodeVarBind({ type: slot.type, oid: slot.oid, value: null }, be)
    const { def, oid, index } = slot.entry
    const stored = deps.stores.get(def.source, def.name)
    // TimeTicks (sysUpTime) depend on the clock, not only on the stored value.
    if (def.syntax === 'TimeTicks') return encodeVarBind(toVarBind(def, oid, stored, t), be)
    const c = cache[index]
    if (!c.valid || c.stored !== stored) {
      c.valid = true
      c.stored = stored
      c.be = undefined
      c.le = undefined
    }
    if (be) return (c.be ??= encodeVarBind(toVarBind(def, oid, stored, t), true))
    return (c.le ??= encodeVarBind(toVarBind(def, oid, stored, t), false))
  }

  const fillEncoded = (plan: readonly Slot<MibEntry>[], be: boolean): Buffer[] => {
    const t = now()
    const out = new Array<Buffer>(plan.length)
    for (let i = 0; i < plan.length; i++) out[i] = encodedSlot(plan[i], be, t)
    return out
  }

  return {
    answer(pdu: RequestPdu): VarBind[] | Promise<VarBind[]> {
      const plan = planRequest(MIB_INDEX, pdu)
      const wait = touch(plan)
      return wait ? wait.then(() => fill(plan)) : fill(plan)
    },
    answerEncoded(pdu: RequestPdu, bigEndian: boolean): Buffer[] | Promise<Buffer[]> {
      const plan = planRequest(MIB_INDEX, pdu)
      const wait = touch(plan)
      // Fresh caches (the usual case inside a walk) answer synchronously: no promise, no timer.
      return wait ? wait.then(() => fillEncoded(plan, bigEndian)) : fillEncoded(plan, bigEndian)
    },
  }
}
