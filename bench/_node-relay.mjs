// The leanest honest SMTP relay in Node.js, as a yardstick for bench/filter-throughput.ts: what any
// Node.js relay can do on this machine, with nothing issue #3 asks of the filter (no amavis process
// model, monitoring, checks or spool). node:cluster workers accept directly (SCHED_NONE), each
// serves many sessions at once and keeps one next-hop connection (EHLO once; MAIL, RCPT… and DATA in
// one write, then the body in one write), used by one transaction at a time. Still a correct relay:
// the body goes on unchanged (dot-stuffed as received) behind one Received header, and the client
// gets 250 only after the next hop's 250, 451 otherwise (a rejected recipient fails the whole
// transaction; the next hop must offer PIPELINING).
// With model `amavis` it keeps the one thing of the filter's process model that costs per
// connection: the primary accepts and hands each connection to an idle worker (Node's handle
// passing), a worker serves one session at a time and reports `done` (ADR 0004).
//   node bench/_node-relay.mjs <listenPort> <sinkPort> <workers> [shared|amavis]
//   prints `ready <primary> <worker pids…>`
import cluster from 'node:cluster'
import net from 'node:net'
import { hostname } from 'node:os'

const [LISTEN, SINK, WORKERS] = process.argv.slice(2, 5).map(Number)
const AMAVIS_MODEL = process.argv[5] === 'amavis'
const HOST = hostname()
const EOD = Buffer.from('\r\n.\r\n')

if (cluster.isPrimary) {
  cluster.schedulingPolicy = cluster.SCHED_NONE // before the first fork: workers accept themselves
  const pids = []
  let stopping = false
  let alive = WORKERS
  const idle = [] // amavis model: workers without a session
  const waiting = [] // amavis model: accepted connections waiting for an idle worker
  const handOver = () => {
    while (idle.length && waiting.length) idle.shift().send('conn', waiting.shift())
  }
  const up = (w) => {
    pids.push(w.process.pid)
    if (pids.length < WORKERS) return
    if (!AMAVIS_MODEL) return console.log(`ready ${process.pid} ${pids.join(' ')}`)
    net
      .createServer({ pauseOnConnect: true, noDelay: true }, (c) => {
        waiting.push(c)
        handOver()
      })
      .listen(LISTEN, '127.0.0.1', () => console.log(`ready ${process.pid} ${pids.join(' ')}`))
  }
  for (let i = 0; i < WORKERS; i++) {
    const w = cluster.fork()
    if (!AMAVIS_MODEL) w.once('listening', () => up(w))
    else
      w.once('online', () => {
        idle.push(w)
        w.on('message', (m) => m === 'done' && (idle.push(w), handOver()))
        up(w)
      })
  }
  cluster.on('exit', (w, code, signal) => {
    if (!stopping) console.error(`relay worker ${w.process.pid} exited (${code ?? signal})`)
    if (--alive === 0 || !stopping) process.exit(stopping ? 0 : 1)
  })
  const stop = () => {
    stopping = true
    for (const w of Object.values(cluster.workers)) w.process.kill('SIGTERM')
  }
  process.on('SIGTERM', stop).on('SIGINT', stop)
} else if (!AMAVIS_MODEL) {
  net.createServer({ noDelay: true }, serve).listen(LISTEN, '127.0.0.1')
} else {
  process.on('message', (m, sock) => {
    if (m !== 'conn' || !sock) return
    sock.setNoDelay(true)
    sock.once('close', () => process.send('done'))
    serve(sock)
  })
}

