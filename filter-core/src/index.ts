// @vigil/filter-core public surface.
export { createFilter, type Filter } from './app.ts'
export { filterConfigSchema, type FilterConfig } from './config.ts'
