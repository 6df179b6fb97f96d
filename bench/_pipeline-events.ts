// Synthetic amavis events for the log-pipeline bench (bench/log-pipeline.ts): the per-message JSON
// amavisd-new RPUSHes to Redis (spec §5.3–5.4, serialised with Amavis::JSON's rules by
// encodeAmavisJson), 1–1.5 KB each, from a seeded PRNG so that every run, backend and round gets
// byte-identical items. The mix is a mail relay's: mostly clean inbound mail, some spam, a little
// of every other category; client IPs from public IPv4 blocks of every region (so GeoIP gives many
// countries), some IPv6, some private; subjects with a few recurring words (`newsletter`, invoices)
// and non-ASCII; sizes log-normal around 20 KB (a sizeable share ≥ 9000 bytes). Every item is
// distinct (mail_id carries the index), so the shipper's ids never merge two of them.
import { encodeAmavisJson, eventMessage, formatEventTimestamp, isoWeekDate, num3, rot13 } from '@vigil/protocol'

/** mulberry32: small, fast, good enough to vary test data; the same seed gives the same stream. */
export function createRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

type Rand = () => number
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]
/** Picks by weight: [[value, weight], …]. */
function weighted<T>(r: Rand, xs: readonly (readonly [T, number])[]): T {
  const total = xs.reduce((a, [, w]) => a + w, 0)
  let x = r() * total
  for (const [v, w] of xs) if ((x -= w) < 0) return v
  return xs[xs.length - 1][0]
}

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
/** 12 base64url characters: the index in the first 5 (unique up to 2^30 events), then random ones. */
function mailId(r: Rand, index: number): string {
  let s = ''
  for (let i = 0, n = index; i < 5; i++, n = Math.floor(n / 64)) s += B64URL[n % 64]
  for (let i = 0; i < 7; i++) s += B64URL[Math.floor(r() * 64)]
  return s
}
function hex(r: Rand, n: number): string {
  let s = ''
  while (s.length < n)
    s += Math.floor(r() * 0x100000000)
      .toString(16)
      .padStart(8, '0')
  return s.slice(0, n)
}
const queueId = (r: Rand) => '4' + Array.from({ length: 11 }, () => B64URL[Math.floor(r() * 62)]).join('') // Postfix long ids

// First octets of public IPv4 space, spread over the regions (ARIN, RIPE, APNIC, LACNIC, AFRINIC).
const V4_FIRST = [3, 8, 12, 23, 24, 31, 37, 41, 45, 46, 49, 58, 62, 77, 78, 80, 81, 82, 85, 88, 91, 94, 101, 103]
  .concat([109, 110, 112, 113, 116, 118, 121, 123, 141, 151, 154, 175, 176, 177, 178, 179, 181, 185, 186, 187])
  .concat([188, 189, 190, 193, 194, 195, 196, 197, 200, 201, 202, 203, 210, 211, 212, 213, 217, 218, 220, 222])
const V6_PREFIXES = [
  '2a00:1450:4001',
  '2a01:4f8:c17',
  '2001:67c:2e8',
  '2600:1f18:24e6',
  '2400:cb00:2048',
  '2c0f:fb50:4003',
  '2804:14d:1a87',
]

function clientIp(r: Rand): string {
  const kind = weighted(r, [
    ['v4', 84],
    ['v6', 8],
    ['private', 6],
    ['mapped', 2],
  ] as const)
  const o = () => Math.floor(r() * 254) + 1
  if (kind === 'v6') return `${pick(r, V6_PREFIXES)}::${hex(r, 4).replace(/^0+/, '') || '1'}`
  if (kind === 'private') return pick(r, [`10.${o()}.${o()}.${o()}`, `192.168.${o()}.${o()}`, `172.16.${o()}.${o()}`])
  const v4 = `${pick(r, V4_FIRST)}.${o()}.${o()}.${o()}`
  return kind === 'mapped' ? `::ffff:${v4}` : v4
}

