// Picks the configured backend (collector.search.backend). Each is imported only when chosen, so
// the embedded default never loads an engine client and an engine never opens SQLite.
import { join } from 'node:path'
import type { Logger } from '@vigil/protocol'
import type { SearchConfig } from '../config.ts'
import type { Backend } from './backend.ts'

export function embeddedPath(cfg: SearchConfig, home: string): string {
  return cfg.embedded_path || join(home, 'search', 'events.sqlite')
}

export async function createBackend(cfg: SearchConfig, home: string, log: Logger): Promise<Backend> {
  switch (cfg.backend) {
    case 'embedded': {
      const { createEmbeddedBackend } = await import('./embedded/store.ts')
      return createEmbeddedBackend({
        path: embeddedPath(cfg, home),
        indexPrefix: cfg.index_prefix,
        maxSizeBytes: cfg.embedded_max_size_mb * 1024 * 1024,
        vacuum: cfg.embedded_vacuum,
        log,
      })
    }
    case 'elasticsearch': {
      const { createElasticsearchBackend } = await import('./engine/elasticsearch.ts')
      return createElasticsearchBackend(cfg, log)
    }
    case 'opensearch': {
      const { createOpenSearchBackend } = await import('./engine/opensearch.ts')
      return createOpenSearchBackend(cfg, log)
    }
  }
}
