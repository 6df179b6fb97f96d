// Shared by the DKIM tests: keys, their DNS TXT records, a signer (mailauth's, standing in for a
// remote MTA) and one message through the real pipeline with the filter's DNS resolver.
import { createRequire } from 'node:module'
import { generateKeyPairSync } from 'node:crypto'
import { commonConfigSchema, createLogger } from '@vigil/protocol'
import { filterConfigSchema } from '../../src/config.ts'
import { processMessage, type PipelineDeps } from '../../src/pipeline/process.ts'
import { createSettingsLookup } from '../../src/pipeline/settings.ts'
import type { Analyzers } from '../../src/pipeline/analyzers.ts'
import type { SmtpClient, OutTransaction } from '../../src/forward/client.ts'
import { memoryBody } from '../../src/smtp/spool.ts'
import { parseMessage } from '../../src/mime/index.ts'
import { createSpamdScanner } from '../../src/checks/spam-spamd.ts'
import type { SpamdInstance } from '../../../test/harness/index.ts'

const require = createRequire(import.meta.url)
const { dkimSign } = require('mailauth/lib/dkim/sign') as {
  dkimSign(raw: Buffer, o: Record<string, unknown>): Promise<{ signatures: string }>
}

export interface TestKey {
  privatePem: string
  /** The p= value. */
  publicB64: string
  k: 'rsa' | 'ed25519'
}

export function makeKey(k: 'rsa' | 'ed25519' = 'rsa'): TestKey {
  const pair = k === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ed25519')
  const privatePem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  const der = pair.publicKey.export({ type: 'spki', format: 'der' })
  // RFC 8463: an Ed25519 p= is the bare 32-byte key, not SPKI.
  const publicB64 = (k === 'ed25519' ? der.subarray(der.length - 32) : der).toString('base64')
  return { privatePem, publicB64, k }
}

export const txtRecord = (key: TestKey) => `v=DKIM1; k=${key.k}; p=${key.publicB64}`

export const MESSAGE = Buffer.from(
  'From: Alice <alice@example.com>\r\nTo: bob@example.test\r\nSubject: Hello\r\n' +
    'Date: Mon, 01 Jan 2024 10:00:00 +0000\r\nMessage-ID: <m1@example.com>\r\n\r\nHello Bob,\r\nsee you.\r\n',
)

/** `raw` with a DKIM-Signature by `domain`/`selector` prepended. */
export async function remoteSign(raw: Buffer, domain: string, selector: string, key: TestKey): Promise<Buffer> {
  const { signatures } = await dkimSign(raw, {
    canonicalization: 'relaxed/simple',
    signTime: new Date(1704103000 * 1000),
    signatureData: [{ signingDomain: domain, selector, privateKey: key.privatePem, algorithm: `${key.k}-sha256` }],
  })
  return Buffer.concat([Buffer.from(signatures), raw])
}

export interface RunResult {
  event: Record<string, unknown>
  sent: OutTransaction[]
  logs: string[]
  elapsedMs: number
}

/** Runs one message through processMessage with `filter` config; `spamd`: scan with this real spamd. */
export async function runMessage(
  raw: Buffer,
  filter: Record<string, unknown>,
  opts: { spamd?: SpamdInstance; clientIp?: string; mailFrom?: string; bank?: string } = {},
): Promise<RunResult> {
  const cfg = filterConfigSchema.parse({ local_domains_maps: ['example.test'], ...filter })
  const common = commonConfigSchema.parse({ home: '/nonexistent', myhostname: 'mx.test' })
  const sent: OutTransaction[] = []
  const logs: string[] = []
  const client = {
    method: { protocol: 'smtp', raw: cfg.forward_method },
    onEvent: undefined,
    async send(tx: OutTransaction) {
      sent.push(tx)
      return tx.rcpts.map(() => ({ code: 250, text: '250 2.0.0 Ok: queued as ABC123' }))
    },
  } as unknown as SmtpClient
  const analyzers: Analyzers = {
    parse: (r) => parseMessage(r),
    checkHeaders: () => ({ bad: false, minor: 0 }),
    checkBanned: () => ({ banned: false }),
    ...(opts.spamd
      ? { spamScanner: createSpamdScanner({ host: opts.spamd.host, port: opts.spamd.port, timeoutMs: 60_000 }) }
      : {}),
  }
  const deps: PipelineDeps = {
    cfg,
    common,
    log: createLogger({ name: 't', level: 'debug', write: (l: string) => void logs.push(l) }),
    analyzers,
    settings: createSettingsLookup(cfg),
    publisher: { send: () => {}, state: () => {}, flush: async () => {}, close: async () => {} },
    forwarder: () => client,
    notifier: () => client,
    now: () => 1704103200.123,
  }
  const t0 = Date.now()
  const out = await processMessage(
    {
      taskId: '04321-01',
      mailFrom: opts.mailFrom ?? 'alice@example.com',
      mailParams: {},
      rcpts: [{ address: 'bob@example.test' }],
      xforward: opts.clientIp ? { ADDR: opts.clientIp } : {},
      heloName: 'mx.example.com',
      clientProtocol: 'ESMTP',
      body: memoryBody(raw),
      startedAt: 1704103200.1,
      receivedAt: 1704103200.123,
    },
    {
      srcIp: '127.0.0.1',
      dstIp: '127.0.0.1',
      dstPort: 10024,
      listener: { address: '127.0.0.1:10024', protocol: 'smtp', policy_bank: opts.bank },
    },
    deps,
  )
  return { event: out.event as unknown as Record<string, unknown>, sent, logs, elapsedMs: Date.now() - t0 }
}

/** The bytes of the first message forwarded. */
export async function forwarded(r: RunResult): Promise<Buffer> {
  const parts: Buffer[] = []
  for (const c of r.sent[0].content()) {
    if (Buffer.isBuffer(c)) parts.push(c)
    else for await (const chunk of c as AsyncIterable<Buffer>) parts.push(Buffer.from(chunk))
  }
  return Buffer.concat(parts)
}
