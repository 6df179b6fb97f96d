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
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePorts, spawnService, type ServiceProcess } from '../harness/index.ts'

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
