// Process entry of a filter worker, forked by the master (cluster/master.ts). It waits for its
// config, creates the worker, serves the sockets the master sends one at a time, and exits after
// max_requests connections (the master starts a replacement) or on shutdown.
import type { Socket } from 'node:net'
import { createLogger, type LogLevel, type Logger } from '@vigil/protocol'
import { createWorker, type Worker } from './worker.ts'
import type { MasterToWorker, WorkerToMaster } from './protocol.ts'
import type { Listener } from '../config.ts'

const send = (m: WorkerToMaster) => {
  if (process.connected) process.send!(m)
}

function ipcLogger(level: LogLevel): Logger {
  // Lines go to the master, which writes them through its own logger (one sink for all processes).
  return createLogger({
    name: 'worker',
    level,
    sink({ level: lv, msg, fields }) {
      const f: Record<string, unknown> = { ...(fields ?? {}) }
      for (const [k, v] of Object.entries(f))
        if (v instanceof Error)
          f[k] = `${v.message}${(v as { code?: string }).code ? ` (${(v as { code?: string }).code})` : ''}`
      send({ type: 'log', level: lv, msg, fields: Object.keys(f).length ? f : undefined })
    },
  })
}

let worker: Worker | undefined
let busy = false
const queue: { socket: Socket; listener: Listener }[] = []

async function serveNext(): Promise<void> {
  busy = true
  while (queue.length && !stopping) {
    const c = queue.shift()!
    try {
      await worker!.serve(c)
    } catch {
      return void exit(1)
    }
    send({ type: 'done' })
    if (worker!.served >= maxRequests) break
  }
  busy = false
  for (const c of queue.splice(0)) c.socket.destroy()
  if (stopping) return void exit(0)
  if (worker!.served >= maxRequests) {
    send({ type: 'retiring' })
    return void exit(0)
  }
}
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
    if (!handle || !worker || stopping) {
      handle?.destroy()
      return
    }
    // The master may hand over the next connection while this one is still being served (at most
    // one waits here); connections are always served one at a time, in order.
    queue.push({ socket: handle, listener: m.listener })
    if (!busy) void serveNext()
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
// A bug must not go unseen: report it through the master's log, then die (the master replaces
// the worker; the client of an interrupted session sees a dropped connection and retries).
const fatal = (kind: string) => (e: unknown) => {
  send({
    type: 'log',
    level: 'fatal',
    msg: `Worker ${kind}; exiting.`,
    fields: { err: e instanceof Error ? (e.stack ?? e.message) : String(e) },
  })
  setTimeout(() => process.exit(70), 50).unref()
}
process.on('uncaughtException', fatal('uncaught exception'))
process.on('unhandledRejection', fatal('unhandled promise rejection'))
