// A constant (amavis: a scalar in a `*_maps` list): matches every key and answers itself. It is
// the usual last element of a list, the default. A null constant is undef and matches nothing.
import { type LookupValue, type LookupTable, tableOf } from './table.ts'

/** A table that answers `value` for every key (nothing for null/undefined). */
export function createConstantTable<T = LookupValue>(value: T | null | undefined): LookupTable<T> {
  if (value === null || value === undefined) return tableOf<T>('constant', () => undefined)
  const m = { key: `(constant:${String(value)})`, value }
  return tableOf('constant', () => m)
}
