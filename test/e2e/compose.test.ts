// docker-compose.yml against the Compose Specification rules that matter, and every port and
// endpoint it (and deploy/) names against the code's defaults: a changed default breaks this test.
// No container engine is needed (none exists on CI); `docker compose config` runs when available.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parse } from 'yaml'
import type { z } from 'zod'
import {
  COUNTERS,
  DEFAULT_AGENTX,
  DEFAULT_DASHBOARD_LISTEN,
  DEFAULT_FORWARD_METHOD,
  DEFAULT_HTTP_LISTEN,
  DEFAULT_OUTER,
  DEFAULT_RESPONDER,
  DEFAULT_SMTP_LISTEN,
  commonConfigSchema,
  redisDsn,
} from '@vigil/protocol'

const root = fileURLToPath(new URL('../../', import.meta.url))
const composeText = readFileSync(join(root, 'docker-compose.yml'), 'utf8')
// Compose resolves YAML merge keys (<<) like `yaml` with merge: true.
const compose = parse(composeText, { merge: true }) as Record<string, any>
const services = compose.services as Record<string, Record<string, any>>
const deployConfig = parse(readFileSync(join(root, 'deploy/vigil.compose.yaml'), 'utf8')) as Record<string, any>
const snmpdConf = readFileSync(join(root, 'deploy/snmpd.conf'), 'utf8')
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8')

/** Port of "tcp://h:p", "h:p", "[v6]:p", "smtp:[h]:p", "tcp6:localhost:705". */
function portOf(endpoint: string): number {
  const m = /:(\d{1,5})$/.exec(endpoint)
  assert.ok(m, `no port in ${endpoint}`)
  return Number(m[1])
}

/** The code's defaults, by role. */
const VIGIL_PORTS = {
  smtpListen: portOf(DEFAULT_SMTP_LISTEN),
  forward: portOf(DEFAULT_FORWARD_METHOD),
  outer: portOf(DEFAULT_OUTER),
  responder: portOf(DEFAULT_RESPONDER),
  http: portOf(DEFAULT_HTTP_LISTEN),
  dashboard: portOf(DEFAULT_DASHBOARD_LISTEN),
  agentx: portOf(DEFAULT_AGENTX),
}
/** Third-party services' own well-known ports (IANA / their images' defaults). */
const THIRD_PARTY_PORTS = {
  snmp: 161,
  redis: portOf(redisDsn.parse({}).server), // Vigil's default DSN port, 6379
  clamd: 3310,
  spamd: 783,
  elasticsearch: 9200,
}

// ---- Compose Specification rules ---------------------------------------------------------------

const TOP_LEVEL = new Set(['name', 'services', 'networks', 'volumes', 'configs', 'secrets', 'include'])
const SERVICE_KEYS = new Set([
  'build',
  'image',
  'command',
  'entrypoint',
  'environment',
  'env_file',
  'ports',
  'expose',
  'volumes',
  'depends_on',
  'healthcheck',
  'restart',
  'network_mode',
  'networks',
  'extra_hosts',
  'init',
  'user',
  'working_dir',
  'profiles',
  'ulimits',
  'mem_limit',
  'cpus',
  'stop_grace_period',
  'stop_signal',
  'logging',
  'labels',
  'container_name',
  'hostname',
  'cap_add',
  'cap_drop',
  'read_only',
  'tmpfs',
  'security_opt',
  'pull_policy',
  'deploy',
  'configs',
  'secrets',
  'sysctls',
  'shm_size',
  'tty',
])
const HEALTHCHECK_KEYS = new Set([
  'test',
  'interval',
  'timeout',
  'retries',
  'start_period',
  'start_interval',
  'disable',
])
const DURATION = /^(\d+(\.\d+)?(us|ms|s|m|h))+$/
const CONDITIONS = new Set(['service_started', 'service_healthy', 'service_completed_successfully'])
const PORT_SHORT =
  /^(?:(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]):)?(?:(\d{1,5})(?:-\d{1,5})?:)?(\d{1,5})(?:-\d{1,5})?(?:\/(tcp|udp|sctp))?$/

function dependsOn(svc: Record<string, any>): Record<string, { condition: string }> {
  const d = svc.depends_on
  if (!d) return {}
  if (Array.isArray(d)) return Object.fromEntries(d.map((n: string) => [n, { condition: 'service_started' }]))
  return d
}

