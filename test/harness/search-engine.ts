// A private single-node Elasticsearch or OpenSearch for tests, from the integ-test zips that
// scripts/provision-engines.sh unpacks (the recipe in /work/shared/notes/search-engines.md).
// Each instance gets a temp run dir (config, data, logs, tmp) owned by the unprivileged account
// the engines insist on, free loopback ports, a 512 MiB heap, and is stopped by PID.
//
// Engines are heavy (10–15 s to start, ~0.8 GB RSS), so a test run shares one of each:
// scripts/run-tests.mjs starts them once and passes their URLs in VIGIL_TEST_ES_URL /
// VIGIL_TEST_OS_URL; requireEngine() uses those and starts a private one only when a test file
// runs on its own. Tests sharing an instance MUST keep to their own index prefix and delete it.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ErrorCode, VigilError } from '@vigil/protocol'
import { freePort } from './ports.ts'
import { runCommand, spawnService, type ServiceProcess } from './process.ts'
import { childScope, tmpDir, type Owner } from './tmp.ts'

export type EngineKind = 'elasticsearch' | 'opensearch'

export interface SearchEngineInstance {
  readonly kind: EngineKind
  /** http://127.0.0.1:PORT */
  readonly url: string
  /** PID of the process we started (ES: its launcher, whose exit stops the server); null for a shared instance. */
  readonly pid: number | null
  /** True when this is the run's shared instance (from VIGIL_TEST_*_URL): stop() leaves it running. */
  readonly shared: boolean
  /** The run dir (config, data, logs); null for a shared instance. */
  readonly dir: string | null
  /** Stops the engine (SIGTERM, SIGKILL after the grace) and removes its run dir. Idempotent. */
  stop(): Promise<void>
}

export interface StartSearchEngineOptions {
  /** Heap for -Xms/-Xmx, e.g. '512m' (default). */
  heap?: string
  /** Extra settings written to the engine's yml file. */
  settings?: Record<string, string | number | boolean>
  /** Start-up deadline (default 240 s: two engines booting at once on 2 idle cores take ~30 s, >120 s on a loaded box). */
  readyTimeoutMs?: number
}

export const ENGINES_DIR = process.env.VIGIL_ENGINES_DIR || '/var/cache/vigil/engines'
export const ENGINE_JAVA_HOME = process.env.VIGIL_ENGINE_JAVA_HOME || '/usr/lib/jvm/temurin-25-jdk-amd64'
/** The account the engines run as when the harness runs as root (both refuse to run as root). */
export const ENGINE_USER = 'vigil-search'

const DIST: Record<EngineKind, { dir: string; bin: string; envPrefix: 'ES' | 'OPENSEARCH'; yml: string }> = {
  elasticsearch: { dir: 'elasticsearch-9.5.3', bin: 'elasticsearch', envPrefix: 'ES', yml: 'elasticsearch.yml' },
  opensearch: { dir: 'opensearch-3.8.0', bin: 'opensearch', envPrefix: 'OPENSEARCH', yml: 'opensearch.yml' },
}

/** Environment variable that names a running instance shared by the whole test run. */
export const SHARED_ENGINE_ENV: Record<EngineKind, string> = {
  elasticsearch: 'VIGIL_TEST_ES_URL',
  opensearch: 'VIGIL_TEST_OS_URL',
}

/** Unpacked distribution directory of an engine; throws VIGIL_ERR_HARNESS_MISSING when not provisioned. */
export function engineHome(kind: EngineKind): string {
  const home = join(ENGINES_DIR, DIST[kind].dir)
  if (!existsSync(join(home, 'bin', DIST[kind].bin)))
    throw new VigilError(
      ErrorCode.HARNESS_MISSING,
      `${DIST[kind].dir} not found in ${ENGINES_DIR}: run scripts/provision-engines.sh`,
    )
  if (!existsSync(join(ENGINE_JAVA_HOME, 'bin', 'java')))
    throw new VigilError(ErrorCode.HARNESS_MISSING, `no Java at ${ENGINE_JAVA_HOME} (set VIGIL_ENGINE_JAVA_HOME)`)
  return home
}

/** One HTTP request to an engine, JSON in and out; resolves with the status and parsed body (never throws on 4xx/5xx). */
export async function engineRequest(
  url: string,
  method: string,
  path: string,
  body?: unknown,
  timeoutMs = 30_000,
): Promise<{ status: number; body: any }> {
  const res = await fetch(new URL(path, url), {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  })
  const text = await res.text()
  let parsed: unknown = text
  try {
    parsed = text ? JSON.parse(text) : null
  } catch {}
  return { status: res.status, body: parsed }
}

/** True once the cluster answers yellow or green (ES integ-test zips answer 405 on `GET /`, so health it is). */
export async function engineHealthy(url: string): Promise<boolean> {
  const r = await engineRequest(url, 'GET', '/_cluster/health?wait_for_status=yellow&timeout=1s', undefined, 3000)
  return r.status === 200 && (r.body?.status === 'yellow' || r.body?.status === 'green')
}

function ymlLines(settings: Record<string, string | number | boolean>): string {
  return Object.entries(settings)
    .map(([k, v]) => `${k}: ${typeof v === 'string' ? JSON.stringify(v) : String(v)}`)
    .join('\n')
}

/** Removes the JVMs' hsperfdata files of `pids` (left in the system temp dir, owned by the run account). */
function removePerfData(user: string, pids: number[]): void {
  const dir = join(tmpdir(), `hsperfdata_${user}`)
  for (const pid of pids) rmSync(join(dir, String(pid)), { force: true })
  try {
    if (readdirSync(dir).length === 0) rmSync(dir, { recursive: true, force: true })
  } catch {}
}

