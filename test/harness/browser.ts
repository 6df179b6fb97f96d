// Playwright pages for dashboard tests: playwright-core driving Debian's /usr/bin/chromium (no
// Playwright browser download), a fresh profile and a private HOME per browser, closed when the
// test (or scope) ends. Console errors, uncaught page errors and dialogs are collected on each
// page; `runAxe(page)` checks accessibility with node_modules/axe-core; `artifactsDir(t)` is where
// screenshots are kept (test-artifacts/<test file>/ under the repo, gitignored, kept by CI).
//
//   const page = await openBrowserPage(t)             // one browser + one page, closed in t.after
//   await page.goto(url); await page.getByTestId('hit-count').waitFor()
//   assert.deepEqual(page.errors, []); assert.deepEqual(await runAxe(page), [])
//   await page.screenshot({ path: join(await artifactsDir(t), 'discover.png') })
//
// For several pages in one file, share a browser from a scope:
//   const scope = createScope(); let browser: HarnessBrowser
//   before(async () => { browser = await launchBrowser(scope) }); after(() => scope.close())
//   test('…', async (t) => { const page = await browser.newPage(t) … })
//
// The server's Content-Security-Policy stays in force (bypassCSP is off unless asked): a CSP
// violation shows up in `page.errors`. axe is injected with page.evaluate (DevTools'
// Runtime.evaluate is not subject to the page's CSP), so runAxe works under the strict policy.
import { readdirSync, readFileSync } from 'node:fs'
import { mkdir, readFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core'
import { ErrorCode, VigilError } from '@vigil/protocol'
import { resolveBinary } from './process.ts'
import { childScope, onProcessEnd, tmpDir, type Owner } from './tmp.ts'

/** PIDs of this process's direct children (every thread's children). */
function childPids(): number[] {
  const out: number[] = []
  try {
    for (const tid of readdirSync('/proc/self/task'))
      for (const p of readFileSync(`/proc/self/task/${tid}/children`, 'utf8').trim().split(/\s+/))
        if (p) out.push(Number(p))
  } catch {}
  return out
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')
  } catch {
    return ''
  }
}

function killPids(pids: number[], sig: NodeJS.Signals): void {
  for (const p of pids) {
    try {
      process.kill(p, sig)
    } catch {}
  }
}

const REPO = fileURLToPath(new URL('../../', import.meta.url))

/** Chromium flags (libraries-tried.md §7). */
export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  // No crashpad handler: it would outlive the browser (re-parented to init) and write to ~/.config.
  '--disable-crash-reporter',
  '--disable-breakpad',
]

/** A Playwright Page with what the harness collected on it. */
export interface HarnessPage extends Page {
  /** Console errors (`console.error`, CSP violations, failed loads) and uncaught exceptions, in order. */
  readonly errors: string[]
  /** Messages of dialogs (alert/confirm/prompt) the page opened; each was dismissed. */
  readonly dialogs: string[]
}

export interface NewPageOptions {
  width?: number
  height?: number
  /** Playwright context options (e.g. `bypassCSP`, `locale`, `timezoneId`, `reducedMotion`). */
  context?: BrowserContextOptions
  /** Console error texts matching this are not collected (e.g. an expected 401 on a login page). */
  ignoreErrors?: RegExp
}

export interface HarnessBrowser {
  readonly browser: Browser
  /** A new context (own cookies) and page, closed when `owner` ends (or with the browser). */
  newPage(owner: Owner | null, opts?: NewPageOptions): Promise<HarnessPage>
  close(): Promise<void>
}

/**
 * Launches headless Chromium (Debian's package) with a fresh temp profile and HOME; closed when
 * `owner` ends. Throws VIGIL_ERR_HARNESS_MISSING without chromium or playwright-core.
 */