function published(svc: Record<string, any>): Array<{ host?: number; container: number; proto: string; ip?: string }> {
  return (svc.ports ?? []).map((p: string | Record<string, any>) => {
    if (typeof p === 'object')
      return { host: Number(p.published), container: Number(p.target), proto: p.protocol ?? 'tcp', ip: p.host_ip }
    const m = PORT_SHORT.exec(String(p))
    assert.ok(m, `bad port syntax ${p}`)
    const ip = /^(\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]):/.exec(String(p))?.[1]
    return { host: m[1] ? Number(m[1]) : undefined, container: Number(m[2]), proto: m[3] ?? 'tcp', ip }
  })
}

test('the compose file has only spec top-level keys and no obsolete version', () => {
  for (const k of Object.keys(compose)) assert.ok(TOP_LEVEL.has(k) || k.startsWith('x-'), `unknown top-level key ${k}`)
  assert.equal(compose.version, undefined)
  assert.equal(typeof compose.name, 'string')
})

test('every service has an image or a build, and only known keys', () => {
  for (const [name, svc] of Object.entries(services)) {
    assert.match(name, /^[a-z0-9][a-z0-9_.-]*$/, `service name ${name}`)
    assert.ok(svc.image || svc.build, `${name}: needs image or build`)
    for (const k of Object.keys(svc)) assert.ok(SERVICE_KEYS.has(k), `${name}: unknown key ${k}`)
    if (svc.build) {
      const target = typeof svc.build === 'object' ? svc.build.target : undefined
      if (target)
        assert.match(
          dockerfile,
          new RegExp(`^FROM \\S+ AS ${target}$`, 'm'),
          `${name}: Dockerfile has no stage ${target}`,
        )
    }
    if (svc.command) assert.ok(Array.isArray(svc.command) || typeof svc.command === 'string')
  }
})

test('every healthcheck has a valid test, durations and retries', () => {
  for (const [name, svc] of Object.entries(services)) {
    const hc = svc.healthcheck
    assert.ok(hc, `${name}: every service declares a healthcheck (depends_on conditions rely on them)`)
    for (const k of Object.keys(hc)) assert.ok(HEALTHCHECK_KEYS.has(k), `${name}: unknown healthcheck key ${k}`)
    if (Array.isArray(hc.test)) {
      assert.ok(
        ['CMD', 'CMD-SHELL', 'NONE'].includes(hc.test[0]),
        `${name}: healthcheck test must start with CMD, CMD-SHELL or NONE`,
      )
      assert.ok(hc.test.length >= 2 || hc.test[0] === 'NONE')
      if (hc.test[0] === 'CMD-SHELL') assert.equal(hc.test.length, 2, `${name}: CMD-SHELL takes one string`)
    } else assert.equal(typeof hc.test, 'string', `${name}: healthcheck test`)
    for (const k of ['interval', 'timeout', 'start_period', 'start_interval']) {
      if (hc[k] !== undefined) assert.match(String(hc[k]), DURATION, `${name}: healthcheck ${k}`)
    }
    if (hc.retries !== undefined) assert.ok(Number.isInteger(hc.retries) && hc.retries > 0, `${name}: retries`)
  }
})

test('depends_on targets exist, use spec conditions, are healthy-checkable and acyclic', () => {
  for (const [name, svc] of Object.entries(services)) {
    for (const [dep, spec] of Object.entries(dependsOn(svc))) {
      assert.ok(services[dep], `${name}: depends_on unknown service ${dep}`)
      assert.notEqual(dep, name)
      assert.ok(CONDITIONS.has(spec.condition), `${name}: bad condition ${spec.condition}`)
      if (spec.condition === 'service_healthy')
        assert.ok(services[dep].healthcheck, `${name}: ${dep} has no healthcheck`)
      const depProfiles = services[dep].profiles ?? []
      assert.ok(
        depProfiles.length === 0 || (svc.profiles ?? []).some((p: string) => depProfiles.includes(p)),
        `${name}: depends on profiled ${dep}`,
      )
    }
  }
  const state = new Map<string, 'visiting' | 'done'>()
  const visit = (n: string, path: string[]): void => {
    if (state.get(n) === 'done') return
    assert.notEqual(state.get(n), 'visiting', `depends_on cycle: ${[...path, n].join(' -> ')}`)
    state.set(n, 'visiting')
    for (const d of Object.keys(dependsOn(services[n]))) visit(d, [...path, n])
    state.set(n, 'done')
  }
  for (const n of Object.keys(services)) visit(n, [])
})

