// amavis-status full screen fed by a real collector's HTTP API: the host column appears and the
// `f` key filters by host. tmux on a private server socket; the collector runs in this process.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { formatAbsTime } from '@vigil/protocol'
import { resolveBinary, waitFor } from '../harness/index.ts'
import { needs, ROOT, startStack } from './stack.ts'

const BIN = join(ROOT, 'bin/amavis-status.mjs')

test('full screen with --api shows a host column and f cycles the host filter', async (t) => {
  if (!needs(t, 'collector/src/app.ts')) return
  resolveBinary('tmux')
  const { collector, http } = await startStack(t, {
    name: 'e2e-status-hosts',
    myhostname: 'mx0.e2e.test',
    collector: { http_listen: '127.0.0.1:0' },
    logLevel: 'error',
  })
  const now = Date.now() / 1000
  await collector.internals.inject('mx1', [`am.st 20 ${formatAbsTime(now - 3)} m 00020-01`])
  await collector.internals.inject('mx1', ['am.st 20 100 S 00020-01'])
  await collector.internals.inject('mx2', [`am.st 20 ${formatAbsTime(now - 1)} m 00020-05`])
  await collector.internals.inject('mx2', ['am.st 20 100 V 00020-05'])
  await collector.internals.inject('mx2', [`am.st 30 ${formatAbsTime(now - 9)} -`])

  const server = `vigil-status-hosts-${process.pid}-${Math.floor(Math.random() * 1e6)}`
  const tmux = (...args: string[]) =>
    execFileSync('tmux', ['-L', server, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  t.after(() => {
    try {
      tmux('kill-server')
    } catch {}
  })
  const cmd = `NCURSES_NO_UTF8_ACS=1 VIGIL_CONFIG= '${process.execPath}' '${BIN}' --tui -w 0.3 --api http://${http}; echo "EXITED-$?"; sleep 60`
  tmux('new-session', '-d', '-s', 'st', '-x', '110', '-y', '30', cmd)
  const screen = () => tmux('capture-pane', '-p', '-t', 'st')
  const rows = (s: string) => [...s.matchAll(/^\s+(\d+) (mx\d) +(\S) /gm)].map((m) => `${m[2]}/${m[1]}${m[3]}`)

  const first = await waitFor(() => (rows(screen()).length === 3 ? screen() : undefined), { timeoutMs: 30_000 })
  assert.match(first, /PID HOST/)
  assert.deepEqual(rows(first), ['mx1/20S', 'mx2/20V', 'mx2/30-'])
  assert.match(first, /2 active, 1 idling processes/)
  assert.match(first, /total: 0|msgs\/s/)

  tmux('send-keys', '-t', 'st', 'f')
  const mx1 = await waitFor(() => (/f host:mx1/.test(screen()) ? screen() : undefined))
  assert.deepEqual(rows(mx1), ['mx1/20S'])
  tmux('send-keys', '-t', 'st', 'f')
  const mx2 = await waitFor(() => (/f host:mx2/.test(screen()) ? screen() : undefined))
  assert.deepEqual(rows(mx2), ['mx2/20V', 'mx2/30-'])
  tmux('send-keys', '-t', 'st', 'f')
  await waitFor(() => /f host:all/.test(screen()) && rows(screen()).length === 3)

  tmux('send-keys', '-t', 'st', 'q')
  await waitFor(() => /EXITED-0/.test(screen()))
})