const USERS = [
  'alice',
  'bob',
  'carol',
  'dave',
  'erin',
  'frank',
  'grace',
  'heidi',
  'ivan',
  'judy',
  'mallory',
  'oscar',
].concat(['peggy', 'sybil', 'trent', 'victor', 'walter', 'info', 'sales', 'support', 'noreply', 'billing', 'hr'])
const OUR_DOMAINS = ['example.net', 'mail.example.net', 'corp.example.net', 'example.org']
const THEIR_DOMAINS = [
  'gmail.com',
  'outlook.com',
  'yahoo.co.jp',
  'web.de',
  'orange.fr',
  'mail.ru',
  'qq.com',
  'uol.com.br',
].concat([
  'shop.example.com',
  'news.example.com',
  'bank.example.com',
  'partner.example.de',
  'bücher.example',
  'müller.example',
])
const SUBJECTS = [
  'Your weekly newsletter #{n}',
  'Newsletter: {w} offers inside',
  'newsletter-{n} — spring edition',
  'Invoice {n} for order {n2}',
  'Re: meeting on {d}',
  'RE: FW: {w} report Q{q}',
  'Your account statement is ready',
  'Delivery Status Notification (Failure)',
  'Important: verify your account now',
  'Rechnung Nr. {n} – Zahlungserinnerung',
  'Réunion de {w} à 14h',
  'Заказ №{n} подтверждён',
  '会議の議事録 ({d})',
  'Hello "world" from {w}',
  'URGENT!!! You have won ${n}',
  'Cheap meds {w} best price',
  'Project {w}: status update',
  'Password reset request',
  'Your parcel {n2} is on its way',
  'Welcome to {w}!',
]
const WORDS = ['Kitty', 'Apollo', 'Orion', 'budget', 'holiday', 'security', 'marketing', 'Zürich', 'déjà vu', 'sales']
const TESTS_HAM = ['BAYES_00', 'DKIM_VALID', 'DKIM_VALID_AU', 'RCVD_IN_DNSWL_NONE', 'SPF_PASS', 'RCVD_IN_MSPIKE_H2']
const TESTS_SPAM = [
  'BAYES_99',
  'URIBL_BLOCKED',
  'HTML_MESSAGE',
  'RDNS_NONE',
  'FREEMAIL_FROM',
  'MIME_HTML_ONLY',
  'PYZOR_CHECK',
]
const VIRUSES = ['Eicar-Signature', 'Win.Trojan.Agent-123', 'Doc.Dropper.Agent-6332', 'Html.Phishing.Bank-1']
const USER_AGENTS = [
  'Mozilla Thunderbird 115.6',
  'Microsoft Outlook 16.0',
  'Apple Mail (2.3731)',
  'Roundcube Webmail/1.6.5',
]

function subject(r: Rand): string {
  const n = String(Math.floor(r() * 90000) + 1000)
  return pick(r, SUBJECTS)
    .replace('{n}', n)
    .replace('{n2}', String(Math.floor(r() * 1e8)))
    .replace('{w}', pick(r, WORDS))
    .replace('{d}', `2024-0${Math.floor(r() * 9) + 1}-1${Math.floor(r() * 9)}`)
    .replace('{q}', String(Math.floor(r() * 4) + 1))
}

const addr = (r: Rand, domains: readonly string[]) => `${pick(r, USERS)}${Math.floor(r() * 50)}@${pick(r, domains)}`

interface Outcome {
  contentType: string
  action: string
  code: string
  spam: number
  quarantine: boolean
}

