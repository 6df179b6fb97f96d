// A list of tables (amavis `@*_maps`, lookup2 with get_all false): the tables are asked in
// order and the first defined answer wins; a table without an answer (no match, or a matched
// key whose value is undef) passes the question on. An empty list answers nothing.
import { type LookupValue, type LookupTable, tableOf } from './table.ts'

/** The tables of one `*_maps` setting as one table. */
export function createMapsList<T = LookupValue>(tables: readonly LookupTable<T>[]): LookupTable<T> {
  const list = [...tables]
  return tableOf('maps', (key) => {
    for (const t of list) {
      const m = t.match(key)
      if (m && m.value !== undefined) return m
    }
    return undefined
  })
}
