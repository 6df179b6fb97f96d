import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { EventEmitter } from 'node:events'
import { createServer, type AddressInfo } from 'node:net'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, it, type TestContext } from 'node:test'
import { runCli } from '../src/cli.ts'

const BIN = fileURLToPath(new URL('../../bin/vigil.mjs', import.meta.url))

/** A loopback port nothing listens on (bound once, then released). */
async function closedPort(): Promise<number> {
  const srv = createServer()
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve))
  const { port } = srv.address() as AddressInfo
  await new Promise((resolve) => srv.close(resolve))
  return port
}

async function run(argv: string[], env: Record<string, string> = {}) {
  let stdout = ''
  let stderr = ''
  const code = await runCli(argv, {
    stdout: (s) => (stdout += s),
    stderr: (s) => (stderr += s),
    env,
    cwd: process.cwd(),
    proc: new EventEmitter(),
  })
  return { code, stdout, stderr }
}

function scratch(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-cli-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

describe('vigil usage', () => {
  const usageErrors: Array<[argv: string[], message: string]> = [
    [[], 'vigil: missing command'],
    [['frobnicate'], "vigil: unknown command 'frobnicate'"],
    [['check-config', '--frob'], "vigil: unknown option '--frob'"],
    [['release'], "vigil: 'release' needs MAIL_ID"],
  ]
  for (const [argv, message] of usageErrors)
    it(`exits 64 with the usage on stderr for: vigil ${argv.join(' ')}`, async () => {
      const r = await run(argv)
      assert.equal(r.code, 64)
      assert.equal(r.stdout, '')
      assert.ok(r.stderr.startsWith(message + '\n'), r.stderr)
      assert.match(r.stderr, /Usage: vigil \[options\]/)
    })

  it('prints the help on stdout and exits 0', async () => {
    const r = await run(['--help'])
    assert.equal(r.code, 0)
    for (const cmd of [
      'start',
      'filter',
      'collector',
      'snmp-agent',
      'dashboard',
      'print-config',
      'check-config',
      'release',
      'demo',
    ])
      assert.match(r.stdout, new RegExp(`^  ${cmd} `, 'm'))
    assert.doesNotMatch(r.stdout, /test-component/)
  })

  it('prints the version', async () => {
    const r = await run(['--version'])
    assert.equal(r.code, 0)
    assert.match(r.stdout, /^vigil \d+\.\d+\.\d+ \(compatible with amavis-2\.13\.0 \(20230106\)\)\n$/)
  })
})

describe('vigil check-config and print-config', () => {
  it('exits 0 for a valid file', async (t) => {
    const file = join(scratch(t), 'ok.yaml')
    writeFileSync(file, 'myhostname: mx.example\n')
    const r = await run(['check-config', '--config', file])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stderr, '')
    assert.match(
      r.stdout,
      new RegExp(`^vigil: configuration OK \\(${file}\\)\\nvigil start would run: collector, filter`),
    )
    assert.match(r.stdout, /^  not started: snmp-agent: disabled \(snmp_agent\.enabled is not true\)$/m)
  })

  it('exits 78 and lists the problems for an invalid file', async (t) => {
    const file = join(scratch(t), 'bad.yaml')
    writeFileSync(file, 'log_level: loud\nbogus: 1\n')
    const r = await run(['check-config', '--config', file])
    assert.equal(r.code, 78)
    assert.equal(
      r.stderr,
      `vigil: Invalid configuration ${file} (2 problems):\n` +
        '  log_level: expected one of fatal, error, warn, info, debug, trace, got "loud" (line 1)\n' +
        '  bogus: unknown key (line 2)\n',
    )
  })

  it('prints the effective configuration with the flag overrides applied', async () => {
    const r = await run(['print-config', '--home', '/srv/v', '--log-level', 'debug'], { VIGIL_HOME: '/ignored' })
    assert.equal(r.code, 0)
    assert.match(r.stdout, /^# Overridden by: --home, --log-level$/m)
    assert.match(r.stdout, /^home: \/srv\/v$/m)
    assert.match(r.stdout, /^log_level: debug$/m)
    assert.match(r.stdout, /^    - ipc:\/\/\/srv\/v\/amavisd-zmq\.sock$/m)
  })

  it('releases nothing and says why for an unknown mail id', async (t) => {
    if (!existsSync(new URL('../../filter-core/src/tools/release.ts', import.meta.url)))
      return t.skip('filter-core release not built yet')
    const r = await run(['release', 'AAAAAAAAAAAA', '--home', scratch(t)])
    assert.equal(r.code, 1)
    assert.equal(r.stdout, '')
    assert.match(r.stderr, /^vigil: release: .* \(VIGIL_ERR_RELEASE_NOT_FOUND\)\n$/)
  })

  it('runs one message through the filter checks offline with --test-message', async (t) => {
    if (!existsSync(new URL('../../filter-core/src/tools/test-message.ts', import.meta.url)))
      return t.skip('filter-core test-message not built yet')
    const dir = scratch(t)
    const eml = join(dir, 'm.eml')
    writeFileSync(
      eml,
      'From: a@example.org\nTo: b@example.com\nSubject: hi\nDate: Wed, 25 Nov 2026 01:00:00 +0000\nMessage-ID: <x@example.org>\n\nhello\n',
    )
    const r = await run(['filter', '--test-message', eml, '--home', dir])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, new RegExp(`^message: ${eml}$`, 'm'))
    assert.match(r.stdout, /^  <b@example\.com>: /m)
    const missing = await run(['filter', '--test-message', join(dir, 'none.eml'), '--home', dir])
    assert.deepEqual(
      [missing.code, missing.stderr],
      [1, `vigil: filter --test-message: cannot read ${join(dir, 'none.eml')}: ENOENT\n`],
    )
  })

  it('says so when stop or reload finds no supervisor', async (t) => {
    const home = scratch(t)
    writeFileSync(join(home, 'vigil.pid'), '2147483646\n')
    for (const cmd of ['stop', 'reload']) {
      const r = await run([cmd, '--home', home])
      assert.deepEqual(
        [r.code, r.stdout, r.stderr],
        [1, '', `vigil: not running (no live supervisor in ${join(home, 'vigil.pid')})\n`],
      )
    }
  })

  it('exits 73 when the home directory cannot be created', async (t) => {
    const blocker = join(scratch(t), 'a-file')
    writeFileSync(blocker, '')
    const r = await run(['test-component', '--home', join(blocker, 'home')])
    assert.equal(r.code, 73)
    assert.equal(
      r.stderr,
      `vigil: cannot create home directory ${join(blocker, 'home')}: ENOTDIR (set --home, VIGIL_HOME or \`home\`)\n`,
    )
  })

  it('runs the demo generator and reports an unreachable filter as a failure', async (t) => {
    if (!existsSync(new URL('../../filter-core/src/tools/demo.ts', import.meta.url)))
      return t.skip('filter-core demo not built yet')
    const port = await closedPort()
    const r = await run(['demo', '--home', scratch(t), '--port', String(port), '--count', '1'])
    assert.equal(r.code, 1, r.stderr)
    assert.match(r.stdout, new RegExp(`^\\S+ +4\\d\\d .*ECONNREFUSED 127\\.0\\.0\\.1:${port}`, 'm'))
  })

  it('as a process: exits 78 with every problem on stderr and no stack trace', async (t) => {
    const file = join(scratch(t), 'bad.yaml')
    writeFileSync(file, 'home: /tmp\nmyhostname: ""\nzmq:\n  outer: "tcp://127.0.0.1"\nfilter:\n  nope: 1\n')
    const r = spawnSync(process.execPath, [BIN, 'check-config', '--config', file], {
      encoding: 'utf8',
      timeout: 60_000,
    })
    assert.equal(r.status, 78, r.stderr)
    assert.equal(r.stdout, '')
    assert.match(r.stderr, /^vigil: Invalid configuration .* \(3 problems\):\n/)
    assert.match(r.stderr, /^  myhostname: expected a non-empty string, got "" \(line 2\)$/m)
    assert.match(
      r.stderr,
      /^  zmq\.outer: expected ipc:\/\/PATH or tcp:\/\/HOST:PORT, got "tcp:\/\/127\.0\.0\.1" \(line 4\)$/m,
    )
    assert.match(r.stderr, /^  filter\.nope: unknown key \(line 6\)$/m)
    assert.doesNotMatch(r.stderr, /^\s+at /m)
  })
})
