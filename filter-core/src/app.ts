// Component factory (the contract `vigil start` and `vigil filter` use): the filter master with
// its listeners and pre-forked workers.
import type { CommonConfig, Logger } from '@vigil/protocol'
import type { FilterConfig } from './config.ts'
import { createFilterMaster, type FilterMaster } from './cluster/master.ts'

export type Filter = FilterMaster

export function createFilter(common: CommonConfig, section: FilterConfig, deps: { log: Logger }): Filter {
  return createFilterMaster(common, section, deps)
}
