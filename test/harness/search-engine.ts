// A private single-node Elasticsearch or OpenSearch for tests, from the integ-test zips that
// scripts/provision-engines.sh unpacks (the recipe in /work/shared/notes/search-engines.md).
// Four distributions: Elasticsearch 9.5.3 and OpenSearch 3.8.0 (the defaults, Java 21+), and
// Elasticsearch 8.19.21 and OpenSearch 2.19.6 (Java 17), picked with `{ version }`.
// Each instance gets a temp run dir (config, data, logs, tmp) owned by the unprivileged account
// the engines insist on, free loopback ports, a 512 MiB heap, and is stopped by PID.
//
// Engines are heavy (6–15 s to start, ~0.7–0.9 GB RSS), so a test run shares one of each it
// needs: scripts/run-tests.mjs starts them once (scripts/test-engines.ts) and passes their URLs in
// VIGIL_TEST_ES_URL / VIGIL_TEST_OS_URL / VIGIL_TEST_ES8_URL / VIGIL_TEST_OS2_URL; requireEngine()
// uses those and starts a private one only when a test file runs on its own. Tests sharing an
// instance MUST keep to their own index prefix and delete it.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ErrorCode, VigilError } from '@vigil/protocol'
import { freePort } from './ports.ts'
import { runCommand, spawnService, type ServiceProcess } from './process.ts'
import { childScope, tmpDir, type Owner } from './tmp.ts'

export type EngineKind = 'elasticsearch' | 'opensearch'

/** One provisioned distribution. */
export interface EngineDist {
  readonly kind: EngineKind
  readonly version: string
  /** `kind@version`, as scripts/test-engines.ts takes it. */
  readonly id: string
  /** Directory under ENGINES_DIR. */
  readonly dir: string
  /** The Java it runs on: 17 (ES 8.19, OpenSearch 2.x: their security manager is gone in Java 24+) or 21+. */
  readonly java: 17 | 21
  /** Environment variable naming the run's shared instance of this distribution. */
  readonly sharedEnv: string
}

function dist(kind: EngineKind, version: string, java: 17 | 21, sharedEnv: string): EngineDist {
  return { kind, version, id: `${kind}@${version}`, dir: `${kind}-${version}`, java, sharedEnv }
}

/** Every distribution provision-engines.sh fetches; the first of each kind is its default. */
export const ENGINE_DISTS: readonly EngineDist[] = [
  dist('elasticsearch', '9.5.3', 21, 'VIGIL_TEST_ES_URL'),
  dist('opensearch', '3.8.0', 21, 'VIGIL_TEST_OS_URL'),
  dist('elasticsearch', '8.19.21', 17, 'VIGIL_TEST_ES8_URL'),
  dist('opensearch', '2.19.6', 17, 'VIGIL_TEST_OS2_URL'),
]

/** The distribution of `kind` at `version` (default: the newest); throws VIGIL_ERR_HARNESS_MISSING for one not provisioned. */
export function engineDist(kind: EngineKind, version?: string): EngineDist {
  const d = ENGINE_DISTS.find((x) => x.kind === kind && (version === undefined || x.version === version))
  if (!d)
    throw new VigilError(
      ErrorCode.HARNESS_MISSING,
      `no ${kind} ${version} in the harness (provisioned: ${ENGINE_DISTS.map((x) => x.id).join(', ')})`,
    )
  return d
}

