// @vigil/protocol: wire formats, counter catalogue and event schema shared by every component.
// Types and codecs only; no sockets, files or timers.
export * from './counters.ts'
export * from './states.ts'
export * from './time.ts'
export * from './frames.ts'
export * from './state-encoder.ts'
export * from './json.ts'
export * from './event.ts'
export * from './content.ts'
export * from './endpoints.ts'
export * from './errors.ts'
export * from './logger.ts'
export * from './common-config.ts'
