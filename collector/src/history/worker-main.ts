// The counter history worker: owns the SQLite store, so that neither recording a sample nor
// answering a year-long query ever blocks the collector's main thread (and with it the ZMQ bus).
// Messages are handled in arrival order.
import { parentPort, workerData } from 'node:worker_threads'
import { openHistoryStore, type HistoryStore } from './store.ts'
import type { FromHistoryWorker, HistoryWorkerInit, ToHistoryWorker } from './history.ts'

const init = workerData as HistoryWorkerInit
const port = parentPort!
const post = (m: FromHistoryWorker) => port.postMessage(m)
let store: HistoryStore | undefined
try {
  store = openHistoryStore(init.path, init.tiers)
  post({ t: 'ready', counts: store.counts() })
} catch (err) {
  post({ t: 'failed', error: (err as Error).message })
}

port.on('message', (m: ToHistoryWorker) => {
  if (!store) return
  switch (m.t) {
    case 'record':
      try {
        store.record(m.sample)
      } catch (err) {
        post({ t: 'log', level: 'warn', msg: 'Recording a history sample failed.', error: (err as Error).message })
      }
      break
    case 'query':
      try {
        post({ t: 'answer', id: m.id, ok: true, value: store.query(m.plan) })
      } catch (err) {
        post({ t: 'answer', id: m.id, ok: false, error: (err as Error).message })
      }
      break
    case 'close':
      store.close()
      store = undefined
      post({ t: 'closed' })
      port.close()
      break
  }
})
