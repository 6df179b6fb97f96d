// Production needs no devDependency (issue #14 point 4, ADR 0016): a copy of the repo is built
// (scripts/build.mjs), its devDependencies are pruned (`npm prune --omit=dev`: no tsx, typescript
// or esbuild left), and `vigil start` runs filter, collector and dashboard from dist/; a message
// reaches a real smtp-sink, and no process of the tree names tsx or a TypeScript file in its argv.
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, realpathSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { it } from 'node:test'
import { freePorts, sendMail, startSmtpSink, tmpDir, waitFor } from '../harness/index.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** [executable, ...argv] of every live process whose process group is one of `groups`. */
function argvInGroups(groups: ReadonlySet<number>): string[][] {
  const out: string[][] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (fields[0] !== 'Z' && groups.has(Number(fields[2])))
        out.push([realpathSync(`/proc/${name}/exe`), ...readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0')])
    } catch {}
  }
  return out
}

function run(cmd: string, args: string[], cwd: string): void {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_audit: 'false' } })
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed:\n${r.stdout}${r.stderr}`)
}

it('a pruned copy (npm prune --omit=dev) runs vigil start from dist/ with no tsx anywhere', async (t) => {
  const dir = await tmpDir(t, 'e2e-runtime')
  const app = join(dir, 'app')
  const excludes = ['.git', '.cache', 'var', 'dist', 'test-artifacts', 'bench/results'].map((p) => `--exclude=./${p}`)
  run('bash', ['-c', `mkdir -p '${app}' && tar ${excludes.join(' ')} -cf - . | tar -C '${app}' -xf -`], ROOT)
  run('bash', ['scripts/build-web.sh'], app)
  run(process.execPath, ['scripts/build.mjs'], app)
  run('npm', ['prune', '--omit=dev', '--no-audit', '--no-fund', '--ignore-scripts'], app)
  for (const dev of ['tsx', 'typescript', 'esbuild', 'prettier'])
    assert.ok(!existsSync(join(app, 'node_modules', dev)), `${dev} is still installed after the prune`)

  const sink = await startSmtpSink(t)
  const [filterPort, outerPort, snmpPort, httpPort, dashboardPort] = await freePorts(5)
  const configFile = join(dir, 'vigil.yaml')
  writeFileSync(
    configFile,
    [
      `home: ${join(dir, 'home')}`,
      'myhostname: e2e.vigil.test',
      'zmq:',
      `  outer: tcp://127.0.0.1:${outerPort}`,
      `  snmp: tcp://127.0.0.1:${snmpPort}`,
      'filter:',
      `  listen: ['127.0.0.1:${filterPort}']`,
      `  forward_method: 'smtp:[127.0.0.1]:${sink.port}'`,
      '  max_servers: 1',
      'collector:',
      `  http_listen: 127.0.0.1:${httpPort}`,
      'dashboard:',
      `  listen: 127.0.0.1:${dashboardPort}`,
      `  collector_http: 127.0.0.1:${httpPort}`,
      '',
    ].join('\n'),
  )
  // No VIGIL_RUNTIME: with tsx absent, bin/vigil.mjs must pick dist/ by itself.
  const env = { ...process.env, VIGIL_CONFIG: '', VIGIL_HOME: '', VIGIL_LOG_LEVEL: '', VIGIL_RUNTIME: '' }
  const sup = spawn(process.execPath, [join(app, 'bin/vigil.mjs'), 'start', '--config', configFile], {
    cwd: dir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  sup.stdout.on('data', (d) => (out += d))
  sup.stderr.on('data', (d) => (out += d))
  const exited = new Promise<number | null>((resolve) => sup.on('exit', (code) => resolve(code)))
  t.after(() => {
    if (sup.exitCode === null && sup.signalCode === null) sup.kill('SIGKILL')
  })
  await waitFor(
    () => {
      assert.equal(sup.exitCode, null, `vigil start exited early:\n${out}`)
      return ['filter', 'collector', 'dashboard'].every((c) => new RegExp(`^\\[${c}\\] listening: `, 'm').test(out))
    },
    { timeoutMs: 90_000, what: 'every component listening' },
  ).catch((err: Error) => assert.fail(`${err.message}\n${out}`))

  const sent = await sendMail({
    port: filterPort,
    from: 'sender@example.org',
    to: ['rcpt@example.com'],
    data: 'From: sender@example.org\r\nTo: rcpt@example.com\r\nSubject: compiled\r\n\r\nNo tsx here.\r\n',
  })
  assert.ok(sent.accepted, `the filter did not accept the message: ${sent.finalReply?.raw ?? sent.error}\n${out}`)
  const [mail] = await sink.waitForMessages(1, 60_000)
  assert.equal(mail.header('subject'), 'compiled')
  const res = await fetch(`http://127.0.0.1:${dashboardPort}/`)
  assert.equal(res.status, 200)
  await res.body?.cancel()

  const children = new Set(
    ['filter', 'collector', 'dashboard'].map((n) => {
      const m = [...out.matchAll(new RegExp(`Process \\[(\\d+)\\] started \\(vigil ${n}\\)`, 'g'))].at(-1)
      return Number(m?.[1])
    }),
  )
  const argvs = argvInGroups(children)
  assert.ok(argvs.length >= 4, `expected the components and the filter's workers:\n${JSON.stringify(argvs)}`)
  for (const [exe, ...argv] of argvs) {
    assert.equal(exe, realpathSync(process.execPath), `a child runs another node: ${argv.join(' ')}`)
    // Filter processes set their title (`amavisd (…)`, as amavis does): their argv is gone.
    if (!argv[0].startsWith('/')) continue
    assert.ok(!argv.some((a) => /tsx|\.ts$/.test(a)), `a child runs TypeScript: ${argv.join(' ')}`)
    assert.ok(
      argv.some((a) => a.startsWith(join(app, 'dist') + '/')),
      `a child does not run dist/: ${argv.join(' ')}`,
    )
  }
  sup.kill('SIGINT')
  assert.equal(await exited, 0, out)
})
