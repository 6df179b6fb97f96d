// Production needs no devDependency (issue #14 point 4, ADR 0016): a copy of the repo is built
// (scripts/build.mjs), its devDependencies are pruned (`npm prune --omit=dev`: no tsx, typescript
// or esbuild left), and `vigil start` runs filter, collector and dashboard from dist/; a message
// reaches a real smtp-sink, and no process of the tree names tsx or a TypeScript file in its argv.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, realpathSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { it } from 'node:test'
import { sendMail, startSmtpSink, tmpDir } from '../harness/index.ts'
import { processesInGroups, startSupervisor, startedPids, writeStartConfig } from './supervisor.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** [executable, ...argv] of every live process whose process group is one of `groups`. */
function argvInGroups(groups: ReadonlySet<number>): string[][] {
  const out: string[][] = []
  for (const pid of processesInGroups(groups)) {
    try {
      out.push([realpathSync(`/proc/${pid}/exe`), ...readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')])
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
  const { configFile, filterPort, dashboardPort } = await writeStartConfig(dir, sink.port)
  // No VIGIL_RUNTIME: with tsx absent, bin/vigil.mjs must pick dist/ by itself.
  const sup = await startSupervisor(t, {
    bin: join(app, 'bin/vigil.mjs'),
    configFile,
    cwd: dir,
    env: { VIGIL_RUNTIME: '' },
  })

  const sent = await sendMail({
    port: filterPort,
    from: 'sender@example.org',
    to: ['rcpt@example.com'],
    data: 'From: sender@example.org\r\nTo: rcpt@example.com\r\nSubject: compiled\r\n\r\nNo tsx here.\r\n',
  })
  assert.ok(sent.accepted, `the filter did not accept the message: ${sent.finalReply?.raw ?? sent.error}\n${sup.out()}`)
  const [mail] = await sink.waitForMessages(1, 60_000)
  assert.equal(mail.header('subject'), 'compiled')
  const res = await fetch(`http://127.0.0.1:${dashboardPort}/`)
  assert.equal(res.status, 200)
  await res.body?.cancel()

  const children = new Set(['filter', 'collector', 'dashboard'].map((n) => Number(startedPids(sup.out(), n).at(-1))))
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
  assert.equal(await sup.exited, 0, sup.out())
})
