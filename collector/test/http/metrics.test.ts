// OpenMetrics text validation: a small parser that enforces the rules of the spec we rely on.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { formatMetrics } from '../../src/http/metrics.ts'
import { createBusStats } from '../../src/bus/stats.ts'
import { createTotals } from '../../src/counters/totals.ts'
import { createStageHistograms } from '../../src/http/stage-histograms.ts'
import { parseOpenMetrics } from './openmetrics-parser.ts'

function input() {
  const totals = createTotals({ localHost: 'mx', startSecs: 1700000000 })
  totals.apply('mx', 'sysUpTime', 'INT', '1700000000')
  totals.apply('mx', 'sysDescr', 'STR', 'amavis-2.13.0 (20230106) "quoted" \\ back')
  totals.apply('mx', 'InMsgs', 'C32', '7')
  totals.apply('mx', 'InMsgsSize', 'C64', '2345')
  totals.apply('mx', 'TimeElapsedTotal', 'C32', '1954')
  totals.apply('mx', 'ContentVirusMsgsInbound', 'C32', '2')
  totals.apply('mx', 'ProcBusy3', 'G32', '4')
  const histograms = createStageHistograms()
  histograms.observeElapsed({ Amavis: 0.099, Decoding: 0.02, SpamCheck: 1.804, Total: 1.954, VirusCheck: 0.051 })
  histograms.observeElapsed({ Total: 75, Receiving: '0.004', Bad: 'x', '': 1 })
  const stats = createBusStats()
  stats.framesIn = 12
  stats.malformed = 3
  stats.smtpProtocolErrors = { bare_lf: 5 }
  return {
    nowSecs: 1700000100.5,
    processStartSecs: 1700000050.25,
    rssBytes: 123456,
    totals: totals.aggregate(),
    processes: [
      { host: 'mx', activity: 'idle', count: 3 },
      { host: 'mx', activity: 'spam', count: 1 },
    ],
    stats,
    histograms,
    sseClients: 0,
    unexpected: { uncaughtExceptions: 0, unhandledRejections: 2 },
  }
}

describe('/metrics', () => {
  const text = formatMetrics(input())
  const fams = parseOpenMetrics(text)
  const sample = (fam: string, name: string, labels: Record<string, string> = {}) =>
    fams.get(fam)?.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
      ?.value

  it('is valid OpenMetrics text ending in # EOF', () => assert.ok(fams.size > 50))

  it('exports catalogue counters with _total and their catalogue labels', () => {
    assert.equal(fams.get('amavis_in_msgs')?.type, 'counter')
    assert.equal(sample('amavis_in_msgs', 'amavis_in_msgs_total'), 7)
    assert.equal(sample('amavis_in_msgs_size_bytes', 'amavis_in_msgs_size_bytes_total'), 2345)
    assert.equal(fams.get('amavis_in_msgs_size_bytes')?.unit, 'bytes')
    assert.equal(
      sample('amavis_content_msgs', 'amavis_content_msgs_total', { category: 'virus', direction: 'inbound' }),
      2,
    )
    assert.equal(sample('amavis_content_msgs', 'amavis_content_msgs_total', { category: 'virus', direction: 'all' }), 0)
  })

  it('scales TimeElapsed milliseconds to seconds', () => {
    assert.equal(
      sample('amavis_time_elapsed_seconds', 'amavis_time_elapsed_seconds_total', { section: 'total' }),
      1.954,
    )
    assert.match(text, /^amavis_time_elapsed_seconds_total\{section="total"\} 1\.954$/m)
  })

  it('exports gauges, sysUpTime as seconds since the amavisd start, and info metrics with escaped values', () => {
    assert.equal(sample('amavis_proc_busy_age', 'amavis_proc_busy_age', { min_age_seconds: '0.5' }), 4)
    assert.equal(sample('amavis_sys_up_time_seconds', 'amavis_sys_up_time_seconds'), 100.5)
    assert.match(text, /^amavis_sys_descr_info\{value="amavis-2\.13\.0 \(20230106\) \\"quoted\\" \\\\ back"\} 1$/m)
    assert.equal(sample('process_start_time_seconds', 'process_start_time_seconds'), 1700000050.25)
    assert.equal(sample('vigil_processes', 'vigil_processes', { activity: 'idle' }), 3)
  })

  it("exports the process's own bugs caught by its crash guard", () => {
    assert.equal(fams.get('vigil_unexpected_errors')?.type, 'counter')
    assert.equal(sample('vigil_unexpected_errors', 'vigil_unexpected_errors_total', { kind: 'unhandled_rejection' }), 2)
    assert.equal(sample('vigil_unexpected_errors', 'vigil_unexpected_errors_total', { kind: 'uncaught_exception' }), 0)
  })

  it('exports bus health counters', () => {
    assert.equal(sample('vigil_bus_frames_received', 'vigil_bus_frames_received_total'), 12)
    assert.equal(sample('vigil_bus_malformed_frames', 'vigil_bus_malformed_frames_total'), 3)
    assert.equal(sample('vigil_bus_dropped_messages', 'vigil_bus_dropped_messages_total', { reason: 'hwm' }), 0)
    assert.equal(sample('vigil_smtp_protocol_errors', 'vigil_smtp_protocol_errors_total', { kind: 'bare_lf' }), 5)
    assert.equal(sample('vigil_smtp_protocol_errors', 'vigil_smtp_protocol_errors_total', { kind: 'timeout' }), 0)
  })

  it('builds cumulative per-stage histograms from the elapsed sections, 5 ms … 60 s', () => {
    const h = fams.get('vigil_stage_duration_seconds')!
    assert.equal(h.type, 'histogram')
    const buckets = h.samples.filter((s) => s.name.endsWith('_bucket') && s.labels.stage === 'total')
    assert.deepEqual(
      buckets.map((s) => s.labels.le),
      ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1.0', '2.5', '5.0', '10.0', '30.0', '60.0', '+Inf'],
    )
    assert.deepEqual(
      buckets.map((s) => s.value),
      [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2],
    )
    assert.equal(sample('vigil_stage_duration_seconds', 'vigil_stage_duration_seconds_count', { stage: 'total' }), 2)
    assert.equal(sample('vigil_stage_duration_seconds', 'vigil_stage_duration_seconds_sum', { stage: 'total' }), 76.954)
    assert.equal(
      sample('vigil_stage_duration_seconds', 'vigil_stage_duration_seconds_count', { stage: 'virus_check' }),
      1,
    )
    assert.equal(
      sample('vigil_stage_duration_seconds', 'vigil_stage_duration_seconds_count', { stage: 'receiving' }),
      1,
    )
    assert.ok(!h.samples.some((s) => s.labels.stage === 'bad'))
  })

  it('the validator rejects broken text (it can fail)', () => {
    assert.throws(() => parseOpenMetrics('# TYPE x counter\nx 1\n# EOF\n'))
    assert.throws(() => parseOpenMetrics('# TYPE x_seconds gauge\n# UNIT x_seconds bytes\nx_seconds 1\n# EOF\n'))
    assert.throws(() => parseOpenMetrics('# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\n# TYPE a gauge\n# EOF\n'))
    assert.throws(() => parseOpenMetrics('# TYPE a gauge\na 1\n'))
  })
})
