// The dashboard's test stack: a real collector (embedded search store in a temp home, or OpenSearch /
// Elasticsearch from the pipeline harness), its HTTP API on a free port, and a real dashboard
// server (createDashboard) serving a built web app, with an admin and a viewer user. Optionally a
// real filter forwarding to a Postfix smtp-sink (with the harness's spamd and clamd) and a corpus
// of messages sent through it (clean, spam, virus, banned, an XSS subject, geolocating client IPs
// over XFORWARD); the stack returns once the search API counts every corpus event.
//
//   const s = await startDashboardStack(t, { corpus: true })
//   const page = await openBrowserPage(t)
//   await s.login(page, 'viewer')                  // session cookie in the page's context
//   await page.goto(s.href('discover', { q: 'action:PASS', from: 'now-1h', to: 'now' }))
//   const api = await s.api('admin')               // Node-side client with the session and CSRF token
//   const { body } = await api.get('/api/search?size=0&from=now-1h')
//
// Everything is stopped when the test (or scope) ends. The built app comes from webDir().
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { existsSync, statSync } from 'node:fs'
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import type { Page } from 'playwright-core'
import {
  commonConfigSchema,
  createLogger,
  eventsSocket,
  innerSocket,
  type CommonConfig,
  type Logger,
} from '@vigil/protocol'
import type { Collector, CollectorInternals } from '@vigil/collector/app.ts'
import type { Filter } from '@vigil/filter-core/app.ts'
import type { Dashboard } from '@vigil/dashboard-server/app.ts'
import {
  EICAR,
  engineRequest,
  freePorts,
  gtubeMessage,
  mimeWithAttachment,
  plainMessage,
  requireEngine,
  runCommand,
  sendMail,
  startClamd,
  startSmtpSink,
  startSpamd,
  tmpDir,
  waitFor,
  type EngineKind,
  type Owner,
  type SmtpSink,
} from '../../harness/index.ts'
import { ROOT } from '../stack.ts'

export { ROOT }

// ---- the built web app -------------------------------------------------------------------------

const WEB = join(ROOT, 'dashboard/web')
const WEB_SOURCES = [
  'dashboard/web/src',
  'dashboard/web/public',
  'dashboard/web/index.html',
  'dashboard/web/vite.config.ts',
  'collector/src/search',
]

async function sourceFiles(): Promise<string[]> {
  const out: string[] = []
  for (const s of WEB_SOURCES) {
    const abs = join(ROOT, s)
    if (!existsSync(abs)) continue
    if (statSync(abs).isFile()) out.push(abs)
    else
      for (const d of await readdir(abs, { recursive: true, withFileTypes: true }))
        if (d.isFile()) out.push(join(d.parentPath, d.name))
  }
  return out.sort()
}

let built: Promise<string> | undefined

/**
 * A directory holding the built web app for this run: $VIGIL_TEST_WEB_DIR when set; else
 * dashboard/web/dist when it is newer than every source (scripts/build-web.sh keeps it so; `npm
 * test` runs it first); else a build of the current sources (`vite build dashboard/web`) cached
 * in $TMPDIR/vigil-web-builds/<hash of the sources>/, made once even by concurrent test files.
 */
export function webDir(): Promise<string> {
  built ??= resolveWebDir()
  return built
}

