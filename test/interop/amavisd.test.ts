// Interop: a REAL amavisd (Debian amavisd-new 2.13, foreground, two pre-forked children, $enable_zmq = 1, every
// check bypassed, forwarding to Postfix's smtp-sink) publishes into Vigil's collector. Its master's
// cold-start burst and its children's am.st/am.snmp land in the collector: /api/status lists the children,
// the collector's responder has InMsgs = N and the master's sysDescr. Amavis loads Amavis::ZMQ on
// the test-only ZMQ::LibZMQ3 shim (README.md).
//
// amavisd refuses a config file in a directory its user can write, and drops root privileges to
// $daemon_user: as root the test runs it as Debian's `amavis` user with a root-owned conf/ dir, and
// opens the collector's inner ipc socket (0777) so that user can connect to it.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createLogger } from '@vigil/protocol'
import { createResponderClient } from '@vigil/snmp-agent/responder-client.ts'
import { freePort, runSmtpSource, spawnService, startSmtpSink, tmpDir, waitFor } from '../harness/index.ts'
import { needs, startStack } from '../e2e/stack.ts'
import { assertAmavisInstalled, SHIM_DIR } from './amavis.ts'

const N = 3
const HOST = 'real-amavisd.interop.test'

test('real amavisd children publish into Vigil collector: /api/status lists them, InMsgs = N, sysDescr is amavis-2.13.0', async (t) => {
  if (!needs(t, 'collector/src/app.ts', 'snmp-agent/src/responder-client.ts')) return
  assertAmavisInstalled()
  assert.ok(existsSync('/usr/sbin/amavisd'), 'needs /usr/sbin/amavisd (Debian package amavisd-new)')
  const stack = await startStack(t, {
    name: 'interop-amavisd',
    myhostname: 'collector.interop.test',
    collector: { http_listen: '127.0.0.1:0', nanny_interval_secs: 1 },
  })
  const inner = stack.common.zmq.inner[0]
  assert.match(inner, /^ipc:\/\//)
  const root = process.getuid?.() === 0
  if (root) {
    await waitFor(() => existsSync(inner.slice('ipc://'.length)), { what: "the collector's inner socket file" })
    chmodSync(inner.slice('ipc://'.length), 0o777)
  }

  const sink = await startSmtpSink(t)
  const dir = await tmpDir(t, 'interop-amavisd-home')
  for (const d of ['tmp', 'db', 'var']) mkdirSync(join(dir, d))
  if (root) {
    const uid = Number(execFileSync('id', ['-u', 'amavis'], { encoding: 'utf8' }).trim())
    const gid = Number(execFileSync('id', ['-g', 'amavis'], { encoding: 'utf8' }).trim())
    for (const d of ['', 'tmp', 'db', 'var']) chownSync(join(dir, d), uid, gid)
  }
  const confDir = join(dir, 'conf')
  mkdirSync(confDir, { mode: 0o755 })
  // amavisd drops to the amavis user, who may not be able to traverse the checkout (a clone in a
  // private 0700 directory, as CI makes): give it a world-readable copy of the shim.
  const shimDir = join(confDir, 'perl')
  cpSync(SHIM_DIR, shimDir, { recursive: true })
  execFileSync('chmod', ['-R', 'a+rX', shimDir])
  const port = await freePort()
  const conf = join(confDir, 'amavisd.conf')
  writeFileSync(
    conf,
    [
      'use strict;',
      `$MYHOME = '${dir}';`,
      `$TEMPBASE = "$MYHOME/tmp"; $db_home = "$MYHOME/db"; $helpers_home = "$MYHOME/var";`,
      `$pid_file = "$MYHOME/amavisd.pid"; $lock_file = "$MYHOME/amavisd.lock";`,
      // As root: drop to Debian's amavis user. Otherwise our own user owns conf/, which amavis would
      // refuse as a writable config directory; its documented override says that is intended.
      root
        ? `$daemon_user = 'amavis'; $daemon_group = 'amavis';`
        : '$i_know_what_i_am_doing{no_conf_file_writable_check} = 1;',
      `$myhostname = '${HOST}';`,
      `$inet_socket_bind = '127.0.0.1'; $inet_socket_port = ${port};`,
      `$forward_method = 'smtp:[127.0.0.1]:${sink.port}'; $notify_method = $forward_method;`,
      // 2, not 1: with one server in the foreground amavisd runs as a single unforked process.
      '$max_servers = 2; $max_requests = 50;',
      '$enable_db = 0;',
      '$enable_zmq = 1;',
      `@zmq_sockets = ('${inner}');`,
      `$do_syslog = 0; $LOGFILE = "$MYHOME/amavis.log"; $log_level = 2;`,
      '@local_domains_maps = (1); @mynetworks = qw(127.0.0.0/8);',
      '@bypass_virus_checks_maps = (1); @bypass_spam_checks_maps = (1);',
      '@bypass_banned_checks_maps = (1); @bypass_header_checks_maps = (1);',
      '@av_scanners = (); @av_scanners_backup = ();',
      '$enable_dkim_verification = 0; $enable_dkim_signing = 0;',
      '1;',
      '',
    ].join('\n'),
    { mode: 0o644 },
  )
  const amavisLog = join(dir, 'amavis.log')
  const amavisd = await spawnService({
    t,
    name: 'amavisd',
    cmd: '/usr/bin/perl',
    pkg: 'amavisd-new',
    args: ['-T', '-I', shimDir, '/usr/sbin/amavisd', '-c', conf, 'foreground'],
    cwd: dir,
    logFile: join(confDir, 'stdout.log'),
    extraLogFiles: [amavisLog],
    ready: async () => existsSync(amavisLog) && readFileSync(amavisLog, 'utf8').includes('Initialization done'),
    readyTimeoutMs: 90_000,
    graceMs: 10_000,
  })

  type Row = { host: string; pid: number; state: string; busy: boolean }
  const status = async () => (await (await fetch(`http://${stack.http}/api/status`)).json()) as { processes: Row[] }
  // An amavisd child creates its ZMQ socket lazily: its first am.st comes with its first connection.
  const src = await runSmtpSource({ port, count: N, sessions: 1, sizeBytes: 800, timeoutMs: 120_000 })
  assert.equal(src.code, 0, src.stderr)
  await sink.waitForMessages(N, 60_000)

  const log = createLogger({ name: 'interop', level: 'warn', write: () => {} })
  const client = createResponderClient({ endpoint: stack.common.zmq.snmp, timeoutMs: 10_000, log })
  t.after(() => client.close())
  const values = await waitFor(
    async () => {
      const v = (await client.query('am.snmp')).values
      return Number(v.get('InMsgs')?.value) >= N ? v : undefined
    },
    { timeoutMs: 60_000, intervalMs: 250, what: `InMsgs = ${N} in Vigil's responder` },
  )
  assert.deepEqual(values.get('InMsgs'), { type: 'C32', value: String(N) })
  assert.equal(values.get('OutMsgs')?.value, String(N))
  // The real master's cold-start burst (spec §2.3) went through Vigil's bus.
  assert.deepEqual(values.get('sysDescr'), { type: 'STR', value: 'amavis-2.13.0 (20230106)' })
  assert.deepEqual(values.get('sysName'), { type: 'STR', value: HOST })

  // The same child, idle again, with the state letters amavis sent; nothing else in the table.
  const after = await waitFor(
    async () => {
      const s = await status()
      return s.processes.every((r) => !r.busy) ? s : undefined
    },
    { timeoutMs: 30_000, what: 'the amavisd child idle after the mail' },
  )
  // Children announce themselves on their first connection, so one or both pre-forked children.
  // amavis task ids are sprintf('%05d', pid) (spec §7.2): PID 5606 logs as (05606-01).
  const taskPrefix = (pid: number) => String(pid).padStart(5, '0')
  assert.ok(after.processes.length >= 1 && after.processes.length <= 2, JSON.stringify(after.processes))
  for (const child of after.processes) {
    assert.notEqual(child.pid, amavisd.pid, 'a child, not the master')
    assert.equal(child.state, '-', 'idle (amavis sends "-" when the session is over)')
    // amavis writes its log file asynchronously to the ZMQ stream: allow it to catch up.
    await waitFor(() => readFileSync(amavisLog, 'utf8').includes(`amavisd[${child.pid}]: (${taskPrefix(child.pid)}-`), {
      timeoutMs: 15_000,
      what: `PID ${child.pid} to be an amavisd child that logged a task`,
    })
  }
  const logged = readFileSync(amavisLog, 'utf8')
  assert.ok(
    after.processes.some((c) => logged.includes(`amavisd[${c.pid}]: (${taskPrefix(c.pid)}-01) `)),
    'at least one listed child logged the mail it processed',
  )
})
