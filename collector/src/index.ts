// @vigil/collector: amavis-services (msg-forwarder, childproc-minder, snmp-responder) plus the
// events sink and HTTP API, as one component.
export { createCollector, type Collector, type CollectorDeps, type CollectorInternals } from './app.ts'
export { collectorConfigSchema, type CollectorConfig } from './config.ts'
export type { EventSink, StoredEvent } from './sinks/sink.ts'