test('services sharing a network namespace reference an existing service and publish nothing themselves', () => {
  for (const [name, svc] of Object.entries(services)) {
    if (!svc.network_mode) continue
    const m = /^service:(.+)$/.exec(svc.network_mode)
    assert.ok(m || ['host', 'none', 'bridge'].includes(svc.network_mode), `${name}: network_mode ${svc.network_mode}`)
    if (!m) continue
    assert.ok(services[m[1]], `${name}: network_mode names unknown service ${m[1]}`)
    assert.ok(dependsOn(svc)[m[1]], `${name}: must depend on ${m[1]} whose namespace it joins`)
    for (const k of ['ports', 'expose', 'networks', 'extra_hosts', 'hostname'])
      assert.equal(svc[k], undefined, `${name}: ${k} conflicts with network_mode`)
  }
})

test('named volumes are declared and bind-mount sources exist in the repo', () => {
  const declared = new Set(Object.keys(compose.volumes ?? {}))
  const used = new Set<string>()
  for (const [name, svc] of Object.entries(services)) {
    for (const v of svc.volumes ?? []) {
      const [source, target, mode] = String(v).split(':')
      assert.ok(target?.startsWith('/'), `${name}: volume target must be absolute: ${v}`)
      if (mode) assert.match(mode, /^(ro|rw|z|Z)(,(ro|rw|z|Z))*$/, `${name}: volume mode ${mode}`)
      if (source.startsWith('.') || source.startsWith('/')) {
        assert.ok(existsSync(join(root, source)), `${name}: bind mount source ${source} missing`)
      } else {
        assert.ok(declared.has(source), `${name}: volume ${source} not declared at top level`)
        used.add(source)
      }
    }
  }
  for (const v of declared) assert.ok(used.has(v), `volume ${v} declared but unused`)
})

test('ports use valid syntax, publish host = container port, and are the code defaults', () => {
  const allowed = new Set<number>([...Object.values(VIGIL_PORTS), ...Object.values(THIRD_PARTY_PORTS)])
  const all: string[] = []
  for (const [name, svc] of Object.entries(services)) {
    for (const p of published(svc)) {
      assert.ok(allowed.has(p.container), `${name}: port ${p.container} is not a code default`)
      assert.equal(p.host, p.container, `${name}: publish ${p.container} on the same host port`)
      if (p.proto === 'tcp')
        assert.equal(p.ip, '127.0.0.1', `${name}: TCP port ${p.container} must be published on loopback only`)
      all.push(`${p.container}/${p.proto}`)
    }
  }
  // The pod (vigil-collector's namespace) publishes exactly the Vigil listeners plus SNMP.
  const pod = published(services['vigil-collector'])
    .map((p) => `${p.container}/${p.proto}`)
    .sort()
  assert.deepEqual(
    pod,
    [
      `${VIGIL_PORTS.smtpListen}/tcp`,
      `${VIGIL_PORTS.outer}/tcp`,
      `${VIGIL_PORTS.responder}/tcp`,
      `${VIGIL_PORTS.http}/tcp`,
      `${VIGIL_PORTS.dashboard}/tcp`,
      `${THIRD_PARTY_PORTS.snmp}/udp`,
    ].sort(),
  )
  assert.equal(new Set(all).size, all.length, 'a port is published twice')
})

