// Preloaded (NODE_OPTIONS=--import) into every process of the suite's Node 24 pass: better-sqlite3
// is a native addon built against one Node ABI, so Node 24 loads the copy that
// scripts/ensure-node24.sh compiled for it (.cache/node24/overlay), for require and import alike.
import { registerHooks } from 'node:module'
import { pathToFileURL } from 'node:url'

const overlay = pathToFileURL(new URL('../.cache/node24/overlay/node_modules/', import.meta.url).pathname).href
registerHooks({
  resolve(specifier, context, next) {
    if (specifier === 'better-sqlite3')
      return { url: new URL('better-sqlite3/lib/index.js', overlay).href, format: 'commonjs', shortCircuit: true }
    return next(specifier, context)
  },
})
