#!/usr/bin/env node
// `amavis-status`: the amavisd-status compatible viewer (plain text or full-screen), compiled or
// through tsx (see bin/runtime.mjs).
import { loadEntry } from './runtime.mjs'
const { main } = await loadEntry('status-cli/src/main')
await main(process.argv.slice(2))
