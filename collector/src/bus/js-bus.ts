// The msg-forwarder as a JS loop: receive on each inner SUB, ingest, send on the outer PUB.
// Malformed messages are dropped (counted); with outer_nodrop, HWM refusals are counted.
import { createInnerSubscriber } from './inner-subscriber.ts'
import { createOuterPublisher } from './outer-publisher.ts'
import { outerInjectors, type Bus, type BusOptions } from './bus.ts'

export function createJsBus(o: BusOptions): Bus {
  const outer = createOuterPublisher({
    endpoint: o.outer,
    hwm: o.outerHwm,
    nodrop: o.outerNodrop,
    curve: o.curve,
    stats: o.stats,
    log: o.log,
  })
  const onMessage = (host: string, parts: Buffer[]) => {
    if (o.ingest.handle(host, parts)) outer.send(parts)
  }
  const inners = o.groups.map((g) =>
    createInnerSubscriber({ ...g, hwm: o.innerHwm, curve: o.curve, stats: o.stats, log: o.log, onMessage }),
  )
  let stopping: Promise<void> | undefined
  return {
    mode: 'js',
    async start() {
      try {
        await outer.start()
        for (const i of inners) await i.start()
      } catch (err) {
        await this.stop()
        throw err
      }
    },
    stop() {
      // Idempotent; closes every socket, started or not, so a failed start leaves nothing open.
      stopping ??= (async () => {
        for (const i of inners) await i.stop()
        await outer.stop()
      })()
      return stopping
    },
    ...outerInjectors(o, outer),
    describe() {
      return [
        ...o.groups.map((g) => `inner SUB (${g.host}): ${g.endpoints.join(', ')}`),
        `outer PUB: ${o.outer} (js forwarder)`,
      ]
    },
  }
}