async function resolveWebDir(): Promise<string> {
  if (process.env.VIGIL_TEST_WEB_DIR) return process.env.VIGIL_TEST_WEB_DIR
  const files = await sourceFiles()
  const dist = join(WEB, 'dist')
  const stamp = join(dist, 'index.html')
  if (existsSync(stamp)) {
    const t = statSync(stamp).mtimeMs
    if (files.every((f) => statSync(f).mtimeMs <= t)) return dist
  }
  const h = createHash('sha256')
  for (const f of files)
    h.update(relative(ROOT, f))
      .update('\0')
      .update(await readFile(f))
      .update('\0')
  const cache = join(tmpdir(), 'vigil-web-builds')
  const dir = join(cache, h.digest('hex').slice(0, 16))
  if (existsSync(join(dir, 'index.html'))) return dir
  await mkdir(cache, { recursive: true })
  const lock = `${dir}.lock`
  // One builder per source hash; the others wait for its index.html (a lock older than 5 min is stale).
  await waitFor(
    async () => {
      if (existsSync(join(dir, 'index.html'))) return true
      try {
        await mkdir(lock)
        return true
      } catch {
        const st = await stat(lock).catch(() => undefined)
        if (st && Date.now() - st.mtimeMs > 300_000) await rm(lock, { recursive: true, force: true })
        return false
      }
    },
    { timeoutMs: 600_000, intervalMs: 250, what: `the web build in ${dir}` },
  )
  if (existsSync(join(dir, 'index.html'))) return dir
  try {
    const tmp = `${dir}.tmp-${process.pid}`
    const r = await runCommand(
      join(ROOT, 'node_modules/.bin/vite'),
      ['build', WEB, '--outDir', tmp, '--emptyOutDir', '--logLevel', 'warn'],
      { timeoutMs: 300_000 },
    )
    if (r.code !== 0) throw new Error(`vite build failed (${r.code}):\n${r.stderr}\n${r.stdout}`)
    await rename(tmp, dir)
    return dir
  } finally {
    await rm(lock, { recursive: true, force: true })
  }
}

// ---- corpus ------------------------------------------------------------------------------------

/** The subject that must stay text everywhere. */
export const XSS_SUBJECT = '<img src=x onerror=alert(1)>'

/** Client addresses sent as XFORWARD ADDR: each geolocates (DB-IP Lite) to a known country. */
export const CLIENT_IPS = ['8.8.8.8', '81.2.69.142', '193.0.6.139', '2a00:1450:4001:80b::200e'] as const

export interface CorpusMessage {
  kind: 'clean' | 'spam' | 'virus' | 'banned' | 'xss'
  from: string
  to: string[]
  subject: string
  clientIp: string
  /** The SMTP reply to the end of DATA (the filter's verdict as the client saw it). */
  finalCode: number
}

export interface CorpusOptions {
  /** Clean messages (default 8). */
  clean?: number
  /** GTUBE messages, checked by the harness's spamd (default 3; 0 skips spamd). */
  spam?: number
  /** EICAR messages, checked by the harness's clamd (default 2; 0 skips clamd). */
  virus?: number
  /** Messages with a .exe attachment, banned (default 2). */
  banned?: number
  /** Also send the XSS_SUBJECT message (default true). */
  xss?: boolean
  /** Subject of the clean messages (followed by ` #<serial>`); default: a rotation of ordinary subjects. */
  subject?: string
}

// ---- the stack ---------------------------------------------------------------------------------

export type Role = 'admin' | 'viewer'

export interface DashboardStackOptions {
  /** Prefix of the temp home (default 'dash'). */
  name?: string
  /** Where the collector stores events: 'embedded' (default) or the run's shared engine (requireEngine). */
  backend?: 'embedded' | EngineKind
  /** Start a filter (and smtp-sink); implied by `corpus`. */
  filter?: boolean
  /** Send a corpus through the filter and wait until the search API counts it. */
  corpus?: boolean | CorpusOptions
  /** Extra keys of the collector section (merged over the stack's). */
  collector?: Record<string, unknown>
  /** Extra keys of the dashboard section (e.g. viewer_subjects, auth.login_max_failures). */
  dashboard?: Record<string, unknown>
  /** The built app (default webDir()). */
  webDir?: string
}

export interface ApiClient {
  readonly csrf: string
  readonly cookie: string
  get(path: string): Promise<{ status: number; body: any }>
  /** An unsafe request with the session's CSRF token (unless `csrf: false`). */
  send(method: string, path: string, body?: unknown, opts?: { csrf?: boolean }): Promise<{ status: number; body: any }>
}

