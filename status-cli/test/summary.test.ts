// The full screen's live summary: category rates from counter samples (never negative across a
// restart), the API bodies it reads, n/a where the bus cannot know, inert event text, and the
// layout beside or below the process table.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { parseApiEvents, parseApiPipeline, parseApiStages } from '../src/api-source.ts'
import { computeCounterView } from '../src/counters.ts'
import { formatScreen, SIDE_BY_SIDE_MIN_WIDTH } from '../src/render/format.ts'
import type { RedrawView } from '../src/state.ts'
import { categoryRates, formatSummary, inert, NO_API, pushCounterSample, type SummaryView } from '../src/summary.ts'

const snap = (atSecs: number, v: Record<string, number>) => ({ atSecs, values: new Map(Object.entries(v)) })

describe('category rates', () => {
  it('messages per minute over the sample window', () => {
    let s = pushCounterSample([], snap(0, { ContentCleanMsgs: 10, ContentSpamMsgs: 1 }))
    assert.equal(categoryRates(s).rows[0].perMin, undefined, 'one sample: no rate yet')
    s = pushCounterSample(s, snap(30, { ContentCleanMsgs: 40, ContentSpamMsgs: 4, ContentVirusMsgs: 1 }))
    const r = categoryRates(s)
    assert.equal(r.windowSecs, 30)
    const by = Object.fromEntries(r.rows.map((x) => [x.cat, x.perMin]))
    assert.equal(by.Clean, 60)
    assert.equal(by.Spam, 6)
    assert.equal(by.Virus, 2)
    assert.equal(by.Banned, 0)
  })

  it('drops samples older than the window and starts over after a counter reset', () => {
    let s = pushCounterSample([], snap(0, { ContentCleanMsgs: 10 }))
    s = pushCounterSample(s, snap(50, { ContentCleanMsgs: 20 }))
    s = pushCounterSample(s, snap(100, { ContentCleanMsgs: 30 }))
    assert.deepEqual(
      s.map((x) => x.atSecs),
      [50, 100],
    )
    s = pushCounterSample(s, snap(110, { ContentCleanMsgs: 2 }))
    assert.equal(s.length, 1, 'the restart begins a new window')
    assert.equal(categoryRates(s).rows[0].perMin, undefined, 'no negative rate across the reset')
  })

  it('counts an absent InMsgs as 0, so a quiet system shows 0.0 msgs/s instead of `-`', () => {
    const v = computeCounterView(snap(0, {}), snap(3, {}))
    assert.equal(v.msgsPerSec, 0)
    assert.equal(v.totalMsgs, 0)
  })
})

describe('API bodies of the summary', () => {
  it('reads /api/stages, /api/pipeline and /api/events', () => {
    assert.deepEqual(
      parseApiStages({ stages: [{ stage: 'total', count: 2, mean_secs: 0.2, p50_secs: 0.1, p95_secs: 0.4 }] }),
      [{ stage: 'total', count: 2, meanSecs: 0.2, p50Secs: 0.1, p95Secs: 0.4 }],
    )
    assert.throws(() => parseApiStages({ error: 'x' }), /stages/)
    const p = parseApiPipeline({
      backend: { kind: 'embedded', up: true },
      queued: 3,
      in_flight: 1,
      oldest_queued_age_secs: null,
      indexed: 10,
      produced: 14,
      dead_lettered: 0,
      balanced: true,
    })
    assert.deepEqual(p, {
      backend: 'embedded',
      up: true,
      queued: 3,
      inFlight: 1,
      oldestQueuedSecs: undefined,
      indexed: 10,
      produced: 14,
      deadLettered: 0,
      balanced: true,
    })
    assert.throws(() => parseApiPipeline({ error: 'no pipeline' }), /pipeline/)
    assert.deepEqual(
      parseApiEvents({
        events: [
          {
            time_unix: '1700000000.250',
            log_id: '00001-01',
            content_type: 'Spam',
            action: ['DISCARD'],
            mail_from: '',
            rcpt_to: ['a@b', 'c@d'],
          },
        ],
      }),
      [{ timeUnix: 1700000000.25, logId: '00001-01', contentType: 'Spam', action: 'DISCARD', from: '', to: 'a@b,c@d' }],
    )
  })
})

