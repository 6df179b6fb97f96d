// @vigil/filter-core public surface (the cli imports files directly; this is for convenience).
export { createFilter, type Filter } from './app.ts'
export { filterConfigSchema, type FilterConfig } from './config.ts'
export { testMessage } from './tools/test-message.ts'
export { releaseMessage, type ReleaseResult } from './tools/release.ts'
export { runDemo, demo, demoMix } from './tools/demo.ts'