/** One client session: SMTP commands, then DATA up to the end-of-data line, then commands again. */
function serve(sock) {
  let cmd = Buffer.alloc(0) // unprocessed command bytes
  let data = null // chunks of the message while in DATA
  let tail = null // the last bytes of DATA so far, to find "\r\n.\r\n" across chunk boundaries
  let busy = false // waiting for the next hop: commands after "." wait too
  let helo = ''
  let from = null
  let rcpts = []
  const reply = (s) => sock.write(s + '\r\n')
  sock.on('error', () => sock.destroy())
  sock.setTimeout(300_000, () => sock.destroy())
  reply(`220 ${HOST} ESMTP Node no-op relay`)
  sock.on('data', (chunk) => {
    if (data) return onData(chunk)
    cmd = cmd.length ? Buffer.concat([cmd, chunk]) : chunk
    commands()
  })

  function commands() {
    sock.cork() // the replies to a pipelined group leave in one write
    for (let nl; !data && !busy && (nl = cmd.indexOf('\n')) >= 0;) {
      const line = cmd.toString('latin1', 0, nl).replace(/\r$/, '')
      cmd = cmd.subarray(nl + 1)
      const verb = line.slice(0, 4).toUpperCase()
      const arg = line.slice(5)
      let m
      if (verb === 'EHLO' || verb === 'HELO') {
        helo = arg.trim()
        reset()
        reply(verb === 'EHLO' ? `250-${HOST}\r\n250 PIPELINING` : `250 ${HOST}`)
      } else if (verb === 'MAIL') {
        if (!helo || from !== null) reply('503 5.5.1 Error: send HELO/EHLO first, or nested MAIL')
        else if (!(m = /^FROM:\s*<([^>]*)>/i.exec(arg))) reply('501 5.5.4 Syntax: MAIL FROM:<address>')
        else {
          from = m[1]
          reply('250 2.1.0 Ok')
        }
      } else if (verb === 'RCPT') {
        if (from === null) reply('503 5.5.1 Error: need MAIL command')
        else if (!(m = /^TO:\s*<([^>]+)>/i.exec(arg))) reply('501 5.5.4 Syntax: RCPT TO:<address>')
        else {
          rcpts.push(m[1])
          reply('250 2.1.5 Ok')
        }
      } else if (verb === 'DATA') {
        if (!rcpts.length) reply('503 5.5.1 Error: need RCPT command')
        else {
          reply('354 End data with <CR><LF>.<CR><LF>')
          const received = `Received: from ${helo} ([${sock.remoteAddress}])\r\n\tby ${HOST} (Node no-op relay) with ESMTP;\r\n\t${new Date().toUTCString()}\r\n`
          data = [Buffer.from(received, 'latin1')]
          tail = Buffer.from('\r\n') // DATA's own CRLF: an empty message is just ".\r\n"
          const rest = cmd
          cmd = Buffer.alloc(0)
          if (rest.length) onData(rest)
        }
      } else if (verb === 'RSET') {
        reset()
        reply('250 2.0.0 Ok')
      } else if (verb === 'NOOP') reply('250 2.0.0 Ok')
      else if (verb === 'QUIT') {
        reply('221 2.0.0 Bye')
        sock.end()
        break
      } else reply('502 5.5.2 Error: command not recognized')
    }
    sock.uncork()
    if (!data && !busy && cmd.length > 4096) {
      reply('500 5.5.2 Error: line too long') // (the loop left no complete line)
      sock.destroy()
    }
  }

  function reset() {
    from = null
    rcpts = []
  }

  function onData(chunk) {
    const edge = Buffer.concat([tail, chunk.subarray(0, 4)]) // a terminator that straddles the boundary
    const e = edge.indexOf(EOD)
    const i = e >= 0 ? -1 : chunk.indexOf(EOD)
    const end = e >= 0 ? e + EOD.length - tail.length : i >= 0 ? i + EOD.length : -1
    if (end < 0) {
      data.push(chunk)
      tail = chunk.length >= 4 ? chunk.subarray(-4) : Buffer.concat([tail, chunk]).subarray(-4)
      return
    }
    data.push(chunk.subarray(0, end)) // the body as received, dot-stuffing and ".\r\n" included
    const [chunks, rest] = [data, chunk.subarray(end)]
    data = null
    busy = true
    sock.pause()
    relay(from, rcpts, chunks).then(
      (ok) => done(ok, rest),
      () => done(false, rest),
    )
  }

  function done(ok, rest) {
    reply(ok ? '250 2.0.0 Ok: relayed' : '451 4.4.1 Error: next hop did not accept the message')
    reset()
    busy = false
    cmd = rest
    sock.resume()
    commands()
  }
}

let hop = null // this worker's next-hop connection
let queue = Promise.resolve() // its transactions, one at a time

function relay(from, rcpts, chunks) {
  const run = queue.then(() => transact(from, rcpts, chunks))
  queue = run.catch(() => {})
  return run
}

async function transact(from, rcpts, chunks) {
  if (!hop || hop.dead) hop = await connectHop()
  const h = hop
  h.sock.write(`MAIL FROM:<${from}>\r\n${rcpts.map((r) => `RCPT TO:<${r}>\r\n`).join('')}DATA\r\n`)
  const codes = await Promise.all([from, ...rcpts, 'DATA'].map(() => h.next()))
  if (codes.some((c, i) => (i === codes.length - 1 ? c !== 354 : c < 200 || c > 299))) {
    h.sock.destroy() // the transaction is in an unknown state: start afresh next time
    return false
  }
  h.sock.cork()
  for (const c of chunks) h.sock.write(c)
  h.sock.uncork()
  return (await h.next()) === 250
}

/** Connects, reads the greeting and says EHLO; `next()` resolves with the code of the next reply. */
async function connectHop() {
  const h = { sock: net.connect({ port: SINK, host: '127.0.0.1', noDelay: true }), buf: '', waiters: [], dead: false }
  h.next = () =>
    new Promise((resolve, reject) => (h.dead ? reject(new Error('closed')) : h.waiters.push({ resolve, reject })))
  h.sock.setTimeout(120_000, () => h.sock.destroy())
  h.sock.on('data', (d) => {
    h.buf += d.toString('latin1')
    for (let nl; (nl = h.buf.indexOf('\n')) >= 0;) {
      const line = h.buf.slice(0, nl)
      h.buf = h.buf.slice(nl + 1)
      if (line[3] !== '-') h.waiters.shift()?.resolve(Number(line.slice(0, 3)))
    }
  })
  h.sock.on('error', () => {})
  h.sock.on('close', () => {
    h.dead = true
    for (const w of h.waiters.splice(0)) w.reject(new Error('next hop closed the connection'))
  })
  const greeting = h.next()
  if ((await greeting) === 220 && (h.sock.write(`EHLO ${HOST}\r\n`), await h.next()) === 250) return h
  h.sock.destroy()
  throw new Error('next hop refused the session')
}
