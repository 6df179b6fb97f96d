// Which objects a Get / GetNext / GetBulk asks for (RFC 2741 §7.2.3), resolved against a sorted
// list of scalar instances. Pure: the values are filled in afterwards by the caller, so it can
// refresh exactly the data sources the answer touches before it reads them.
import { compareOid, oidStartsWith, PduType, VarType, type Oid, type SearchRange } from './pdu.ts'
import type { RequestPdu } from './session.ts'

export interface ObjectIndex<E> {
  /** Instances sorted by OID. */
  readonly entries: readonly E[]
  readonly oidOf: (e: E) => Oid
}

export type Slot<E> =
  | { kind: 'value'; entry: E }
  | {
      kind: 'exception'
      oid: Oid
      type: typeof VarType.NoSuchObject | typeof VarType.NoSuchInstance | typeof VarType.EndOfMibView
    }

/** Upper bound on varbinds in one GetBulk answer, whatever max_repetitions says. */
export const MAX_BULK_VARBINDS = 2048

function firstIndexAtOrAfter<E>(idx: ObjectIndex<E>, oid: Oid, include: boolean): number {
  let lo = 0
  let hi = idx.entries.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    const c = compareOid(idx.oidOf(idx.entries[mid]), oid)
    if (c < 0 || (c === 0 && !include)) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** Exact lookup: the entry, or noSuchInstance when the object exists with another instance, else noSuchObject. */
export function resolveGet<E>(idx: ObjectIndex<E>, oid: Oid): Slot<E> {
  const i = firstIndexAtOrAfter(idx, oid, true)
  const e = idx.entries[i]
  if (e && compareOid(idx.oidOf(e), oid) === 0) return { kind: 'value', entry: e }
  // Scalars are <object>.0: asking <object>.5 or <object> itself is a missing instance.
  const base = oid.slice(0, -1)
  const near = [idx.entries[i - 1], e].some(
    (x) => x && oidStartsWith(idx.oidOf(x), base) && idx.oidOf(x).length === base.length + 1,
  )
  const objectItself = e && oidStartsWith(idx.oidOf(e), oid) && idx.oidOf(e).length === oid.length + 1
  return { kind: 'exception', oid, type: near || objectItself ? VarType.NoSuchInstance : VarType.NoSuchObject }
}

/** The first instance after `range.start` (or at it, with `include`), below `range.end` when that is set. */
export function resolveNext<E>(idx: ObjectIndex<E>, range: SearchRange): Slot<E> {
  const i = firstIndexAtOrAfter(idx, range.start, range.include)
  const e = idx.entries[i]
  if (!e || (range.end.length > 0 && compareOid(idx.oidOf(e), range.end) >= 0))
    return { kind: 'exception', oid: range.start, type: VarType.EndOfMibView }
  return { kind: 'value', entry: e }
}

/** Plans the answer to one read request, in the varbind order the master expects. */
export function planRequest<E>(idx: ObjectIndex<E>, pdu: RequestPdu): Slot<E>[] {
  switch (pdu.type) {
    case PduType.Get:
      return pdu.ranges.map((r) => resolveGet(idx, r.start))
    case PduType.GetNext:
      return pdu.ranges.map((r) => resolveNext(idx, r))
    case PduType.GetBulk: {
      const n = Math.min(pdu.nonRepeaters, pdu.ranges.length)
      const out: Slot<E>[] = pdu.ranges.slice(0, n).map((r) => resolveNext(idx, r))
      let cursors: SearchRange[] = pdu.ranges.slice(n)
      for (let rep = 0; rep < pdu.maxRepetitions && cursors.length > 0; rep++) {
        if (out.length + cursors.length > MAX_BULK_VARBINDS) break
        let allEnd = true
        const next: SearchRange[] = []
        for (const c of cursors) {
          const slot = resolveNext(idx, c)
          out.push(slot)
          if (slot.kind === 'value') {
            allEnd = false
            next.push({ start: idx.oidOf(slot.entry), include: false, end: c.end })
          } else next.push({ start: c.start, include: false, end: c.end.length ? c.end : [] })
        }
        if (allEnd) break
        cursors = next
      }
      return out
    }
  }
}
