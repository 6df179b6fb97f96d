// Test harness: real services on private loopback ports, always stopped. See README.md.
export * from './ports.ts'
export * from './tmp.ts'
export * from './process.ts'
export * from './redis.ts'
export * from './smtp-client.ts'
export * from './smtp-sink.ts'
export * from './smtp-source.ts'
