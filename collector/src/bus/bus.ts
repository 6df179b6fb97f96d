// The msg-forwarder (spec §1.1): inner SUB side per host group, outer PUB side. Two siblings
// implement it:
//  - native-bus.ts (default): libzmq proxies in worker threads forward the local host's traffic;
//    the collector reads a copy (the "tap"). Throughput close to a bare PUB→SUB pipe.
//  - js-bus.ts: every message goes through the JS loop; malformed messages are not forwarded and
//    outer HWM drops are counted (outer_nodrop). About half the native throughput.
// Both feed every inner message to the ingest (table and totals) with the host it came from.
import type { Logger } from '@vigil/protocol'
import type { Ingest } from '../ingest.ts'
import type { OuterPublisher } from './outer-publisher.ts'
import type { BusStats } from './stats.ts'

export interface HostGroup {
  host: string
  endpoints: string[]
}

export interface BusOptions {
  /** Inner endpoint groups; the first one is the local host's fast path in the native bus. */
  groups: HostGroup[]
  outer: string
  outerHwm: number
  outerNodrop: boolean
  innerHwm: number
  curve?: { server_secret_key: string; server_public_key: string }
  stats: BusStats
  ingest: Ingest
  log: Logger
}

export interface Bus {
  start(): Promise<void>
  stop(): Promise<void>
  /** Applies a message as if it came from `host`'s inner side, then publishes it on the outer bus (the minder's path). */
  inject(host: string, parts: string[]): Promise<void>
  /** Publishes on the outer bus only. */
  publishOuter(parts: string[]): Promise<void>
  describe(): string[]
  readonly mode: 'native' | 'js'
}

/** Bus.inject and Bus.publishOuter of a bus whose outer side is `outer` (both siblings share them). */
export function outerInjectors(
  o: BusOptions,
  outer: Pick<OuterPublisher, 'send'>,
): Pick<Bus, 'inject' | 'publishOuter'> {
  return {
    async inject(host, parts) {
      o.stats.framesInjected += parts.length
      if (
        o.ingest.handle(
          host,
          parts.map((p) => Buffer.from(p)),
        )
      )
        outer.send(parts)
    },
    async publishOuter(parts) {
      o.stats.framesInjected += parts.length
      o.stats.messagesIn++
      o.stats.framesIn += parts.length
      outer.send(parts)
    },
  }
}