function outcome(r: Rand): Outcome {
  const ct = weighted(r, [
    ['Clean', 62],
    ['CleanTag', 6],
    ['Spammy', 8],
    ['Spam', 12],
    ['Virus', 1.5],
    ['Banned', 1],
    ['BadHdrMime', 3],
    ['UncheckedEncrypted', 1],
    ['Oversized', 0.5],
    ['MtaTempFailed', 1],
  ] as const)
  const spam = ct === 'Spam' ? 8 + r() * 30 : ct === 'Spammy' ? 5 + r() * 3 : -2 + r() * 6
  if (ct === 'MtaTempFailed') return { contentType: ct, action: 'TEMPFAIL', code: '451', spam, quarantine: false }
  if (ct === 'Virus' || ct === 'Banned')
    return {
      contentType: ct,
      action: weighted(r, [
        ['DISCARD', 6],
        ['BOUNCE', 2],
        ['REJECT', 2],
      ] as const),
      code: '554',
      spam,
      quarantine: true,
    }
  if (ct === 'Spam')
    return {
      contentType: ct,
      action: weighted(r, [
        ['DISCARD', 5],
        ['REJECT', 4],
        ['PASS', 1],
      ] as const),
      code: '554',
      spam,
      quarantine: true,
    }
  return { contentType: ct, action: 'PASS', code: '250', spam, quarantine: false }
}

/** Log-normal message size: median ~5 KB, a long tail to MBs (≈30 % ≥ 9000 bytes). */
function messageSize(r: Rand): number {
  const g = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r())
  return Math.max(600, Math.round(Math.exp(8.5 + 1.2 * g)))
}

