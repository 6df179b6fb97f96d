// Entry of the counter history worker thread: registers the TypeScript loader (as the pipeline's
// worker-boot.mjs does), then runs worker-main.ts.
import { register } from 'tsx/esm/api'
register()
await import('./worker-main.ts')
