#!/usr/bin/env node
// `vigil <command>`: loads the CLI, compiled or through tsx (see bin/runtime.mjs), and runs it.
import { loadEntry } from './runtime.mjs'
const { main } = await loadEntry('cli/src/main')
await main(process.argv.slice(2))