/** One event as amavis builds it, at `tsMs`; `index` makes it unique. */
export function amavisEvent(r: Rand, index: number, tsMs: number, host: string): Record<string, unknown> {
  const pid = 1000 + Math.floor(r() * 60000)
  const logId = `${String(pid).padStart(5, '0')}-${String(Math.floor(r() * 99) + 1).padStart(2, '0')}`
  const out = outcome(r)
  const inbound = r() < 0.8
  const from = r() < 0.03 ? '' : addr(r, inbound ? THEIR_DOMAINS : OUR_DOMAINS)
  const nRcpt = weighted(r, [
    [1, 80],
    [2, 12],
    [3, 5],
    [5, 3],
  ] as const)
  const rcpts = Array.from({ length: nRcpt }, () => addr(r, inbound ? OUR_DOMAINS : THEIR_DOMAINS))
  const qid = queueId(r)
  const queuedAs = out.action === 'PASS' ? queueId(r) : undefined
  const ip = clientIp(r)
  const subj = subject(r)
  const secs = tsMs / 1000
  const ms = (a: number, b: number) => a + r() * (b - a)
  const el = { Receiving: ms(0.002, 0.05), Decoding: ms(0.005, 0.08), VirusCheck: ms(0.01, 0.3), SpamCheck: ms(0.3, 4) }
  const sending = out.action === 'PASS' ? ms(0.01, 0.2) : 0
  const total = el.Receiving + el.Decoding + el.VirusCheck + el.SpamCheck + sending + ms(0.01, 0.1)
  const tests = [
    ...new Set([
      pick(r, TESTS_HAM),
      pick(r, TESTS_HAM),
      pick(r, TESTS_SPAM),
      ...(out.spam > 5 ? [pick(r, TESTS_SPAM)] : []),
    ]),
  ]
  const response =
    out.action === 'PASS'
      ? `250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as ${queuedAs}`
      : out.action === 'TEMPFAIL'
        ? '451 4.5.0 Error in processing, id=' + logId
        : out.action === 'DISCARD'
          ? '250 2.7.0 Ok, discarded, id=' + logId + ' - ' + out.contentType.toUpperCase()
          : `554 5.7.0 Reject, id=${logId} - ${out.contentType.toUpperCase()}`
  const code = out.action === 'DISCARD' ? '250' : out.code
  const recipients = rcpts.map((rc) => ({
    action: out.action,
    ccat_main: out.contentType,
    ...(out.action !== 'PASS' ? { ccat_blocking: out.contentType } : {}),
    ...(queuedAs ? { queued_as: queuedAs } : {}),
    rcpt_is_local: inbound,
    rcpt_to: rc,
    smtp_code: code,
    smtp_response: response,
    spam_score: num3(out.spam),
  }))
  const ev: Record<string, unknown> = {
    '@timestamp': formatEventTimestamp(secs),
    action: [out.action],
    actions_performed: `${out.action === 'PASS' ? 'Relayed' : out.action === 'TEMPFAIL' ? 'TempFailed' : out.action === 'DISCARD' ? 'Discarded' : out.action === 'BOUNCE' ? 'Bounced' : 'Rejected'}${inbound ? 'Inbound' : 'Outbound'}${out.quarantine ? ' Quarantined' : ''}`,
    author: [from || `MAILER-DAEMON@${pick(r, THEIR_DOMAINS)}`],
    checks_performed: 'V S H B',
    client_ip: ip,
    client_port: 1024 + Math.floor(r() * 64000),
    content_type: out.contentType,
    digest_body: hex(r, 32),
    dsn_sent: out.action === 'BOUNCE',
    dst_ip: '127.0.0.1',
    dst_port: 10024,
    elapsed: {
      Amavis: num3(total - el.SpamCheck - el.VirusCheck),
      Decoding: num3(el.Decoding),
      Receiving: num3(el.Receiving),
      ...(sending ? { Sending: num3(sending) } : {}),
      SpamCheck: num3(el.SpamCheck),
      Total: num3(total),
      VirusCheck: num3(el.VirusCheck),
    },
    host,
    ip_proto_trace: [`ESMTPS://[${ip.replace(/^::ffff:/, '')}]:${1024 + Math.floor(r() * 64000)}`],
    ip_trace: [ip.replace(/^::ffff:/, '')],
    log_id: logId,
    mail_from: from,
    mail_id: mailId(r, index),
    message: eventMessage(logId, [out.action], out.contentType, from, rcpts),
    message_id: `<${hex(r, 10)}.${Math.floor(r() * 1e6)}@${from.split('@')[1] ?? 'localhost'}>`,
    originating: !inbound,
    policy_banks: inbound ? ['INBOUND'] : ['MYNETS', 'ORIGINATING'],
    protocol: 'ESMTP',
    queue_id: qid,
    ...(queuedAs ? { queued_as: [queuedAs] } : {}),
    ...(out.quarantine ? { quarantine: `${out.contentType.toLowerCase()}-${mailId(r, index)}`, quar_type: 'Q' } : {}),
    rcpt_num: rcpts.length,
    rcpt_to: rcpts,
    recipients,
    size: messageSize(r),
    smtp_code: [code],
    spam_score: num3(out.spam),
    src_ip: '127.0.0.1',
    subject: subj,
    subject_rot13: rot13(subj),
    tests: tests.slice().sort(),
    tests_ham: tests.filter((t) => TESTS_HAM.includes(t)),
    tests_spam: tests.filter((t) => TESTS_SPAM.includes(t)),
    time_iso_week_date: isoWeekDate(secs),
    time_unix: num3(secs),
    to_addr: rcpts.slice(0, 2),
    type: 'amavis',
    ...(r() < 0.6 ? { user_agent: pick(r, USER_AGENTS) } : {}),
    ...(out.contentType === 'Virus' ? { virusnames: [pick(r, VIRUSES)] } : {}),
    ...(r() < 0.15 ? { is_mlist: true as const, is_bulk: true as const } : {}),
  }
  return ev
}

export interface GenerateOptions {
  count: number
  seed?: number
  /** Events are spread evenly (with jitter) over [startMs, endMs). */
  startMs: number
  endMs: number
  host?: string
}

/** The same items as generateEvents, `chunk` at a time (1 M events need not sit in memory at once). */
export function* generateEventChunks(o: GenerateOptions, chunk: number): Generator<string[]> {
  const r = createRandom(o.seed ?? 10)
  const step = (o.endMs - o.startMs) / o.count
  const host = o.host ?? 'mx1.example.net'
  for (let from = 0; from < o.count; from += chunk) {
    const n = Math.min(chunk, o.count - from)
    const out = new Array<string>(n)
    for (let k = 0; k < n; k++) {
      const i = from + k
      out[k] = encodeAmavisJson(amavisEvent(r, i, o.startMs + (i + r()) * step, host))
    }
    yield out
  }
}

/** `count` raw items (amavis JSON strings) in time order. */
export function generateEvents(o: GenerateOptions): string[] {
  return [...generateEventChunks(o, o.count)].flat()
}