/**
 * Starts a private single-node engine on free loopback ports and waits for health yellow.
 * Stopped (and its run dir removed) when `owner` ends, or by stop(). Throws VIGIL_ERR_HARNESS_MISSING
 * when the engine is not provisioned, VIGIL_ERR_HARNESS_START (with the log tail) when it does not come up.
 */
export async function startSearchEngine(
  kind: EngineKind,
  owner: Owner | null,
  opts: StartSearchEngineOptions = {},
): Promise<SearchEngineInstance> {
  const home = engineHome(kind)
  const d = DIST[kind]
  const scope = childScope(owner)
  try {
    const base = await tmpDir(scope, kind === 'elasticsearch' ? 'es' : 'os')
    const run = join(base, 'run')
    for (const sub of ['data', 'logs', 'tmp']) mkdirSync(join(run, sub), { recursive: true })
    cpSync(join(home, 'config'), join(run, 'config'), { recursive: true })
    const host = '127.0.0.1'
    const port = await freePort(host)
    const transportPort = await freePort(host)
    const settings: Record<string, string | number | boolean> = {
      'cluster.name': `vigil-test-${kind}`,
      'node.name': 'vigil-test',
      'network.host': host,
      'http.port': port,
      'transport.port': transportPort,
      'discovery.type': 'single-node',
      'path.data': join(run, 'data'),
      'path.logs': join(run, 'logs'),
      // Tests delete `<prefix>*`; and a nearly full /tmp must not turn indices read-only mid-test.
      'action.destructive_requires_name': false,
      'cluster.routing.allocation.disk.threshold_enabled': false,
      ...(kind === 'elasticsearch' ? { 'xpack.security.enabled': false } : {}),
      ...opts.settings,
    }
    writeFileSync(join(run, 'config', d.yml), ymlLines(settings) + '\n')
    // The stock jvm.options logs GC to logs/gc.log relative to the working dir (OpenSearch): point it at the run dir.
    const jvmOptions = join(run, 'config', 'jvm.options')
    writeFileSync(
      jvmOptions,
      readFileSync(jvmOptions, 'utf8').replaceAll('file=logs/gc.log', `file=${run}/logs/gc.log`),
    )

    const asRoot = process.getuid?.() === 0
    if (asRoot) {
      const chown = await runCommand('chown', ['-R', `${ENGINE_USER}:`, run])
      if (chown.code !== 0)
        throw new VigilError(
          ErrorCode.HARNESS_MISSING,
          `cannot chown the run dir to ${ENGINE_USER} (${chown.stderr.trim()}): run scripts/provision-engines.sh`,
        )
    }
    const heap = opts.heap ?? '512m'
    // -XX:-UsePerfData: no hsperfdata files left in /tmp by the JVMs.
    const javaOpts = `-Xms${heap} -Xmx${heap} -XX:-UsePerfData`
    const env: NodeJS.ProcessEnv = {
      PATH: '/usr/bin:/bin',
      HOME: run,
      LANG: 'C.UTF-8',
      [`${d.envPrefix}_JAVA_HOME`]: ENGINE_JAVA_HOME,
      [`${d.envPrefix}_TMPDIR`]: join(run, 'tmp'),
      [`${d.envPrefix}_PATH_CONF`]: join(run, 'config'),
      [`${d.envPrefix}_JAVA_OPTS`]: javaOpts,
      // ES's launcher probes the final JVM flags in a `final-flags*` dir under its java.io.tmpdir and leaves it there.
      CLI_JAVA_OPTS: `-XX:-UsePerfData -Djava.io.tmpdir=${join(run, 'tmp')}`,
    }
    const pidFile = join(run, 'pid')
    const bin = join(home, 'bin', d.bin)
    const url = `http://${host}:${port}`
    const pids: number[] = []
    scope.after(() => {
      try {
        pids.push(Number(readFileSync(pidFile, 'utf8').trim()))
      } catch {}
      removePerfData(asRoot ? ENGINE_USER : (process.env.USER ?? 'root'), pids)
    })
    // setpriv execs (no intermediate process), so the PID we hold is the engine's own launcher;
    // in the foreground ES's launcher stops its server on SIGTERM, and the server exits if the launcher dies.
    const proc: ServiceProcess = await spawnService({
      t: scope,
      name: kind,
      cmd: asRoot ? 'setpriv' : bin,
      args: asRoot
        ? ['--reuid', ENGINE_USER, '--regid', ENGINE_USER, '--init-groups', bin, '-p', pidFile]
        : ['-p', pidFile],
      env,
      cwd: run,
      logFile: join(base, 'stdout.log'),
      extraLogFiles: [join(run, 'logs', `vigil-test-${kind}.log`)],
      readyTimeoutMs: opts.readyTimeoutMs ?? 240_000,
      graceMs: 20_000,
      ready: () => engineHealthy(url),
    })
    pids.push(proc.pid)
    return { kind, url, pid: proc.pid, shared: false, dir: run, stop: () => scope.close() }
  } catch (err) {
    await scope.close().catch(() => {})
    throw err
  }
}

/**
 * The engine a test file should use: the run's shared instance when VIGIL_TEST_ES_URL /
 * VIGIL_TEST_OS_URL is set (its stop() does nothing), else a private one owned by `owner`.
 */
export async function requireEngine(kind: EngineKind, owner: Owner | null): Promise<SearchEngineInstance> {
  const shared = process.env[SHARED_ENGINE_ENV[kind]]
  if (shared) {
    if (!(await engineHealthy(shared).catch(() => false)))
      throw new VigilError(ErrorCode.HARNESS_START, `${kind} at ${shared} (${SHARED_ENGINE_ENV[kind]}) is not healthy`)
    return { kind, url: shared, pid: null, shared: true, dir: null, stop: async () => {} }
  }
  return startSearchEngine(kind, owner)
}
