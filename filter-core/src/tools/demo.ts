// `vigil demo`: a small, realistic traffic mix sent to the filter so every view (status, SNMP,
// metrics, events) has data: clean mail, GTUBE spam, EICAR (plain and zipped), a banned .exe
// attachment, a bad header, a multi-recipient message and an IPv6 client announced by XFORWARD.
import { SmtpClient, type Reply } from '../forward/client.ts'
import { parseSocketTarget } from '../checks/socket-target.ts'
import { buildZip } from '../mime/zip-writer.ts'

export interface DemoOptions {
  host?: string
  port: number
  /** Messages to send (default: one round of the mix). */
  count?: number
  /** Pause between messages. */
  delayMs?: number
  from?: string
  domain?: string
  onResult?: (kind: string, replies: Reply[]) => void
}

const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'
const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X'

function headers(from: string, to: string[], subject: string, extra = ''): string {
  const id = `${Date.now().toString(36)}.${Math.random().toString(36).slice(2)}@demo.vigil`
  return (
    `From: Demo Sender <${from}>\r\nTo: ${to.join(', ')}\r\nSubject: ${subject}\r\n` +
    `Date: ${new Date().toUTCString().replace('GMT', '+0000')}\r\nMessage-ID: <${id}>\r\n` +
    `Received: from mx.example.org (mx.example.org [192.0.2.10]) by relay.demo.vigil (Postfix) with ESMTPS id 4Demo; ${new Date().toUTCString()}\r\n` +
    `User-Agent: vigil-demo/1.0\r\n${extra}`
  )
}

function attachment(from: string, to: string[], subject: string, name: string, type: string, data: Buffer): string {
  const b = `=_demo_${Math.random().toString(36).slice(2)}`
  return (
    headers(from, to, subject, `MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="${b}"\r\n`) +
    `\r\n--${b}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nSee the attachment.\r\n` +
    `--${b}\r\nContent-Type: ${type}; name="${name}"\r\nContent-Disposition: attachment; filename="${name}"\r\nContent-Transfer-Encoding: base64\r\n\r\n` +
    (data.toString('base64').match(/.{1,76}/g) ?? []).join('\r\n') +
    `\r\n--${b}--\r\n`
  )
}

export interface DemoMessage {
  kind: string
  from: string
  to: string[]
  data: string
  xforward?: Record<string, string>
}

export function demoMix(from = 'newsletter@example.org', domain = 'example.com'): DemoMessage[] {
  const u = (n: string) => `${n}@${domain}`
  const exe = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(126), Buffer.from('PE\0\0'), Buffer.alloc(64)])
  return [
    {
      kind: 'clean',
      from,
      to: [u('alice')],
      data: headers(from, [u('alice')], 'Weekly report') + '\r\nHello Alice,\r\nall is well.\r\n',
      xforward: { ADDR: '192.0.2.10', NAME: 'mx.example.org', PORT: '41831', PROTO: 'ESMTP', HELO: 'mx.example.org' },
    },
    {
      kind: 'spam (GTUBE)',
      from: 'winner@spam.example',
      to: [u('bob')],
      data: headers('winner@spam.example', [u('bob')], 'You won') + `\r\n${GTUBE}\r\n`,
    },
    {
      kind: 'virus (EICAR)',
      from,
      to: [u('carol')],
      data: headers(from, [u('carol')], 'Invoice') + `\r\n${EICAR}\r\n`,
    },
    {
      kind: 'virus (EICAR in zip)',
      from,
      to: [u('carol')],
      data: attachment(
        from,
        [u('carol')],
        'Documents',
        'docs.zip',
        'application/zip',
        buildZip([{ name: 'eicar.com', data: EICAR }]),
      ),
    },
    {
      kind: 'banned (.exe)',
      from,
      to: [u('dave')],
      data: attachment(from, [u('dave')], 'Update', 'setup.exe', 'application/octet-stream', exe),
    },
    {
      kind: 'bad header',
      from,
      to: [u('erin')],
      data: headers(from, [u('erin')], 'Caf\u00e9 menu') + '\r\nBon app\u00e9tit.\r\n',
    },
    {
      kind: 'multi-recipient',
      from,
      to: [u('alice'), u('bob'), 'partner@example.net'],
      data: headers(from, [u('alice'), u('bob'), 'partner@example.net'], 'Meeting') + '\r\nSee you at 10.\r\n',
    },
    {
      kind: 'IPv6 client',
      from,
      to: [u('frank')],
      data: headers(from, [u('frank')], 'Over IPv6') + '\r\nSent over IPv6.\r\n',
      xforward: {
        ADDR: 'IPv6:2001:db8::25',
        NAME: 'v6.example.org',
        PORT: '52000',
        PROTO: 'ESMTP',
        HELO: 'v6.example.org',
      },
    },
  ]
}

/** Sends the mix (repeated up to `count` messages). Resolves with the kinds sent and their replies. */
export async function runDemo(opts: DemoOptions): Promise<{ kind: string; replies: Reply[] }[]> {
  const mix = demoMix(opts.from, opts.domain)
  const count = opts.count ?? mix.length
  const host = opts.host ?? '127.0.0.1'
  const method = host.includes(':') ? `smtp:[${host}]:${opts.port}` : `smtp:[${host}]:${opts.port}`
  const out: { kind: string; replies: Reply[] }[] = []
  for (let i = 0; i < count; i++) {
    const m = mix[i % mix.length]
    const client = new SmtpClient(method, { heloName: 'demo.vigil', timeoutSecs: 120 })
    const data = Buffer.from(m.data, 'utf8')
    const replies = await client.send({
      mailFrom: m.from,
      size: data.length,
      rcpts: m.to.map((address) => ({ address })),
      xforward: m.xforward,
      content: () => [data],
    })
    await client.close()
    opts.onResult?.(m.kind, replies)
    out.push({ kind: m.kind, replies })
    if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs))
  }
  return out
}

/** Entry used by `vigil demo [--count N] [--host H] [--port P] [--delay-ms MS]`: sends to the filter's first TCP listener. */
export async function demo(req: {
  filter: Readonly<Record<string, unknown>>
  options: Readonly<Record<string, string | true>>
  stdout: (text: string) => void
  stderr: (text: string) => void
}): Promise<number> {
  const listen = (req.filter.listen as unknown[] | undefined) ?? ['127.0.0.1:10024']
  const tcp =
    listen
      .map((l) => (typeof l === 'string' ? l : (l as { address: string }).address))
      .find((a) => !a.startsWith('unix:')) ?? '127.0.0.1:10024'
  const target = parseSocketTarget(tcp)
  const opt = (k: string) => (typeof req.options[k] === 'string' ? (req.options[k] as string) : undefined)
  const host = opt('host') ?? ('host' in target ? target.host : '127.0.0.1')
  const port = Number(opt('port') ?? ('port' in target ? target.port : 10024))
  const count = opt('count') ? Number(opt('count')) : undefined
  if (count !== undefined && !(count > 0)) {
    req.stderr('vigil demo: --count must be a positive number\n')
    return 2
  }
  let failed = 0
  await runDemo({
    host,
    port,
    count,
    delayMs: opt('delay-ms') ? Number(opt('delay-ms')) : 0,
    onResult: (kind, replies) => {
      if (replies.some((r) => r.code >= 400 && r.code < 500)) failed++
      req.stdout(`${kind.padEnd(22)} ${replies.map((r) => r.text).join(' | ')}\n`)
    },
  })
  return failed ? 1 : 0
}
