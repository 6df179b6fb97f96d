// Starters for the REAL amavis-services from Debian's amavisd-new 2.13 (the reference peer of the
// interop tests), run as plain foreground processes through the harness's spawnService.
//
// amavis-services has its endpoints hard-coded in a "USER CONFIGURABLE" block near the top of the
// script. Each test copies /usr/sbin/amavis-services into its temp dir and rewrites exactly these
// assignments (nothing else; rewriteUserConfig fails if a line is not found):
//   $MYHOME           -> the temp dir      (inner socket ipc://<dir>/amavisd-zmq.sock)
//   $outer_sock_specs -> tcp://127.0.0.1:<free port>
//   $snmp_sock_specs  -> tcp://127.0.0.1:<free port>
// The copy runs as `perl -T -I test/interop/perl <copy> -f -d 5 <task>`: the script is tainted
// (`#!/usr/bin/perl -T`), so -T must be repeated on the command line and PERL5LIB would be ignored;
// -I puts the test-only ZMQ::LibZMQ3 shim (README.md) in front. -f logs to stderr (our log file),
// -d 5 prints the "entering event loop" / "start forwarding" lines we wait for.
import type { TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { chownSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort, freePorts, spawnService, tmpDir, type ServiceProcess } from '../harness/index.ts'

export const AMAVIS_SERVICES = '/usr/sbin/amavis-services'
export const SHIM_DIR = fileURLToPath(new URL('./perl', import.meta.url))

/** Fails (not skips) with the Debian packages to install: `npm test` provisions them. */
export function assertAmavisInstalled(): void {
  const missing: string[] = []
  if (!existsSync(AMAVIS_SERVICES)) missing.push(`${AMAVIS_SERVICES} (Debian package amavisd-new)`)
  if (!existsSync('/usr/share/perl5/ZMQ/FFI.pm')) missing.push('ZMQ::FFI (Debian package libzmq-ffi-perl)')
  assert.equal(missing.length, 0, `interop tests need ${missing.join(' and ')}; run scripts/provision.sh`)
}

export interface AmavisEndpoints {
  dir: string
  inner: string
  outer: string
  snmp: string
}

/** Rewrites the USER CONFIGURABLE endpoint assignments of amavis-services' source text. */
export function rewriteUserConfig(src: string, ep: { home: string; outer: string; snmp: string }): string {
  const rules: [RegExp, string][] = [
    [/^\$MYHOME = .*$/m, `$MYHOME = '${ep.home}';`],
    [/^\$outer_sock_specs = .*$/m, `$outer_sock_specs = "${ep.outer}";`],
    [/^\$snmp_sock_specs = .*$/m, `$snmp_sock_specs = "${ep.snmp}";`],
  ]
  let out = src
  for (const [re, line] of rules) {
    assert.match(out, re, `amavis-services has no line matching ${re}: the USER CONFIGURABLE block changed`)
    out = out.replace(re, () => line)
  }
  return out
}

/** Copies amavis-services into `dir` with private endpoints; returns the copy's path and endpoints. */
export async function privateAmavisServices(
  dir: string,
  outer?: string,
): Promise<AmavisEndpoints & { script: string }> {
  const [outerPort, snmpPort] = await freePorts(2)
  const ep = {
    dir,
    inner: `ipc://${dir}/amavisd-zmq.sock`,
    outer: outer ?? `tcp://127.0.0.1:${outerPort}`,
    snmp: `tcp://127.0.0.1:${snmpPort}`,
  }
  const script = join(dir, 'amavis-services')
  writeFileSync(script, rewriteUserConfig(readFileSync(AMAVIS_SERVICES, 'utf8'), { home: dir, ...ep }), {
    mode: 0o755,
  })
  return { ...ep, script }
}

export type Task = 'msg-forwarder' | 'childproc-minder' | 'snmp-responder'
const READY_LINE: Record<Task, string> = {
  'msg-forwarder': 'msg_forwarder: start forwarding',
  'childproc-minder': 'childproc-minder: entering event loop',
  'snmp-responder': 'snmp-responder: entering event loop',
}

/** Starts one real amavis-services task in the foreground; stopped (SIGTERM by PID) when `t` ends. */
export async function startAmavisTask(
  t: TestContext,
  env: { dir: string; script: string },
  task: Task,
): Promise<ServiceProcess> {
  const logFile = join(env.dir, `${task}.log`)
  const svc = await spawnService({
    t,
    name: `amavis-services ${task}`,
    cmd: '/usr/bin/perl',
    pkg: 'perl',
    args: ['-T', '-I', SHIM_DIR, env.script, '-f', '-d', '5', task],
    cwd: env.dir,
    logFile,
    ready: async () => {
      const log = readFileSync(logFile, 'utf8')
      if (/_DIE: |Execution of .* aborted/.test(log)) throw new Error(`${task} died:\n${log}`)
      return log.includes(READY_LINE[task])
    },
    readyTimeoutMs: 60_000,
    graceMs: 5000,
  })
  return svc
}

export const AMAVISD = '/usr/sbin/amavisd'

export interface AmavisdOptions {
  /** Temp-dir prefix. */
  name: string
  /** $myhostname (the events' `host`). */
  myhostname: string
  /** $forward_method / $notify_method target: smtp:[127.0.0.1]:<port>. */
  forwardPort: number
  /** Extra amavisd.conf lines (Perl), after the defaults so they override them. */
  conf?: string[]
}

export interface Amavisd {
  /** amavisd's SMTP port on 127.0.0.1. */
  port: number
  /** $MYHOME (temp dir). */
  dir: string
  /** $LOGFILE: amavis's own log. */
  logFile: string
  process: ServiceProcess
  /** The amavis log so far. */
  log(): string
}

/**
 * Starts a REAL amavisd (foreground, two pre-forked children, every check bypassed, ZMQ off unless
 * `conf` turns it on, forwarding to 127.0.0.1:forwardPort) in a private temp home; stopped by PID
 * when `t` ends. As root it drops to Debian's `amavis` user, so its home is chowned to that user
 * and its conf/ dir stays root-owned (amavisd refuses a config directory it can write); as another
 * user the documented no_conf_file_writable_check override is set instead. The ZMQ shim is copied
 * world-readable into conf/perl and put first on @INC, as in amavisd.test.ts.
 */
export async function startAmavisd(t: TestContext, o: AmavisdOptions): Promise<Amavisd> {
  assert.ok(existsSync(AMAVISD), `needs ${AMAVISD} (Debian package amavisd-new); run scripts/provision.sh`)
  const root = process.getuid?.() === 0
  const dir = await tmpDir(t, o.name)
  for (const d of ['tmp', 'db', 'var']) mkdirSync(join(dir, d))
  if (root) {
    const uid = Number(execFileSync('id', ['-u', 'amavis'], { encoding: 'utf8' }).trim())
    const gid = Number(execFileSync('id', ['-g', 'amavis'], { encoding: 'utf8' }).trim())
    for (const d of ['', 'tmp', 'db', 'var']) chownSync(join(dir, d), uid, gid)
  }
  const confDir = join(dir, 'conf')
  mkdirSync(confDir, { mode: 0o755 })
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
      root
        ? `$daemon_user = 'amavis'; $daemon_group = 'amavis';`
        : '$i_know_what_i_am_doing{no_conf_file_writable_check} = 1;',
      `$myhostname = '${o.myhostname}';`,
      `$inet_socket_bind = '127.0.0.1'; $inet_socket_port = ${port};`,
      `$forward_method = 'smtp:[127.0.0.1]:${o.forwardPort}'; $notify_method = $forward_method;`,
      // 2, not 1: with one server in the foreground amavisd runs as a single unforked process.
      '$max_servers = 2; $max_requests = 50;',
      '$enable_db = 0;',
      '$enable_zmq = 0;',
      `$do_syslog = 0; $LOGFILE = "$MYHOME/amavis.log"; $log_level = 2;`,
      '@local_domains_maps = (1); @mynetworks = qw(127.0.0.0/8);',
      '@bypass_virus_checks_maps = (1); @bypass_spam_checks_maps = (1);',
      '@bypass_banned_checks_maps = (1); @bypass_header_checks_maps = (1);',
      '@av_scanners = (); @av_scanners_backup = ();',
      '$enable_dkim_verification = 0; $enable_dkim_signing = 0;',
      ...(o.conf ?? []),
      '1;',
      '',
    ].join('\n'),
    { mode: 0o644 },
  )
  const logFile = join(dir, 'amavis.log')
  const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '')
  const proc = await spawnService({
    t,
    name: 'amavisd',
    cmd: '/usr/bin/perl',
    pkg: 'amavisd-new',
    args: ['-T', '-I', shimDir, AMAVISD, '-c', conf, 'foreground'],
    cwd: dir,
    logFile: join(confDir, 'stdout.log'),
    extraLogFiles: [logFile],
    ready: async () => log().includes('Initialization done'),
    readyTimeoutMs: 90_000,
    graceMs: 10_000,
  })
  return { port, dir, logFile, process: proc, log }
}
