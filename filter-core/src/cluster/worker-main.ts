// Process entry of a filter worker, forked by the master (cluster/master.ts). It waits for its
// config, creates the worker, serves the sockets the master sends one at a time, and exits after
// max_requests connections (the master starts a replacement) or on shutdown.
import type { Socket } from 'node:net'
import { createLogger, type LogLevel, type Logger } from '@vigil/protocol'
import { createWorker, type Worker } from './worker.ts'
import type { MasterToWorker, WorkerToMaster } from './protocol.ts'

const send = (m: WorkerToMaster) => {
  if (process.connected) process.send!(m)
}

function ipcLogger(level: LogLevel): Logger {
  // Lines go to the master, which writes them through its own logger (one sink for all processes).
  const make = (name: string): Logger => {
    const emit = (lv: LogLevel) => (msg: string, fields?: Record<string, unknown>) => {
      if (!base.isEnabled(lv)) return
      const f: Record<string, unknown> = { ...(fields ?? {}) }
      for (const [k, v] of Object.entries(f)) if (v instanceof Error) f[k] = `${v.message}${(v as { code?: string }).code ? ` (${(v as { code?: string }).code})` : ''}`
      send({ type: 'log', level: lv, msg, fields: Object.keys(f).length ? f : undefined })
    }
    return {
      fatal: emit('fatal'),
      error: emit('error'),
      warn: emit('warn'),
      info: emit('info'),
      debug: emit('debug'),
      trace: emit('trace'),
      child: (n: string) => make(`${name}/${n}`),
      isEnabled: (lv) => base.isEnabled(lv),
    }
  }
  const base = createLogger({ name: 'w', level, write: () => {} })
  return make('worker')
}

let worker: Worker | undefined
let busy = false
let stopping = false
let maxRequests = Infinity

async function exit(code: number) {
  const t = setTimeout(() => process.exit(code), 3000)
  t.unref()
  try {
    await worker?.close()
  } finally {
    process.exit(code)
  }
}

process.on('message', (m: MasterToWorker, handle?: Socket) => {
  if (m.type === 'init') {
    maxRequests = m.cfg.max_requests
    void createWorker(m.common, m.cfg, { log: ipcLogger(m.logLevel) }).then(
      (w) => {
        worker = w
        send({ type: 'ready' })
      },
      (e) => {
        send({ type: 'log', level: 'error', msg: 'Worker failed to start.', fields: { err: (e as Error).message } })
        process.exit(1)
      },
    )
  } else if (m.type === 'conn') {
    if (!handle || !worker) {
      handle?.destroy()
      return
    }
    busy = true
    worker.serve({ socket: handle, listener: m.listener }).then(
      () => {
        busy = false
        if (stopping) return void exit(0)
        if (worker!.served >= maxRequests) {
          send({ type: 'retiring' })
          return void exit(0)
        }
        send({ type: 'idle' })
      },
      () => void exit(1),
    )
  } else if (m.type === 'shutdown') {
    stopping = true
    if (!busy) void exit(0)
  }
})
process.on('disconnect', () => {
  stopping = true
  if (!busy) void exit(0)
})
process.on('SIGTERM', () => {
  stopping = true
  if (!busy) void exit(0)
})
// The master handles SIGINT for the group.
process.on('SIGINT', () => {})
