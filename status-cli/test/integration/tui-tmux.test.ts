// The full-screen view in a real terminal: tmux on a private server socket, keys sent with
// send-keys, the screen read with capture-pane. NCURSES_NO_UTF8_ACS=1 keeps the text plain.
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Publisher, Reply } from 'zeromq'
import { formatAbsTime } from '@vigil/protocol'
import { freePort, resolveBinary, tmpDir, waitFor } from '../../../test/harness/index.ts'

const BIN = fileURLToPath(new URL('../../../bin/amavis-status.mjs', import.meta.url))

function tmux(server: string, ...args: string[]): string {
  return execFileSync('tmux', ['-L', server, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

async function publishEvery(t: TestContext, frames: () => string[]): Promise<string> {
  const endpoint = `tcp://127.0.0.1:${await freePort()}`
  const pub = new Publisher({ linger: 0 })
  await pub.bind(endpoint)
  let sending = false
  const timer = setInterval(() => {
    if (sending) return
    sending = true
    void (async () => {
      for (const f of frames()) await pub.send(f)
      sending = false
    })()
  }, 50)
  t.after(() => {
    clearInterval(timer)
    pub.close()
  })
  return endpoint
}

/** A stand-in snmp-responder: InMsgs grows by 10 and TimeElapsedSpamCheck by 1500 ms per query. */
async function startResponder(t: TestContext): Promise<string> {
  const endpoint = `tcp://127.0.0.1:${await freePort()}`
  const rep = new Reply({ linger: 0 })
  await rep.bind(endpoint)
  let n = 0
  void (async () => {
    try {
      for await (const [req] of rep) {
        n++
        if (req.toString() !== 'am.snmp?') await rep.send('am.snmp ? ? ?')
        else
          await rep.send([
            `am.snmp InMsgs C32 ${10 * n}`,
            `am.snmp TimeElapsedSpamCheck C32 ${1500 * n}`,
            'am.snmp sysUpTime INT 1',
          ])
      }
    } catch {}
  })()
  t.after(() => rep.close())
  return endpoint
}

test('full screen in tmux: rows appear, p pauses, s sorts, resize re-renders, q quits', async (t) => {
  resolveBinary('tmux')
  const responder = await startResponder(t)
  const dir = await tmpDir(t, 'status-tui')
  const cfg = join(dir, 'vigil.yaml')
  writeFileSync(cfg, `zmq:\n  snmp: ${responder}\nstatus:\n  counters_interval_secs: 0.5\n`)
  const now = Date.now() / 1000
  const frames = [
    `am.st 101 ${formatAbsTime(now - 5)} m 00101-01`,
    'am.st 101 10 S 00101-01',
    `am.st 102 ${formatAbsTime(now - 20)} m 00102-04`,
    'am.st 102 10 V 00102-04',
    `am.st 103 ${formatAbsTime(now - 30)} -`,
  ]
  const endpoint = await publishEvery(t, () => frames)
  const server = `vigil-status-${process.pid}-${Math.floor(Math.random() * 1e6)}`
  t.after(() => {
    try {
      tmux(server, 'kill-server')
    } catch {}
  })
  const cmd = `NCURSES_NO_UTF8_ACS=1 '${process.execPath}' '${BIN}' --tui -w 0.2 --config ${cfg} --connect ${endpoint}; echo "EXITED-$?"; sleep 60`
  tmux(server, 'new-session', '-d', '-s', 'st', '-x', '120', '-y', '40', cmd)
  const screen = () => tmux(server, 'capture-pane', '-p', '-t', 'st')
  const rowOrder = (s: string) => [...s.matchAll(/^\s+(10[1-4]) /gm)].map((m) => m[1])

  const first = await waitFor(() => (rowOrder(screen()).length === 3 ? screen() : undefined), { timeoutMs: 30_000 })
  assert.deepEqual(rowOrder(first), ['101', '102', '103'])
  assert.match(first, /^\s+101 S +00101-01 +0:\d\d:\d\d [=S:]+>?$/m)
  assert.match(first, /^\s+103 - +0:00:\d\d \.+/m, 'idle row with a dotted bar')
  assert.match(first, /2 active, 1 idling processes/)
  assert.match(first, /s sort:pid/)
  const rates = await waitFor(() => (/msgs\/s: \d/.test(screen()) ? screen() : undefined))
  assert.match(
    rates,
    /msgs\/s: \d+\.\d {2}total: \d+ {2}ms\/msg: spam 150\.0/,
    'rate and per-message stage time from the responder',
  )

  tmux(server, 'send-keys', '-t', 'st', 's')
  const sorted = await waitFor(() => (/s sort:elapsed/.test(screen()) ? screen() : undefined))
  assert.deepEqual(rowOrder(sorted), ['102', '101', '103'], 'busy rows by elapsed time, longest first')

  tmux(server, 'send-keys', '-t', 'st', 'p')
  await waitFor(() => /\[PAUSED\]/.test(screen()))
  frames.push(`am.st 104 ${formatAbsTime(now)} A`)
  await new Promise((r) => setTimeout(r, 1000))
  assert.ok(!rowOrder(screen()).includes('104'), 'a paused screen does not change')
  tmux(server, 'send-keys', '-t', 'st', 'p')
  await waitFor(() => rowOrder(screen()).includes('104') && !/\[PAUSED\]/.test(screen()))

  tmux(server, 'resize-window', '-t', 'st', '-x', '70', '-y', '20')
  const small = await waitFor(() => {
    const s = screen()
    const lines = s.split('\n')
    return lines.length <= 21 && /q quit/.test(s) && lines.every((l) => l.length <= 70) ? s : undefined
  })
  assert.match(small, /^\s+102 V/m)

  tmux(server, 'send-keys', '-t', 'st', 'q')
  const after = await waitFor(() => (/EXITED-\d+/.test(screen()) ? screen() : undefined))
  assert.match(after, /EXITED-0/)
})
