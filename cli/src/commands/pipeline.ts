// `vigil pipeline`: asks the running collector (GET /api/pipeline) where every event is, prints
// the figures and whether they balance (indexed = produced − dead-lettered − queued − in flight −
// trimmed). Exit 0 when balanced, 1 when not, 69 when the collector cannot be reached.
import { EXIT } from '../exit-codes.ts'
import type { LoadedConfig } from '../config/load.ts'
import type { CliIo } from '../io.ts'

function collectorUrl(loaded: LoadedConfig, override?: string): string | undefined {
  if (override) return override.replace(/\/$/, '')
  const section = (loaded.config as Record<string, unknown>).collector as { http_listen?: string } | undefined
  const listen = section?.http_listen ?? '127.0.0.1:23234'
  if (!listen) return undefined
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(listen)
  if (!m) return undefined
  const host = m[1] === '0.0.0.0' ? '127.0.0.1' : m[1] === '[::]' ? '[::1]' : m[1]
  return `http://${host}:${m[2]}`
}

type Account = Record<string, unknown> & {
  balanced?: boolean
  verdict?: string
  backend?: Record<string, unknown>
  trimmed?: { value: number; estimated: boolean; note: string }
}

export function formatAccount(a: Account): string {
  const b = a.backend ?? {}
  const rows: [string, unknown][] = [
    ['topology', a.topology],
    [
      'backend',
      `${b.kind} ${b.up ? 'up' : 'DOWN'}${b.detail ? ` (${b.detail})` : ''}${b.docs !== undefined ? `, ${b.docs} docs` : ''}`,
    ],
    ['produced', a.produced],
    [
      'trimmed',
      a.trimmed ? `${a.trimmed.value}${a.trimmed.estimated ? ' (estimated: ' + a.trimmed.note + ')' : ''}` : 0,
    ],
    ['filter dead-lettered', a.filter_dead_lettered],
    ['queued', a.queued],
    ['in flight', a.in_flight],
    ['indexed', a.indexed],
    ['retried', a.retried],
    ['dead-lettered', a.dead_lettered],
    ['oldest queued', a.oldest_queued_age_secs === null ? '-' : `${a.oldest_queued_age_secs} s`],
  ]
  const byReason = Object.entries((a.dead_lettered_by_reason ?? {}) as Record<string, number>)
  const lines = rows.map(([k, v]) => `${k.padEnd(22)}${String(v)}`)
  for (const [r, n] of byReason) lines.push(`${'  ' + r}`.padEnd(22) + n)
  lines.push('', String(a.verdict ?? ''))
  return lines.join('\n') + '\n'
}

export async function runPipeline(
  loaded: LoadedConfig,
  options: Readonly<Record<string, string | true>>,
  io: CliIo,
): Promise<number> {
  const base = collectorUrl(loaded, typeof options.url === 'string' ? options.url : undefined)
  if (!base) {
    io.stderr('vigil: the collector has no HTTP listener (collector.http_listen is empty); use --url\n')
    return EXIT.UNAVAILABLE
  }
  let account: Account
  try {
    const res = await fetch(`${base}/api/pipeline`, { signal: AbortSignal.timeout(10_000) })
    if (!res.ok) {
      io.stderr(`vigil: ${base}/api/pipeline answered ${res.status}: ${await res.text()}\n`)
      return EXIT.UNAVAILABLE
    }
    account = (await res.json()) as Account
  } catch (err) {
    io.stderr(`vigil: cannot reach the collector at ${base}: ${(err as Error).message}\n`)
    return EXIT.UNAVAILABLE
  }
  io.stdout(options.json === true ? JSON.stringify(account, null, 2) + '\n' : formatAccount(account))
  return account.balanced ? EXIT.OK : 1
}