test('the compose config file uses the default ports for every endpoint and is valid for each section', async (t) => {
  const c = deployConfig
  assert.equal(portOf(c.zmq.outer), VIGIL_PORTS.outer)
  assert.equal(portOf(c.zmq.snmp), VIGIL_PORTS.responder)
  assert.equal(portOf(c.collector.http_listen), VIGIL_PORTS.http)
  assert.equal(portOf(c.dashboard.listen), VIGIL_PORTS.dashboard)
  assert.equal(portOf(c.dashboard.collector_http), VIGIL_PORTS.http, 'the dashboard relays the collector HTTP side')
  assert.deepEqual(c.filter.listen.map(portOf), [VIGIL_PORTS.smtpListen])
  assert.equal(portOf(c.filter.forward_method), VIGIL_PORTS.forward)
  assert.equal(portOf(c.snmp_agent.agentx_socket), VIGIL_PORTS.agentx)
  assert.equal(portOf(c.filter.clamd_address), THIRD_PARTY_PORTS.clamd)
  assert.equal(portOf(c.filter.spamd_address), THIRD_PARTY_PORTS.spamd)
  for (const dsn of c.storage_redis_dsn) assert.equal(portOf(dsn.server), THIRD_PARTY_PORTS.redis)
  // Host names used in the config are compose services (or the host gateway).
  for (const host of [
    /^(\w[\w.-]*):/.exec(c.filter.clamd_address)![1],
    /^(\w[\w.-]*):/.exec(c.filter.spamd_address)![1],
    ...c.storage_redis_dsn.map((d: { server: string }) => d.server.split(':')[0]),
  ]) {
    assert.ok(services[host], `config names ${host}, which is not a compose service`)
  }
  assert.match(c.filter.forward_method, /\[host\.docker\.internal\]/)
  assert.ok(services['vigil-collector'].extra_hosts.includes('host.docker.internal:host-gateway'))

  const common = commonConfigSchema.safeParse(
    Object.fromEntries(
      Object.entries(c).filter(([k]) => !['filter', 'collector', 'snmp_agent', 'status', 'dashboard'].includes(k)),
    ),
  )
  assert.ok(common.success, common.error?.message)
  const sections = [
    ['filter', 'filter-core', 'filterConfigSchema'],
    ['collector', 'collector', 'collectorConfigSchema'],
    ['snmp_agent', 'snmp-agent', 'snmpAgentConfigSchema'],
    ['dashboard', 'dashboard/server', 'dashboardConfigSchema'],
  ] as const
  for (const [section, dir, exportName] of sections) {
    const file = join(root, dir, 'src/config.ts')
    if (!existsSync(file)) {
      t.diagnostic(`${section}: ${dir}/src/config.ts does not exist yet; section not validated`)
      continue
    }
    const mod = (await import(pathToFileURL(file).href)) as Record<string, z.ZodType>
    const r = mod[exportName].safeParse(c[section] ?? {})
    assert.ok(r.success, `${section}: ${r.error?.message}`)
  }
})

test('events have a consumer: the collector drains the Redis list the filters write, or receives them on the shared home', async () => {
  const c = deployConfig
  const common = commonConfigSchema.parse(
    Object.fromEntries(
      Object.entries(c).filter(([k]) => !['filter', 'collector', 'snmp_agent', 'status', 'dashboard'].includes(k)),
    ),
  )
  const { collectorConfigSchema } = await import('@vigil/collector/config.ts')
  const { filterConfigSchema } = await import('@vigil/filter-core/config.ts')
  const { shipsFromRedis } = await import('@vigil/collector/pipeline/pipeline.ts')
  const filter = filterConfigSchema.parse(c.filter ?? {})
  const collector = collectorConfigSchema.parse(c.collector ?? {})
  assert.ok(filter.enable_events, 'the filter writes events')
  const home = (n: string) => (services[n].volumes as string[]).some((v) => v === `vigil-home:${common.home}`)
  if (common.storage_redis_dsn.length > 0) {
    // Events go to Redis only: the collector must drain that list (the same key, the same server).
    assert.ok(shipsFromRedis(common, collector), 'storage_redis_dsn is set but the collector does not drain Redis')
    const redisService = services[common.storage_redis_dsn[0].server.split(':')[0]]
    assert.ok(redisService, 'the Redis the filters write to is a compose service')
    assert.ok(
      (redisService.command as string[]).join(' ').includes('--appendonly yes'),
      'Redis keeps queued events across a restart',
    )
    assert.ok(dependsOn(services['vigil-collector']).redis, 'the collector starts after Redis')
  } else {
    // Events go over ipc:// in <home>: filter and collector must share the home volume.
    assert.ok(home('vigil-filter') && home('vigil-collector'), 'filter and collector share the home volume')
  }
})