export interface DashboardStack {
  /** http://127.0.0.1:PORT of the dashboard. */
  url: string
  /** host:port of the collector's HTTP API. */
  collectorHttp: string
  home: string
  common: CommonConfig
  collector: Collector & { internals: CollectorInternals }
  dashboard: Dashboard
  filter: Filter | undefined
  filterPort: number
  sink: SmtpSink | undefined
  /** The corpus as sent (empty without `corpus`). */
  corpus: CorpusMessage[]
  /** Epoch ms just before the first corpus message. */
  corpusStartMs: number
  users: Record<Role, { name: string; password: string }>
  /** `${url}/#/<page>?<params>` */
  href(page: string, params?: Record<string, string>): string
  /** Logs `page`'s browser context in as `role` (POST /api/login through the page's cookie jar). */
  login(page: Page, role: Role): Promise<void>
  /** Logs in from Node; the client keeps the session cookie and the CSRF token. */
  api(role: Role): Promise<ApiClient>
  /** GET on the collector's own API (no session, no rot13): the numbers the pages must show. */
  collectorGet(path: string): Promise<any>
  /** Sends more corpus messages through the filter and waits until they are searchable. */
  sendCorpus(opts: CorpusOptions): Promise<CorpusMessage[]>
  log: Logger
  readonly logs: string
}

const SENDERS = [
  'alice@example.org',
  'bob@example.com',
  'carol@mail.example.net',
  'dave@example.org',
  'erin@news.example.com',
]
const RECIPIENTS = ['postmaster@corp.test', 'sales@corp.test', 'ann@corp.test', 'joe@branch.corp.test']
const SUBJECTS = [
  'Quarterly report',
  'Lunch on Thursday',
  'Invoice 2026-117',
  'Grüße aus Köln',
  'Re: meeting notes',
  'Weekly newsletter',
  'Password reset',
  'Shipping confirmation',
]

