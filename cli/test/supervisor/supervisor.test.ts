// The supervisor against real child processes (a plain-JS fixture, so each start costs ~50 ms).
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { describe, it } from 'node:test'
import { createLogger } from '@vigil/protocol'
import { createSupervisor, type ChildSpec } from '../../src/supervisor/supervisor.ts'

const CHILD = fileURLToPath(new URL('../fixtures/child.mjs', import.meta.url))

function recorder() {
  const lines: Array<{ at: number; line: string }> = []
  const log = createLogger({
    name: 'vigil',
    level: 'debug',
    write: (line) => lines.push({ at: performance.now(), line }),
  })
  return { log, lines, text: () => lines.map((l) => l.line).join('\n') }
}

function spec(name: string, ...args: string[]): ChildSpec {
  return { name, label: `test ${name}`, command: process.execPath, args: [CHILD, ...args] }
}

async function waitFor(what: string, predicate: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return false
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH'
  }
}

describe('createSupervisor', () => {
  it('restarts a crashing child with a doubling delay and gives up after the restart count', async () => {
    const rec = recorder()
    const sup = createSupervisor({
      children: [spec('crasher', '--crash-after-ms', '10')],
      log: rec.log,
      policy: { initialBackoffMs: 100, maxBackoffMs: 1000, maxRapidStarts: 3 },
    })
    sup.start()
    await sup.idle
    const starts = rec.lines.filter((l) => / started \(test crasher\)\.$/.test(l.line))
    assert.equal(starts.length, 3)
    assert.ok(starts[1].at - starts[0].at >= 100, 'second start waits at least the initial delay')
    assert.ok(starts[2].at - starts[1].at >= 200, 'third start waits at least twice the initial delay')
    assert.match(rec.text(), /Process \[\d+\] exited \(test crasher\) after \d+\.\d s: exit 3/)
    assert.match(rec.text(), /Exceeded restart count, giving up on \(test crasher\)/)
    assert.deepEqual(
      sup.status().map((s) => [s.state, s.starts]),
      [['given-up', 3]],
    )
    await sup.stop()
  })

  it('does not restart a child that exits with the configuration error code', async () => {
    const rec = recorder()
    const sup = createSupervisor({
      children: [spec('badconf', '--crash-after-ms', '0', '--exit-code', '78')],
      log: rec.log,
      policy: { initialBackoffMs: 50 },
    })
    sup.start()
    await sup.idle
    assert.equal(sup.status()[0].starts, 1)
    assert.match(
      rec.text(),
      /Not restarting \(test badconf\): exit 78, the configuration is invalid; fix it, then `vigil reload` restarts it\./,
    )
  })

  it('logs a child that cannot be spawned and retries it', async () => {
    const rec = recorder()
    const sup = createSupervisor({
      children: [{ name: 'ghost', label: 'test ghost', command: '/nonexistent/vigil-ghost', args: [] }],
      log: rec.log,
      policy: { initialBackoffMs: 20, maxRapidStarts: 2 },
    })
    sup.start()
    await sup.idle
    assert.match(rec.text(), /exited \(test ghost\) after .* failed to start: .*ENOENT/)
    assert.equal(sup.status()[0].starts, 2)
  })

  it('passes child output through and stops every child with TERM', async () => {
    const rec = recorder()
    const out: string[] = []
    const sup = createSupervisor({
      children: [spec('one'), spec('two')],
      log: rec.log,
      output: (name, stream, line) => out.push(`${stream} [${name}] ${line}`),
    })
    sup.start()
    // stdout and stderr are separate pipes: the stderr line may come after the ready line.
    await waitFor(
      'both children ready and the stderr line passed through',
      () =>
        out.filter((l) => l.startsWith('stdout') && l.includes('ready')).length === 2 &&
        out.some((l) => /^stderr \[two\] stderr line from \d+$/.test(l)),
    )
    const pids = sup.status().map((s) => s.pid as number)
    assert.equal(pids.length, 2)
    await sup.stop()
    assert.ok(pids.every(isGone), 'every child is gone after stop()')
    assert.deepEqual(
      sup.status().map((s) => s.state),
      ['stopped', 'stopped'],
    )
    assert.equal((rec.text().match(/exited \(test (one|two)\) after .*: exit 0/g) ?? []).length, 2, rec.text())
    assert.doesNotMatch(rec.text(), /Restarting/)
  })

  it('kills a child that ignores TERM, and its workers, after the stop timeout', async () => {
    const rec = recorder()
    const out: string[] = []
    const sup = createSupervisor({
      children: [spec('stubborn', '--ignore-term', '--spawn-worker')],
      log: rec.log,
      stopTimeoutMs: 300,
      output: (_name, _stream, line) => out.push(line),
    })
    sup.start()
    await waitFor('child ready', () => out.some((l) => l.startsWith('ready')))
    const worker = Number(out.find((l) => l.startsWith('worker'))?.split(' ')[1])
    const pid = sup.status()[0].pid as number
    const started = performance.now()
    await sup.stop()
    assert.ok(performance.now() - started >= 250, 'waited for the stop timeout before killing')
    assert.match(rec.text(), /exited \(test stubborn\) after .*: KILLED, signal 9/)
    assert.ok(isGone(pid))
    await waitFor('worker gone', () => isGone(worker), 5000)
  })

  it('restarts every child at once on request, without counting it as a failure', async () => {
    const rec = recorder()
    const out: string[] = []
    const sup = createSupervisor({
      children: [spec('one'), spec('two')],
      log: rec.log,
      policy: { maxRapidStarts: 1 },
      output: (name, _stream, line) => out.push(`${name} ${line}`),
    })
    sup.start()
    await waitFor('both ready', () => out.filter((l) => l.includes(' ready ')).length === 2)
    const before = sup.status().map((s) => s.pid as number)
    sup.restartAll()
    await waitFor('both restarted', () => out.filter((l) => l.includes(' ready ')).length === 4)
    const after = sup.status()
    assert.deepEqual(
      after.map((s) => [s.state, s.starts]),
      [
        ['running', 2],
        ['running', 2],
      ],
    )
    assert.ok(before.every(isGone))
    assert.ok(after.every((s) => s.pid !== undefined && !before.includes(s.pid)))
    assert.doesNotMatch(rec.text(), /Exceeded restart count|Restarting \(/)
    await sup.stop()
  })

  it('starts the next child only once the previous one said it is ready', async () => {
    const rec = recorder()
    const seen: Array<{ at: number; line: string }> = []
    const ready = /^ready /
    const sup = createSupervisor({
      children: [
        { ...spec('bus', '--ready-after-ms', '300'), ready },
        { ...spec('next'), ready },
      ],
      log: rec.log,
      output: (name, _stream, line) => seen.push({ at: performance.now(), line: `${name} ${line}` }),
    })
    sup.start()
    await waitFor('the second child', () => seen.some((l) => l.line.startsWith('next ready')))
    const busReady = seen.find((l) => l.line.startsWith('bus ready'))?.at ?? NaN
    const nextStarted = rec.lines.find((l) => l.line.endsWith('started (test next).'))?.at ?? NaN
    assert.ok(nextStarted >= busReady, `the second child waited for the first one:\n${rec.text()}`)
    assert.doesNotMatch(rec.text(), /not ready/)
    await sup.stop()
  })

  it('starts the next child anyway when the previous one is not ready in time', async () => {
    const rec = recorder()
    const sup = createSupervisor({
      children: [{ ...spec('mute', '--ready-after-ms', '600000'), ready: /^ready / }, spec('next')],
      log: rec.log,
      readyTimeoutMs: 300,
    })
    sup.start()
    await waitFor('the second child', () => sup.status()[1].state === 'running')
    const startedAt = (name: string) => rec.lines.find((l) => l.line.endsWith(`started (test ${name}).`))?.at ?? NaN
    assert.ok(startedAt('next') - startedAt('mute') >= 290, rec.text())
    assert.match(rec.text(), /\(test mute\) not ready after 0\.3 s; starting the next component anyway\./)
    await sup.stop()
  })

  it('gives a given-up child a new chance on restartAll (a fixed configuration)', async () => {
    const rec = recorder()
    const out: string[] = []
    const sup = createSupervisor({
      children: [spec('badconf', '--crash-after-ms', '0', '--exit-code', '78'), spec('fine')],
      log: rec.log,
      output: (name, _stream, line) => out.push(`${name} ${line}`),
    })
    sup.start()
    await waitFor(
      'the first give-up',
      () => sup.status()[0].state === 'given-up' && sup.status()[1].state === 'running',
    )
    sup.restartAll()
    await waitFor('the second give-up', () => sup.status()[0].starts === 2 && sup.status()[0].state === 'given-up')
    assert.equal((rec.text().match(/Not restarting \(test badconf\)/g) ?? []).length, 2)
    await sup.stop()
  })
})
