// Headless Chromium (Debian's package) for page tests, driven over the DevTools protocol on a
// pipe (--remote-debugging-pipe): no Playwright download, no WebSocket client, the real browser.
import { spawn, type ChildProcess } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import type { Readable, Writable } from 'node:stream'
import { ErrorCode, VigilError } from '@vigil/protocol'
import { resolveBinary, sleep } from './process.ts'
import { childScope, tmpDir, type Owner } from './tmp.ts'

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  '--remote-debugging-pipe',
  // No crashpad handler: it would outlive the browser (re-parented to init) and write to ~/.config.
  '--disable-crash-reporter',
  '--disable-breakpad',
]

export interface Page {
  /** Evaluates a JavaScript expression in the page and returns its JSON value. */
  evaluate<T = unknown>(expression: string): Promise<T>
  /** Polls `expression` until it is truthy; throws with `what` after `timeoutMs`. */
  waitFor(expression: string, what: string, timeoutMs?: number): Promise<void>
  /** The current DOM as HTML. */
  html(): Promise<string>
  /** Writes a PNG screenshot of the viewport. */
  screenshot(path: string): Promise<void>
  /** Console errors and uncaught exceptions seen so far. */
  readonly errors: string[]
}

/**
 * Opens `url` in a fresh headless Chromium (closed in t.after). Throws VIGIL_ERR_HARNESS_MISSING
 * when chromium is not installed and VIGIL_ERR_HARNESS_START when it does not answer.
 */
export async function openPage(t: Owner, url: string, opts: { width?: number; height?: number } = {}): Promise<Page> {
  const bin = resolveBinary('chromium', 'chromium')
  // One scope: the browser is killed before its profile directory is removed.
  const scope = childScope(t)
  const profile = await tmpDir(scope, 'chromium')
  const child: ChildProcess = spawn(
    bin,
    [
      ...FLAGS,
      `--user-data-dir=${profile}`,
      `--window-size=${opts.width ?? 1280},${opts.height ?? 900}`,
      'about:blank',
    ],
    {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'],
      // A private HOME so nothing lands in the real ~/.config or ~/.cache.
      env: { ...process.env, HOME: profile, XDG_CONFIG_HOME: profile, XDG_CACHE_HOME: profile },
    },
  )
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString('utf8')).slice(-4000)))
  scope.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r))
      // SIGTERM lets the browser take its zygote and renderer processes down with it (they hold
      // our pipes open otherwise); SIGKILL if it does not exit promptly.
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
      await exited
      clearTimeout(timer)
    }
    for (const s of child.stdio) s?.destroy()
  })
  const toChrome = child.stdio[3] as Writable
  const fromChrome = child.stdio[4] as Readable
  const pending = new Map<number, { resolve: (m: CdpMessage) => void; reject: (e: Error) => void }>()
  const errors: string[] = []
  let nextId = 0
  let buf = ''
  interface CdpMessage {
    id?: number
    method?: string
    params?: Record<string, unknown>
    result?: Record<string, unknown>
    error?: { message: string }
  }
  fromChrome.on('data', (d: Buffer) => {
    buf += d.toString('utf8')
    let i
    while ((i = buf.indexOf('\0')) >= 0) {
      const m = JSON.parse(buf.slice(0, i)) as CdpMessage
      buf = buf.slice(i + 1)
      if (m.id !== undefined) {
        const p = pending.get(m.id)
        pending.delete(m.id)
        if (m.error) p?.reject(new Error(m.error.message))
        else p?.resolve(m)
      } else if (m.method === 'Runtime.exceptionThrown') {
        errors.push(JSON.stringify(m.params?.exceptionDetails ?? m.params).slice(0, 500))
      } else if (m.method === 'Runtime.consoleAPICalled' && m.params?.type === 'error') {
        errors.push(JSON.stringify(m.params.args).slice(0, 500))
      }
    }
  })
  const failed = new Promise<never>((_, reject) => {
    child.on('error', (e) => reject(new VigilError(ErrorCode.HARNESS_START, `chromium failed to start: ${e.message}`)))
    child.on('exit', (code) =>
      reject(new VigilError(ErrorCode.HARNESS_START, `chromium exited with ${code}: ${stderr}`)),
    )
  })
  failed.catch(() => {})
  const send = async (
    method: string,
    params: Record<string, unknown> = {},
    sessionId?: string,
  ): Promise<CdpMessage> => {
    let timer: NodeJS.Timeout | undefined
    try {
      return await Promise.race([
        failed,
        new Promise<CdpMessage>((resolve, reject) => {
          const id = ++nextId
          pending.set(id, { resolve, reject })
          toChrome.write(JSON.stringify({ id, method, params, sessionId }) + '\0')
        }),
        new Promise<never>((_, reject) => {
          // Cleared on answer: a pending 20 s timer per command would keep the test process alive.
          timer = setTimeout(
            () => reject(new VigilError(ErrorCode.HARNESS_START, `chromium did not answer ${method}: ${stderr}`)),
            20000,
          )
        }),
      ])
    } finally {
      clearTimeout(timer)
    }
  }
  const target = await send('Target.createTarget', { url: 'about:blank' })
  const attached = await send('Target.attachToTarget', { targetId: target.result!.targetId, flatten: true })
  const session = attached.result!.sessionId as string
  await send('Runtime.enable', {}, session)
  await send('Page.enable', {}, session)
  await send('Page.navigate', { url }, session)
  const evaluate = async <T>(expression: string): Promise<T> => {
    const r = await send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true }, session)
    const res = r.result as { result?: { value?: T }; exceptionDetails?: unknown }
    if (res.exceptionDetails)
      throw new Error(`page evaluation failed: ${JSON.stringify(res.exceptionDetails).slice(0, 300)}`)
    return res.result?.value as T
  }
  return {
    errors,
    evaluate,
    async waitFor(expression, what, timeoutMs = 10000) {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        try {
          if (await evaluate<boolean>(`Boolean(${expression})`)) return
        } catch {}
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
        await sleep(100)
      }
    },
    html: () => evaluate<string>('document.documentElement.outerHTML'),
    async screenshot(path) {
      const r = await send('Page.captureScreenshot', { format: 'png' }, session)
      await writeFile(path, Buffer.from(r.result!.data as string, 'base64'))
    },
  }
}