export async function launchBrowser(owner: Owner | null): Promise<HarnessBrowser> {
  const bin = resolveBinary('chromium', 'chromium')
  let pw: typeof import('playwright-core')
  try {
    pw = await import('playwright-core')
  } catch {
    throw new VigilError(ErrorCode.HARNESS_MISSING, 'playwright-core is not installed: run npm ci')
  }
  // One scope: the browser is closed before its HOME directory is removed.
  const scope = childScope(owner)
  const profile = await tmpDir(scope, 'chromium-home')
  const before = childPids()
  let browser: Browser
  try {
    browser = await pw.chromium.launch({
      executablePath: bin,
      headless: true,
      // Playwright makes (and removes) a fresh --user-data-dir itself; HOME is ours.
      args: CHROMIUM_FLAGS,
      env: { ...process.env, HOME: profile, XDG_CONFIG_HOME: profile, XDG_CACHE_HOME: profile },
      timeout: 60_000,
      // The harness's own exit hook below; Playwright's would race it.
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
    })
  } catch (err) {
    throw new VigilError(ErrorCode.HARNESS_START, `chromium did not start: ${(err as Error).message}`)
  }
  let closed = false
  const close = async () => {
    if (closed) return
    closed = true
    const timer = setTimeout(() => killPids(pids, 'SIGKILL'), 10_000)
    await browser.close().catch(() => {})
    clearTimeout(timer)
  }
  scope.after(close)
  // Playwright no longer exposes the browser's ChildProcess: find it among our children (the one
  // on the DevTools pipe that was not there before), for the last-chance kill at process end.
  const pids = childPids().filter((p) => !before.includes(p) && /--remote-debugging-pipe/.test(cmdline(p)))
  onProcessEnd(() => {
    if (!closed) killPids(pids, 'SIGKILL')
  })
  return {
    browser,
    close,
    async newPage(pageOwner, opts = {}) {
      const context: BrowserContext = await browser.newContext({
        viewport: { width: opts.width ?? 1280, height: opts.height ?? 900 },
        timezoneId: 'UTC',
        locale: 'en-GB',
        ...opts.context,
      })
      pageOwner?.after(() => context.close().catch(() => {}))
      // Generous defaults for a loaded 2-core machine; every wait is on a condition.
      context.setDefaultTimeout(20_000)
      context.setDefaultNavigationTimeout(30_000)
      const page = (await context.newPage()) as HarnessPage
      const errors: string[] = []
      const dialogs: string[] = []
      const keep = (s: string) => {
        if (!opts.ignoreErrors?.test(s)) errors.push(s)
      }
      page.on('console', (m) => {
        if (m.type() === 'error') keep(m.text())
      })
      page.on('pageerror', (e) => keep(`uncaught: ${e.stack ?? e.message}`))
      page.on('dialog', (d) => {
        dialogs.push(`${d.type()}: ${d.message()}`)
        d.dismiss().catch(() => {})
      })
      Object.defineProperty(page, 'errors', { value: errors })
      Object.defineProperty(page, 'dialogs', { value: dialogs })
      return page
    },
  }
}

/** One browser and one page, both closed when `owner` ends. */
export async function openBrowserPage(owner: Owner, opts: NewPageOptions = {}): Promise<HarnessPage> {
  const scope = childScope(owner)
  const b = await launchBrowser(scope)
  return b.newPage(scope, opts)
}

/**
 * test-artifacts/<test file name without .test.ts>/ under the repo (created; gitignored). CI
 * uploads test-artifacts/. `t` may be a TestContext (its filePath, Node ≥ 20.16) or anything.
 */
export async function artifactsDir(t?: unknown): Promise<string> {
  const file = (t as { filePath?: string } | undefined)?.filePath ?? process.argv[1] ?? 'unknown'
  const name = basename(file)
    .replace(/\.test\.[cm]?[jt]sx?$/, '')
    .replace(/\.[cm]?[jt]sx?$/, '')
  const dir = join(process.env.VIGIL_TEST_ARTIFACTS ?? join(REPO, 'test-artifacts'), name)
  await mkdir(dir, { recursive: true })
  return dir
}

/** One axe-core violation, reduced to what a failing assertion should show. */
export interface AxeViolation {
  id: string
  impact: string
  help: string
  /** CSS selectors and HTML snippets of the offending nodes (at most 5). */
  nodes: Array<{ target: string; html: string; summary: string }>
}

let axeSource: string | undefined

/**
 * Runs axe-core (node_modules/axe-core/axe.min.js, injected through page.evaluate so the page's
 * CSP does not block it) over the page, or over `opts.include` (a CSS selector), and returns the
 * violations of impact serious or critical (`opts.impacts` to change). WCAG 2.x A/AA rules.
 */
export async function runAxe(
  page: Page,
  opts: { include?: string; impacts?: string[]; disableRules?: string[] } = {},
): Promise<AxeViolation[]> {
  axeSource ??= await readFile(join(REPO, 'node_modules/axe-core/axe.min.js'), 'utf8')
  const loaded = await page.evaluate('typeof window.axe === "object"')
  // The source as an expression: Runtime.evaluate runs it as the page's own script would.
  if (!loaded) await page.evaluate(axeSource)
  const impacts = opts.impacts ?? ['serious', 'critical']
  const result = (await page.evaluate(
    async ({ include, disableRules }) => {
      const g = globalThis as unknown as { axe: any; document: unknown }
      const axe = g.axe
      const rules: Record<string, { enabled: boolean }> = {}
      for (const r of disableRules) rules[r] = { enabled: false }
      const r = await axe.run(include ? { include: [include] } : g.document, {
        runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
        rules,
        resultTypes: ['violations'],
      })
      return r.violations.map((v: any) => ({
        id: v.id,
        impact: v.impact ?? '',
        help: v.help,
        nodes: v.nodes.slice(0, 5).map((n: any) => ({
          target: n.target.join(' '),
          html: String(n.html).slice(0, 200),
          summary: String(n.failureSummary ?? '').slice(0, 300),
        })),
      }))
    },
    { include: opts.include ?? null, disableRules: opts.disableRules ?? [] },
  )) as AxeViolation[]
  return result.filter((v) => impacts.includes(v.impact))
}

/** A readable one-line-per-node description of axe violations, for assertion messages. */
export function formatAxe(violations: AxeViolation[]): string {
  return violations
    .map(
      (v) =>
        `${v.impact} ${v.id}: ${v.help}\n` +
        v.nodes.map((n) => `  ${n.target}  ${n.html}\n    ${n.summary}`).join('\n'),
    )
    .join('\n')
}
