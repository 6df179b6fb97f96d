// Entry of the pipeline worker thread: registers the TypeScript loader (a worker does not inherit
// the parent's tsx registration when the parent registered it through the API, as bin/vigil.mjs
// does), then runs worker-main.ts.
import { register } from 'tsx/esm/api'
register()
await import('./worker-main.ts')
