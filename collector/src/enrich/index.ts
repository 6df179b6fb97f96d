// Public surface of ship-time enrichment, for the shipper, /api/search and the dashboard.
export { createEnricher, defaultPaths } from './enricher.ts'
export type { Enricher, EnricherCounts, EnricherOptions, GeoInfo } from './enricher.ts'
export type { GeoPoint } from './centroids.ts'
export type { RangeLabel } from './ranges.ts'
export * from './attribution.ts'
