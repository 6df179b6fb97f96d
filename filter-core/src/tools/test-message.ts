// `vigil filter --test-message FILE.eml`: runs one message through the pipeline offline, with the
// checks configured as in the config (real clamd/spamd when addresses are set), and prints the
// verdict per recipient. Nothing is forwarded, quarantined, notified or published.
import { readFile } from 'node:fs/promises'
import { ccatDisplayName, createLogger, type CommonConfig } from '@vigil/protocol'
import type { FilterConfig } from '../config.ts'
import { memoryBody } from '../smtp/spool.ts'
import { processMessage, DESTINY_NAME } from '../pipeline/process.ts'
import { createSettingsLookup } from '../pipeline/settings.ts'
import { buildAnalyzers } from '../pipeline/real-analyzers.ts'
import { createNullPublisher } from '../telemetry/publisher.ts'
import { resolveHome } from '../cluster/worker.ts'
import { SmtpClient } from '../forward/client.ts'
import { addressList, headerValue, headerValues, parseHeaderFields, splitHeaderBody } from '../mime/index.ts'
import type { Analyzers } from '../pipeline/analyzers.ts'

/** Envelope from X-Envelope-From/-To headers when present (quarantine format), else From/To/Cc. */
export function envelopeOf(raw: Buffer): { from: string; to: string[] } {
  const fields = parseHeaderFields(splitHeaderBody(raw).headerBytes)
  const ef = headerValue(fields, 'x-envelope-from')
  const et = headerValues(fields, 'x-envelope-to')
  const from = ef !== undefined ? (addressList(ef)[0] ?? '') : (addressList(headerValue(fields, 'from'))[0] ?? '')
  const to = et.length
    ? et.flatMap((v) => addressList(v))
    : [...addressList(headerValue(fields, 'to')), ...addressList(headerValue(fields, 'cc'))]
  return { from, to: to.length ? to : ['postmaster'] }
}

export async function testMessage(
  common: CommonConfig,
  cfg: FilterConfig,
  file: string,
  out: (s: string) => void,
  opts: { analyzers?: Analyzers } = {},
): Promise<number> {
  const raw = await readFile(file)
  const crlf = Buffer.from(raw.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1')
  const env = envelopeOf(crlf)
  const paths = resolveHome(common, cfg)
  const logs: string[] = []
  const log = createLogger({ name: 'filter', level: 'info', write: (l) => logs.push(l) })
  const now = Date.now() / 1000
  const outcome = await processMessage(
    {
      taskId: `${String(process.pid).padStart(5, '0')}-01`,
      mailFrom: env.from,
      mailParams: {},
      rcpts: env.to.map((address) => ({ address })),
      xforward: {},
      heloName: 'localhost',
      clientProtocol: 'ESMTP',
      body: memoryBody(crlf),
      startedAt: now,
      receivedAt: now,
    },
    { listener: { address: 'test', protocol: 'smtp' } },
    {
      cfg,
      common,
      log,
      analyzers:
        opts.analyzers ?? buildAnalyzers(cfg, { quarantineDir: paths.quarantine, myhostname: common.myhostname }),
      settings: createSettingsLookup(cfg),
      publisher: createNullPublisher(),
      forwarder: () => new SmtpClient(cfg.forward_method, { heloName: common.myhostname }),
      notifier: () => new SmtpClient(cfg.notify_method, { heloName: common.myhostname }),
      dryRun: true,
    },
  )
  const ev = outcome.event
  out(`message: ${file}\n`)
  out(
    `mail_id: ${outcome.mailId}  size: ${ev.size ?? 0}  content: ${ev.content_type}  checks: ${ev.checks_performed ?? '-'}\n`,
  )
  if (ev.virusnames?.length) out(`viruses: ${ev.virusnames.join(', ')}\n`)
  if (ev.spam_score !== undefined) out(`spam score: ${ev.spam_score.text}  tests: ${(ev.tests ?? []).join(',')}\n`)
  out(`sender: <${env.from}>\n`)
  for (const r of outcome.recipients) {
    const cat = r.ccatBlocking ? `blocked ${ccatDisplayName(r.ccatBlocking)}` : `main ${ccatDisplayName(r.ccatMain)}`
    out(`  <${r.address}>: ${DESTINY_NAME[r.destiny]} (${cat}) -> ${r.reply}\n`)
  }
  return 0
}