const summary: SummaryView = {
  rates: categoryRates([snap(0, { ContentCleanMsgs: 1 }), snap(60, { ContentCleanMsgs: 31 })]),
  stages: {
    source: 'histograms',
    rows: [{ stage: 'spam_check', count: 4, p50Secs: 0.08, p95Secs: 0.3, meanSecs: 0.1 }],
  },
  pipeline: {
    backend: 'embedded',
    up: false,
    queued: 7,
    inFlight: 0,
    oldestQueuedSecs: 12.34,
    indexed: 40,
    produced: 47,
    deadLettered: 2,
    balanced: false,
  },
  messages: [
    { timeUnix: 1700000000, logId: '00010-01', contentType: 'Clean', action: 'PASS', from: '', to: 'x@y\u001b[2J' },
  ],
}

describe('formatSummary', () => {
  it('four titled sections with the numbers', () => {
    const l = formatSummary(summary, 70)
    assert.match(l[0], /^-- msgs\/min by content, last 60s -+$/)
    assert.match(l[1], /Clean 30\.0 Spam 0\.0 Virus 0\.0/)
    assert.match(l[3], /^ {2}spam_check +80ms +300ms +100ms {2}n=4$/)
    assert.equal(l[5], '  embedded DOWN  queued 7  in flight 0  oldest 12.3s')
    assert.equal(l[6], '  indexed 40 / produced 47  dead letters 2  NOT balanced')
    assert.equal(l[8], '  22:13:20 00010-01 Clean PASS <> -> x@y?[2J', 'control characters become ?')
    assert.ok(l.every((x) => x.length <= 70))
  })

  it('says n/a for what the bus alone cannot know', () => {
    const l = formatSummary(
      { ...summary, pipeline: { na: NO_API }, messages: { na: NO_API }, stages: { na: 'n/a (counters: no reply)' } },
      60,
    )
    assert.equal(l.filter((x) => x.includes('n/a (bus only')).length, 2)
    assert.ok(l.includes('  n/a (counters: no reply)'))
  })

  it('inert replaces C0, DEL and C1 controls', () => {
    assert.equal(inert('a\u0007b\u009bc\u007fd'), 'a?b?c?d')
  })
})

describe('formatScreen with the summary', () => {
  const view: RedrawView = {
    nowSecs: 0,
    active: 1,
    idle: 1,
    peak: 1,
    rows: [
      { pid: 10, state: 'S', taskId: '00010-01', ageSecs: 3, inStateSecs: 1, history: 'DVS', idle: false },
      { pid: 30, state: ' ', taskId: undefined, ageSecs: 4, inStateSecs: 4, history: '', idle: true },
    ],
  }
  const base = {
    height: 20,
    source: 'http://127.0.0.1:1',
    paused: false,
    sort: 'pid' as const,
    host: undefined,
    help: false,
    counters: { msgsPerSec: 1, msPerMsg: [], totalMsgs: 3 },
    summary,
  }

  it('beside the rows on a wide terminal, the left part keeps the row style', () => {
    const lines = formatScreen(view, { ...base, width: SIDE_BY_SIDE_MIN_WIDTH + 10 })
    const row = lines.find((l) => /^\s+30 /.test(l.text))!
    assert.equal(row.dim, true)
    assert.ok(row.split! > 60 && row.text.slice(row.split!).startsWith(' | '))
    assert.match(lines[3].text, /ELAPSED-BAR +\| -- msgs\/min by content/)
    assert.ok(lines.some((l) => l.text.includes('| -- last messages')))
    assert.ok(lines.every((l) => l.text.length <= SIDE_BY_SIDE_MIN_WIDTH + 10))
  })

  it('below the rows on a narrow one, rows first', () => {
    const lines = formatScreen(view, { ...base, width: 80 })
    const texts = lines.map((l) => l.text)
    const row = texts.findIndex((t) => /^\s+30 /.test(t))
    const sum = texts.findIndex((t) => t.startsWith('-- msgs/min'))
    assert.ok(row > 0 && sum > row, 'the summary follows the rows')
    assert.equal(lines.length, 20)
    assert.match(texts[19], /^q quit/)
  })

  it('keeps every row visible on a short screen, the summary takes what is left', () => {
    const lines = formatScreen(view, { ...base, width: 80, height: 9 })
    assert.equal(lines.filter((l) => /^\s+(10|30) /.test(l.text)).length, 2)
    assert.equal(lines.length, 9)
  })

  it('help replaces the rows and hides the summary', () => {
    const lines = formatScreen(view, { ...base, width: 160, help: true })
    assert.ok(!lines.some((l) => l.text.includes('msgs/min by content')))
    assert.ok(lines.some((l) => l.text === 'Keys:'))
  })
})