test('snmpd.conf offers the AgentX master on the default port and healthchecks query real OIDs', () => {
  const ax = /^agentXSocket\s+(\S+)$/m.exec(snmpdConf)
  assert.ok(ax)
  assert.equal(portOf(ax[1]), VIGIL_PORTS.agentx)
  assert.equal(ax[1], deployConfig.snmp_agent.agentx_socket, 'subagent and master agree on the AgentX socket')
  assert.match(snmpdConf, /^master agentx$/m)
  assert.match(snmpdConf, new RegExp(`^agentaddress udp:${THIRD_PARTY_PORTS.snmp}$`, 'm'))
  const agentCheck = services['vigil-snmp-agent'].healthcheck.test as string[]
  const oid = agentCheck[agentCheck.length - 1]
  assert.ok(
    COUNTERS.some((c) => c.oid === oid),
    `${oid} is not an AMAVIS-MIB object`,
  )
  assert.ok(agentCheck.includes(`127.0.0.1:${THIRD_PARTY_PORTS.snmp}`))
  assert.match(
    services['vigil-collector'].healthcheck.test.join(' '),
    new RegExp(`127\\.0\\.0\\.1:${VIGIL_PORTS.http}/`),
  )
  assert.match(
    services['vigil-dashboard'].healthcheck.test.join(' '),
    new RegExp(`127\\.0\\.0\\.1:${VIGIL_PORTS.dashboard}/`),
  )
  assert.match(
    services['vigil-filter'].healthcheck.test.join(' '),
    new RegExp(`connect\\(${VIGIL_PORTS.smtpListen}, '127\\.0\\.0\\.1'\\)`),
  )
  assert.ok((services.redis.healthcheck.test as string[]).includes(String(THIRD_PARTY_PORTS.redis)))
  assert.ok((services.spamassassin.healthcheck.test as string[]).includes(String(THIRD_PARTY_PORTS.spamd)))
})

test('the Dockerfile builds every workspace on node 20 and exposes the default ports', () => {
  assert.match(dockerfile, /^FROM node:20-bookworm-slim AS vigil$/m)
  assert.match(dockerfile, /^RUN npm ci\b/m)
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { workspaces: string[] }
  for (const ws of pkg.workspaces)
    assert.match(dockerfile, new RegExp(`^COPY ${ws}/package\\.json ${ws}/$`, 'm'), `Dockerfile misses workspace ${ws}`)
  const expose = /^EXPOSE ([\d ]+)$/m.exec(dockerfile.slice(dockerfile.indexOf('AS vigil')))
  assert.ok(expose)
  assert.deepEqual(
    expose[1].split(' ').map(Number).sort(),
    [VIGIL_PORTS.smtpListen, VIGIL_PORTS.outer, VIGIL_PORTS.responder, VIGIL_PORTS.http, VIGIL_PORTS.dashboard].sort(),
  )
  assert.match(dockerfile, /^CMD \["node", "bin\/vigil\.mjs"/m)
})

test('docker compose validates the file when a compose CLI is installed', async (t) => {
  const v2 = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8', timeout: 10_000 })
  if (v2.status === 0) {
    const r = spawnSync('docker', ['compose', 'config', '-q'], { cwd: root, encoding: 'utf8', timeout: 60_000 })
    assert.equal(r.status, 0, `docker compose config: ${r.stderr}`)
    return
  }
  const v1 = spawnSync('docker-compose', ['version'], { encoding: 'utf8', timeout: 10_000 })
  if (v1.status === 0) {
    // Debian's docker-compose 1.29 (VIGIL_PROVISION_COMPOSE=1) predates the top-level `name` key:
    // validate a copy without it, resolving relative paths against the repo.
    const dir = await mkdtemp(join(tmpdir(), 'vigil-compose-'))
    t.after(() => rm(dir, { recursive: true, force: true }))
    const copy = join(dir, 'docker-compose.yml')
    await writeFile(copy, composeText.replace(/^name: .*\n/m, ''))
    const r = spawnSync('docker-compose', ['--project-directory', root, '-f', copy, 'config', '-q'], {
      encoding: 'utf8',
      timeout: 60_000,
    })
    assert.equal(r.status, 0, `docker-compose config: ${r.stderr}`)
    return
  }
  t.skip('no docker compose / docker-compose installed (VIGIL_PROVISION_COMPOSE=1 scripts/provision.sh installs one)')
})

test('vigil check-config accepts the compose config file', () => {
  const r = spawnSync(process.execPath, ['bin/vigil.mjs', '--config', 'deploy/vigil.compose.yaml', 'check-config'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  })
  assert.equal(r.status, 0, `vigil check-config: ${r.stdout}${r.stderr}`)
})
