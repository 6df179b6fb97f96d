// A test double of OUR Backend interface (not of an engine): stores documents in a Map by id and
// can be scripted to answer retry/reject per item or to be unavailable, to exercise the shipper's
// acknowledgement, retry and back-pressure logic. The real backends are used in shipper-faults.
import { BackendUnavailableError, type Backend, type IndexDoc, type ItemResult } from '../../src/backends/backend.ts'
import type { AggsResponse, SearchResponse } from '../../src/search/api.ts'

export type ItemScript = (doc: IndexDoc, attempt: number) => ItemResult | undefined

export interface ScriptedBackend extends Backend {
  readonly docs: Map<string, IndexDoc>
  /** Every bulk request, in order (the documents sent). */
  readonly requests: IndexDoc[][]
  /** bulk() throws BackendUnavailableError while true. */
  unavailable: boolean
  /** Per-item answer; undefined → ok. `attempt` counts the sends of that id, from 1. */
  script?: ItemScript
  /** Delay of each bulk() call. */
  delayMs: number
  /** Number of times each id was sent. */
  readonly attempts: Map<string, number>
  /** Total 'ok' answers (re-sends included). */
  okAnswers: number
}

export function createScriptedBackend(): ScriptedBackend {
  const b: ScriptedBackend = {
    kind: 'embedded',
    docs: new Map(),
    requests: [],
    unavailable: false,
    delayMs: 0,
    attempts: new Map(),
    okAnswers: 0,
    async init() {},
    async bulk(docs: readonly IndexDoc[]): Promise<ItemResult[]> {
      if (b.delayMs) await new Promise((r) => setTimeout(r, b.delayMs))
      if (b.unavailable) throw new BackendUnavailableError('scripted: backend down')
      b.requests.push([...docs])
      return docs.map((d) => {
        const attempt = (b.attempts.get(d.id) ?? 0) + 1
        b.attempts.set(d.id, attempt)
        const r = b.script?.(d, attempt)
        if (r && r.status !== 'ok') return r
        b.docs.set(d.id, d)
        b.okAnswers++
        return { status: 'ok' }
      })
    },
    async refresh() {},
    async search(): Promise<SearchResponse> {
      return { total: b.docs.size, hits: [...b.docs.values()].map((d) => d.doc as Record<string, unknown>) }
    },
    async aggregate(): Promise<AggsResponse> {
      throw new Error('not used by the shipper tests')
    },
    async applyRetention() {
      return []
    },
    async health() {
      return { up: !b.unavailable, docs: b.docs.size }
    },
    async close() {},
  }
  return b
}