export interface SearchEngineInstance {
  readonly kind: EngineKind
  /** The server's own version number (e.g. '8.19.21'), as checked by the harness. */
  readonly version?: string
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

/** An instance startSearchEngine() started: it can also be taken down and brought back, for outage tests. */
export interface PrivateSearchEngine extends SearchEngineInstance {
  readonly version: string
  /** Changes on restart(); null while killed. */
  readonly pid: number | null
  readonly shared: false
  readonly dir: string
  /** Stops the engine process (SIGTERM, SIGKILL after the grace) but keeps its run dir, data and ports. Idempotent. */
  kill(): Promise<void>
  /** Starts a killed engine again on the same data and ports (same url) and waits for health yellow; a no-op while it runs. */
  restart(): Promise<void>
}

export interface StartSearchEngineOptions {
  /** Distribution version (default: the newest of the kind, 9.5.3 / 3.8.0). */
  version?: string
  /** Heap for -Xms/-Xmx, e.g. '512m' (default). */
  heap?: string
  /** Extra settings written to the engine's yml file. */
  settings?: Record<string, string | number | boolean>
  /** Start-up deadline (default 240 s: four engines booting at once on 2 idle cores take ~50 s, >120 s on a loaded box). */
  readyTimeoutMs?: number
}

export const ENGINES_DIR = process.env.VIGIL_ENGINES_DIR || '/var/cache/vigil/engines'
/** Java 21+ for Elasticsearch 9 and OpenSearch 3. */
export const ENGINE_JAVA_HOME = process.env.VIGIL_ENGINE_JAVA_HOME || '/usr/lib/jvm/temurin-25-jdk-amd64'
/** Java 17 for Elasticsearch 8.19 and OpenSearch 2.19 (Debian's openjdk-17, installed by provision-engines.sh). */
export const ENGINE_JAVA17_HOME = process.env.VIGIL_ENGINE_JAVA17_HOME || '/usr/lib/jvm/java-17-openjdk-amd64'
/** The account the engines run as when the harness runs as root (both refuse to run as root). */
export const ENGINE_USER = 'vigil-search'

const KIND: Record<EngineKind, { bin: string; envPrefix: 'ES' | 'OPENSEARCH'; yml: string }> = {
  elasticsearch: { bin: 'elasticsearch', envPrefix: 'ES', yml: 'elasticsearch.yml' },
  opensearch: { bin: 'opensearch', envPrefix: 'OPENSEARCH', yml: 'opensearch.yml' },
}

/** Environment variable that names a running default-version instance shared by the whole test run. */
export const SHARED_ENGINE_ENV: Record<EngineKind, string> = {
  elasticsearch: engineDist('elasticsearch').sharedEnv,
  opensearch: engineDist('opensearch').sharedEnv,
}

const javaHome = (d: EngineDist) => (d.java === 17 ? ENGINE_JAVA17_HOME : ENGINE_JAVA_HOME)

/** Unpacked distribution directory of an engine; throws VIGIL_ERR_HARNESS_MISSING when it or its Java is not provisioned. */
export function engineHome(kind: EngineKind, version?: string): string {
  const d = engineDist(kind, version)
  const home = join(ENGINES_DIR, d.dir)
  if (!existsSync(join(home, 'bin', KIND[kind].bin)))
    throw new VigilError(
      ErrorCode.HARNESS_MISSING,
      `${d.dir} not found in ${ENGINES_DIR}: run scripts/provision-engines.sh`,
    )
  const java = javaHome(d)
  if (!existsSync(join(java, 'bin', 'java')))
    throw new VigilError(
      ErrorCode.HARNESS_MISSING,
      `no Java ${d.java === 17 ? 17 : '21+'} at ${java} for ${d.id} (set ${d.java === 17 ? 'VIGIL_ENGINE_JAVA17_HOME' : 'VIGIL_ENGINE_JAVA_HOME'}, or run scripts/provision-engines.sh)`,
    )
  return home
}

/**
 * The distributions a test file's source asks for, so that scripts/test-engines.ts starts each
 * once for the run: every distribution id written as a literal (`'opensearch@2.19.6'`, as in a
 * file's table of the versions it runs on), and both defaults for any `requireEngine(` call that
 * names no version (a variable kind counts as both; a variable version, the file's literal ids), so a
 * file is never left without its engine.
 */
export function enginesRequiredBy(source: string): EngineDist[] {
  const found = new Set<EngineDist>()
  for (const d of ENGINE_DISTS) if (source.includes(`'${d.id}'`)) found.add(d)
  // a call whose version is a variable takes it from the file's table of literal ids
  const listed = found.size > 0
  for (const m of source.matchAll(/requireEngine\(([^)]*)\)/g)) {
    const call = /^\s*'(elasticsearch|opensearch)'\s*,[^{]*(?:\{[^}]*\bversion:\s*'([^']+)')?/.exec(m[1])
    const versioned = call?.[2] ? ENGINE_DISTS.find((d) => d.kind === call[1] && d.version === call[2]) : undefined
    const fromTable = !versioned && /\bversion\b/.test(m[1]) && listed
    if (versioned) found.add(versioned)
    else if (!fromTable) for (const kind of ['elasticsearch', 'opensearch'] as const) found.add(engineDist(kind))
  }
  return ENGINE_DISTS.filter((d) => found.has(d))
}

