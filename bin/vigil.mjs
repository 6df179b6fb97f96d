#!/usr/bin/env node
// `vigil <command>`: registers the TypeScript loader, then hands over to the CLI.
import { register } from 'tsx/esm/api'
register()
const { main } = await import('../cli/src/main.ts')
await main(process.argv.slice(2))
