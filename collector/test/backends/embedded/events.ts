// Hand-made amavis JSON events (spec §5.3–5.5 shape) with the fields the shipper adds
// (event_id, client_geo), as IndexDocs ready for bulk(). Deterministic: event n is always the same.
import type { IndexDoc } from '../../../src/backends/backend.ts'

export const BASE_MS = Date.UTC(2024, 0, 1, 10, 0, 0)

const ACTIONS = ['PASS', 'PASS', 'PASS', 'REJECT', 'DISCARD', 'BOUNCE', 'TEMPFAIL'] as const
const COUNTRIES = [
  { code: 'US', name: 'United States', lat: 37.751, lon: -97.822, ip: '198.51.100.' },
  { code: 'DE', name: 'Germany', lat: 51.299, lon: 9.491, ip: '203.0.113.' },
  { code: 'CN', name: 'China', lat: 34.773, lon: 113.722, ip: '2001:db8:1::' },
  { code: 'FR', name: 'France', lat: 48.858, lon: 2.339, ip: '192.0.2.' },
]
const SUBJECTS = [
  'Weekly newsletter: Pink Panther returns',
  'Invoice 2024-001 for alice',
  'Hello "world"',
  'Re: meeting about the roadmap',
  'Köln Karneval 日本語のテキスト',
  'Your newsletters digest',
]

export interface EventOptions {
  /** Milliseconds after BASE_MS (default n × 60 s). */
  readonly offsetMs?: number
  readonly id?: string
}

/** Event n as the shipper stores it. */
export function amavisEvent(n: number, over: Record<string, unknown> = {}, opt: EventOptions = {}): IndexDoc {
  const tsMs = BASE_MS + (opt.offsetMs ?? n * 60000)
  const action = ACTIONS[n % ACTIONS.length]
  const country = COUNTRIES[n % COUNTRIES.length]
  const clientIp = country.ip.endsWith('::') ? `${country.ip}${(n % 250) + 1}` : `${country.ip}${(n % 250) + 1}`
  const logId = `${String(4000 + (n % 900)).padStart(5, '0')}-${String((n % 99) + 1).padStart(2, '0')}`
  const from = `user${n % 13}@sender${n % 5}.example.com`
  const rcpt = [`bob${n % 7}@example.net`, ...(n % 3 === 0 ? [`carol@example.org`] : [])]
  const subject = SUBJECTS[n % SUBJECTS.length]
  const total = ((n % 40) + 1) * 0.05
  const doc: Record<string, unknown> = {
    '@timestamp': new Date(tsMs).toISOString(),
    action: [action],
    actions_performed: action === 'PASS' ? 'RelayedInbound' : 'Discarded',
    author: [from],
    checks_performed: 'V S H B',
    client_ip: clientIp,
    client_port: 40000 + (n % 1000),
    content_type: action === 'PASS' ? 'Clean' : n % 2 ? 'Spam' : 'Virus',
    digest_body: (n * 2654435761).toString(16).padStart(32, '0').slice(-32),
    dsn_sent: action === 'BOUNCE',
    dst_ip: '127.0.0.1',
    dst_port: 10024,
    elapsed: {
      Amavis: 0.099,
      Receiving: 0.012,
      SpamCheck: Number((total / 2).toFixed(3)),
      Total: Number(total.toFixed(3)),
    },
    host: `mx${n % 2}.example.net`,
    ip_trace: [clientIp],
    log_id: logId,
    mail_from: from,
    mail_id: `Jnk7NzYB${String(n).padStart(4, '0')}`,
    message: `${logId} ${action} ${action === 'PASS' ? 'Clean' : 'Spam'} ${from} -> ${rcpt.join(',')}`,
    message_id: `<${n}.x@sender.example.com>`,
    originating: n % 4 === 0,
    policy_banks: ['MYNETS'],
    protocol: 'ESMTP',
    queue_id: `4Xyz${n.toString(36).padStart(8, '0')}`,
    rcpt_num: rcpt.length,
    rcpt_to: rcpt,
    recipients: rcpt.map((r, i) => ({
      action: i === 0 ? action : 'PASS',
      rcpt_is_local: true,
      rcpt_to: r,
      smtp_code: action === 'PASS' || i > 0 ? '250' : '554',
      smtp_response:
        action === 'PASS' || i > 0 ? '250 2.0.0 Ok: queued as 4Xyz2ABCdez9' : '554 5.7.1 Rejected by policy',
      spam_score: Number(((n % 20) - 5).toFixed(3)),
    })),
    size: 1000 + ((n * 37) % 20000),
    spam_score: Number(((n % 20) - 5).toFixed(3)),
    subject,
    tests: ['BAYES_00', n % 2 ? 'DKIM_SIGNED' : 'SPF_PASS'],
    time_iso_week_date: '2024-W01-1',
    time_unix: tsMs / 1000,
    to_addr: rcpt,
    type: 'amavis',
    event_id: opt.id ?? `ev-${n}`,
    client_geo: {
      ip: clientIp,
      country_code: country.code,
      country_name: country.name,
      asn: 64496 + (n % 4),
      as_org: 'Example Networks Inc',
      location: { lat: country.lat, lon: country.lon },
    },
    ...over,
  }
  const json = JSON.stringify(doc)
  const day = new Date(tsMs).toISOString().slice(0, 10).replaceAll('-', '.')
  return { id: String(doc.event_id), tsMs, index: `amavis-${day}`, doc, json }
}