/** The distribution of a `kind@version` id (as enginesRequiredBy and scripts/test-engines.ts name them). */
export function engineDistById(id: string): EngineDist {
  const [kind, version] = id.split('@')
  if (kind !== 'elasticsearch' && kind !== 'opensearch')
    throw new VigilError(ErrorCode.HARNESS_MISSING, `not an engine distribution id: ${id}`)
  return engineDist(kind, version)
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

/** The node's version number (`GET /` is 405 on the ES integ-test zips, so the nodes API it is); null when it does not answer. */
export async function engineVersion(url: string): Promise<string | null> {
  const r = await engineRequest(url, 'GET', '/_nodes/_local?filter_path=nodes.*.version', undefined, 5000)
  const nodes = Object.values((r.body?.nodes ?? {}) as Record<string, { version?: string }>)
  return r.status === 200 && nodes[0]?.version ? nodes[0].version : null
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
 * Starts a private single-node engine (`opts.version`, default the newest of `kind`) on free
 * loopback ports and waits for health yellow. Stopped (and its run dir removed) when `owner` ends,
 * or by stop(). Throws VIGIL_ERR_HARNESS_MISSING when the engine or its Java is not provisioned,
 * VIGIL_ERR_HARNESS_START (with the log tail) when it does not come up.
 */
export async function startSearchEngine(
  kind: EngineKind,
  owner: Owner | null,
  opts: StartSearchEngineOptions = {},
): Promise<PrivateSearchEngine> {
  const d = engineDist(kind, opts.version)
  const home = engineHome(kind, d.version)
  const k = KIND[kind]
  const scope = childScope(owner)
  try {
    const base = await tmpDir(scope, `${kind === 'elasticsearch' ? 'es' : 'os'}${d.version.split('.')[0]}`)
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
    writeFileSync(join(run, 'config', k.yml), ymlLines(settings) + '\n')
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
      [`${k.envPrefix}_JAVA_HOME`]: javaHome(d),
      [`${k.envPrefix}_TMPDIR`]: join(run, 'tmp'),
      [`${k.envPrefix}_PATH_CONF`]: join(run, 'config'),
      [`${k.envPrefix}_JAVA_OPTS`]: javaOpts,
      // ES's launcher probes the final JVM flags in a `final-flags*` dir under its java.io.tmpdir and leaves it there.
      CLI_JAVA_OPTS: `-XX:-UsePerfData -Djava.io.tmpdir=${join(run, 'tmp')}`,
    }
    const pidFile = join(run, 'pid')
    const bin = join(home, 'bin', k.bin)
    const url = `http://${host}:${port}`
    const pids: number[] = []
    const serverPid = () => {
      try {
        pids.push(Number(readFileSync(pidFile, 'utf8').trim()))
      } catch {}
    }
    scope.after(() => {
      serverPid()
      removePerfData(asRoot ? ENGINE_USER : (process.env.USER ?? 'root'), pids)
    })
    let starts = 0
    // setpriv execs (no intermediate process), so the PID we hold is the engine's own launcher;
    // in the foreground ES's launcher stops its server on SIGTERM, and the server exits if the launcher dies.
    const launch = async (): Promise<ServiceProcess> => {
      rmSync(pidFile, { force: true })
      const proc = await spawnService({
        t: scope,
        name: `${d.id}${starts++ ? ` (restart ${starts - 1})` : ''}`,
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
      return proc
    }
    let proc: ServiceProcess | null = await launch()
    const version = await engineVersion(url)
    if (version !== d.version)
      throw new VigilError(ErrorCode.HARNESS_START, `${d.dir} at ${url} says it is version ${version}`)
    return {
      kind,
      version,
      url,
      get pid() {
        return proc?.pid ?? null
      },
      shared: false,
      dir: run,
      stop: () => scope.close(),
      async kill() {
        serverPid()
        await proc?.stop()
        proc = null
      },
      async restart() {
        if (proc?.running()) return
        proc = await launch()
      },
    }
  } catch (err) {
    await scope.close().catch(() => {})
    throw err
  }
}

/**
 * The engine a test file should use: the run's shared instance when its VIGIL_TEST_*_URL is set
 * (its stop() does nothing; it must answer as `opts.version`), else a private one owned by `owner`.
 * scripts/test-engines.ts finds the versions a file needs in its source (enginesRequiredBy), so
 * name the version as a literal: requireEngine('elasticsearch', scope, { version: '8.19.21' }).
 */
export async function requireEngine(
  kind: EngineKind,
  owner: Owner | null,
  opts: { version?: string } = {},
): Promise<SearchEngineInstance & { readonly version: string }> {
  const d = engineDist(kind, opts.version)
  const shared = process.env[d.sharedEnv]
  if (shared) {
    if (!(await engineHealthy(shared).catch(() => false)))
      throw new VigilError(ErrorCode.HARNESS_START, `${kind} at ${shared} (${d.sharedEnv}) is not healthy`)
    const version = await engineVersion(shared).catch(() => null)
    if (version !== d.version)
      throw new VigilError(
        ErrorCode.HARNESS_START,
        `${kind} at ${shared} (${d.sharedEnv}) is version ${version}, not ${d.version}`,
      )
    return { kind, version, url: shared, pid: null, shared: true, dir: null, stop: async () => {} }
  }
  return startSearchEngine(kind, owner, { version: d.version })
}
