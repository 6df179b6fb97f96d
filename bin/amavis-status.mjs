#!/usr/bin/env node
// `amavis-status`: the amavisd-status compatible viewer (plain text or full-screen).
import { register } from 'tsx/esm/api'
register()
const { main } = await import('../status-cli/src/main.ts')
await main(process.argv.slice(2))