/** Starts the stack (see the file header); everything stops when `t` ends. */
export async function startDashboardStack(t: Owner, o: DashboardStackOptions = {}): Promise<DashboardStack> {
  const { createCollector } = await import('@vigil/collector/app.ts')
  const { collectorConfigSchema } = await import('@vigil/collector/config.ts')
  const { createDashboard, dashboardConfigSchema } = await import('@vigil/dashboard-server/index.ts')
  const usersMod = await import('@vigil/dashboard-server/auth/users.ts')
  const corpusOpts: CorpusOptions | undefined = o.corpus === true ? {} : o.corpus || undefined
  const withFilter = !!o.filter || !!corpusOpts
  const spamN = corpusOpts?.spam ?? 3
  const virusN = corpusOpts?.virus ?? 2

  const webDirP = o.webDir ? Promise.resolve(o.webDir) : webDir()
  const home = await tmpDir(t, o.name ?? 'dash')
  let logs = ''
  const log = createLogger({ name: 'e2e-dash', level: 'warn', write: (l) => (logs += l + '\n') })

  // search backend
  let search: Record<string, unknown> = {}
  if (o.backend && o.backend !== 'embedded') {
    const engine = await requireEngine(o.backend, t)
    const prefix = `vigil-dash-${randomUUID().slice(0, 8)}-`
    search = {
      backend: o.backend,
      nodes: [engine.url],
      index_prefix: prefix,
      ...(o.backend === 'elasticsearch' ? { elasticsearch_major: 9 } : {}),
    }
    const { templateName } = await import('@vigil/collector/backends/engine/template.ts')
    t.after(async () => {
      await engineRequest(engine.url, 'DELETE', `/${prefix}*`).catch(() => {})
      await engineRequest(engine.url, 'DELETE', `/_index_template/${templateName(prefix)}`).catch(() => {})
    })
  }

  // checkers (started in parallel with the rest; spamd takes seconds)
  const spamdP = withFilter && spamN > 0 ? startSpamd(t) : undefined
  const clamdP = withFilter && virusN > 0 ? startClamd(t) : undefined
  const sink = withFilter ? await startSmtpSink(t) : undefined

  const [filterPort, outerPort, snmpPort] = await freePorts(3)
  const common = commonConfigSchema.parse({
    home,
    myhostname: 'mx1.e2e.test',
    log_level: 'warn',
    zmq: {
      inner: [innerSocket(home)],
      outer: `tcp://127.0.0.1:${outerPort}`,
      snmp: `tcp://127.0.0.1:${snmpPort}`,
      events: eventsSocket(home),
    },
  })
  const collector = createCollector(
    common,
    collectorConfigSchema.parse({
      http_listen: '127.0.0.1:0',
      nanny_interval_secs: 1,
      stream_summary_interval_secs: 1,
      persist_interval_secs: 1,
      ...o.collector,
      search: { ...search, ...(o.collector?.search as object | undefined) },
    }),
    { log },
  )
  await collector.start()
  t.after(() => collector.stop())
  const collectorHttp = collector.internals.httpAddress!

  // users, made before the dashboard opens the same database
  const users: Record<Role, { name: string; password: string }> = {
    admin: { name: 'ada', password: 'adm-' + randomBytes(9).toString('base64url') },
    viewer: { name: 'vic', password: 'vwr-' + randomBytes(9).toString('base64url') },
  }
  const store = usersMod.createUserStore(home, { scryptLogN: 10 })
  try {
    await store.add(users.admin.name, 'admin', users.admin.password)
    await store.add(users.viewer.name, 'viewer', users.viewer.password)
  } finally {
    store.close()
  }

  const dashCfg = { ...(o.dashboard ?? {}) } as Record<string, unknown>
  const dashboard = createDashboard(
    common,
    dashboardConfigSchema.parse({
      listen: '127.0.0.1:0',
      collector_http: collectorHttp,
      web_dir: await webDirP,
      ...dashCfg,
      auth: { scrypt_log_n: 10, ...(dashCfg.auth as object | undefined) },
    }),
    { log },
  )
  await dashboard.start()
  t.after(() => dashboard.stop())
  const url = `http://${dashboard.address}`

  let filter: Filter | undefined
  if (withFilter) {
    const filterApp = await import('@vigil/filter-core/app.ts')
    const filterConfig = await import('@vigil/filter-core/config.ts')
    const [spamd, clamd] = await Promise.all([spamdP, clamdP])
    filter = filterApp.createFilter(
      common,
      filterConfig.filterConfigSchema.parse({
        listen: [`127.0.0.1:${filterPort}`],
        forward_method: `smtp:[127.0.0.1]:${sink!.port}`,
        max_servers: 2,
        zmq_slow_joiner_ms: 200,
        spamd_address: spamd?.address ?? '',
        clamd_address: clamd?.address ?? '',
        bypass_spam_checks: !spamd,
        bypass_virus_checks: !clamd,
        local_domains_maps: ['corp.test', '.corp.test'],
      }),
      { log },
    )
    await filter.start()
    const started = filter
    t.after(() => started.stop())
  }

  const collectorGet = async (path: string): Promise<any> => {
    const r = await fetch(`http://${collectorHttp}${path}`, { signal: AbortSignal.timeout(30_000) })
    const body = (await r.json()) as any
    if (!r.ok) throw new Error(`collector ${path}: ${r.status} ${JSON.stringify(body)}`)
    return body
  }

  const corpus: CorpusMessage[] = []
  let serial = 0
  const sendCorpus = async (c: CorpusOptions): Promise<CorpusMessage[]> => {
    if (!filter) throw new Error('sendCorpus needs the stack started with filter or corpus')
    const before = (await collectorGet('/api/search?size=0')).total as number
    const plan: CorpusMessage['kind'][] = [
      ...Array<CorpusMessage['kind']>(c.clean ?? 8).fill('clean'),
      ...Array<CorpusMessage['kind']>(spamN > 0 ? (c.spam ?? 3) : 0).fill('spam'),
      ...Array<CorpusMessage['kind']>(virusN > 0 ? (c.virus ?? 2) : 0).fill('virus'),
      ...Array<CorpusMessage['kind']>(c.banned ?? 2).fill('banned'),
      ...(c.xss === false ? [] : ['xss' as const]),
    ]
    const sent: CorpusMessage[] = []
    for (const kind of plan) {
      const i = serial++
      const from = SENDERS[i % SENDERS.length]
      const to =
        i % 5 === 4
          ? [RECIPIENTS[i % RECIPIENTS.length], RECIPIENTS[(i + 1) % RECIPIENTS.length]]
          : [RECIPIENTS[i % RECIPIENTS.length]]
      const clientIp = CLIENT_IPS[i % CLIENT_IPS.length]
      let subject = `${c.subject ?? SUBJECTS[i % SUBJECTS.length]} #${i}`
      let data: string
      const hdr = { from: `<${from}>`, to: to.map((r) => `<${r}>`).join(', ') }
      switch (kind) {
        case 'spam':
          data = gtubeMessage(hdr)
          subject = 'GTUBE test'
          break
        case 'virus':
          subject = `Your parcel #${i}`
          data = mimeWithAttachment({
            ...hdr,
            subject,
            filename: 'eicar.com.txt',
            contentType: 'text/plain',
            attachment: EICAR,
          })
          break
        case 'banned':
          subject = `Scanned document #${i}`
          data = mimeWithAttachment({
            ...hdr,
            subject,
            filename: 'invoice.exe',
            attachment: Buffer.concat([Buffer.from('MZ'), Buffer.alloc(126, 0x90)]),
          })
          break
        case 'xss':
          subject = XSS_SUBJECT
          data = plainMessage({ ...hdr, subject })
          break
        default:
          data = plainMessage({ ...hdr, subject, body: `Message ${i} of the dashboard corpus.\r\nRegards` })
      }
      const r = await sendMail({
        port: filterPort,
        from,
        to,
        data,
        helo: `client${i % 3}.example.net`,
        xforward: { ADDR: clientIp, NAME: '[UNAVAILABLE]', PROTO: 'ESMTP', HELO: `client${i % 3}.example.net` },
        timeoutMs: 120_000,
      })
      if (r.error || !r.xforwardSent || r.finalCode === 0)
        throw new Error(
          `corpus message ${i} (${kind}) failed at ${r.stage}: ${r.error ?? ''}\n${r.transcript.join('\n')}\n${logs}`,
        )
      const m: CorpusMessage = { kind, from, to, subject, clientIp, finalCode: r.finalCode }
      sent.push(m)
      corpus.push(m)
    }
    const want = before + sent.length
    await waitFor(async () => (await collectorGet('/api/search?size=0')).total === want, {
      timeoutMs: 120_000,
      intervalMs: 200,
      what: `${want} events searchable (backend ${o.backend ?? 'embedded'})\n${logs}`,
    })
    return sent
  }

  const corpusStartMs = Date.now()
  if (corpusOpts) await sendCorpus(corpusOpts)

  const login = async (page: Page, role: Role) => {
    const u = users[role]
    const r = await page.request.post(`${url}/api/login`, { data: { name: u.name, password: u.password } })
    if (r.status() !== 200) throw new Error(`login as ${role}: ${r.status()} ${await r.text()}`)
  }

  const api = async (role: Role): Promise<ApiClient> => {
    const u = users[role]
    const r = await fetch(`${url}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: u.name, password: u.password }),
    })
    const body = (await r.json()) as { csrf?: string }
    if (r.status !== 200) throw new Error(`login as ${role}: ${r.status} ${JSON.stringify(body)}`)
    const cookie = r.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ')
    const csrf = body.csrf ?? ''
    const call = async (method: string, path: string, data?: unknown, csrfOn = true) => {
      const headers: Record<string, string> = { cookie }
      if (data !== undefined) headers['content-type'] = 'application/json'
      if (method !== 'GET' && csrfOn) headers['x-csrf-token'] = csrf
      const res = await fetch(`${url}${path}`, {
        method,
        headers,
        body: data === undefined ? undefined : JSON.stringify(data),
        signal: AbortSignal.timeout(30_000),
      })
      const text = await res.text()
      let parsed: unknown = text
      try {
        parsed = text ? JSON.parse(text) : null
      } catch {}
      return { status: res.status, body: parsed as any }
    }
    return {
      csrf,
      cookie,
      get: (path) => call('GET', path),
      send: (method, path, data, opts) => call(method, path, data, opts?.csrf !== false),
    }
  }

  return {
    url,
    collectorHttp,
    home,
    common,
    collector,
    dashboard,
    filter,
    filterPort,
    sink,
    corpus,
    corpusStartMs,
    users,
    href: (page, params) => `${url}/#/${page}${params ? '?' + new URLSearchParams(params).toString() : ''}`,
    login,
    api,
    collectorGet,
    sendCorpus,
    log,
    get logs() {
      return logs
    },
  }
}
