// GET /api/stages: per-stage latency from the stage histograms (count, mean, interpolated
// percentiles), for the dashboard's Live page and amavis-status; and the quantile arithmetic.
import { describe, it, test } from 'node:test'
import assert from 'node:assert/strict'
import { encodeAmavisJson, num3 } from '@vigil/protocol'
import { createStageHistograms, STAGE_BUCKETS_SECS } from '../../src/http/stage-histograms.ts'
import { bucketQuantile, stageLatencyJson } from '../../src/http/stage-latency.ts'
import { collectorInTmp, eventsPusher, waitFor } from '../helpers.ts'
import { parseOpenMetrics } from './openmetrics-parser.ts'

describe('bucketQuantile', () => {
  const empty = () => new Array(STAGE_BUCKETS_SECS.length + 1).fill(0)
  it('is null without observations', () => {
    assert.equal(bucketQuantile(empty(), 0.5), null)
  })
  it('interpolates inside the bucket that holds the rank', () => {
    const c = empty()
    c[4] = 4 // (0.05, 0.1]
    assert.ok(Math.abs(bucketQuantile(c, 0.5)! - 0.075) < 1e-12)
    assert.equal(bucketQuantile(c, 1), 0.1)
    c[0] = 4 // [0, 0.005]
    assert.equal(bucketQuantile(c, 0.25), 0.0025)
    assert.ok(Math.abs(bucketQuantile(c, 0.75)! - 0.075) < 1e-12)
  })
  it('answers the last bound for ranks in the +Inf bucket', () => {
    const c = empty()
    c[c.length - 1] = 2
    assert.equal(bucketQuantile(c, 0.99), 60)
  })
})

describe('stageLatencyJson', () => {
  it('summarises every stage, sorted by label', () => {
    const h = createStageHistograms()
    h.observeElapsed({ SpamCheck: 0.08, Total: 0.2 })
    h.observeElapsed({ SpamCheck: '0.120', Total: 0.3, bogus: 'x' })
    const j = stageLatencyJson(h.entries(), h.overflow, 1000)
    assert.deepEqual(
      j.stages.map((s) => [s.stage, s.count, s.mean_secs]),
      [
        ['spam_check', 2, 0.1],
        ['total', 2, 0.25],
      ],
    )
    assert.equal(j.buckets_secs.length + 1, j.stages[0].counts.length)
    assert.equal(j.stages[0].p50_secs, 0.1)
    assert.equal(j.time, 1000)
    assert.equal(j.overflow, 0)
  })
})

test('/api/stages agrees with the vigil_stage_duration_seconds histogram of /metrics', async (t) => {
  const { env, c } = await collectorInTmp(t, 'collector-stages')
  const base = c.internals.httpAddress!
  const push = eventsPusher(t, env.common.zmq.events!)
  for (const [i, total] of [0.004, 0.5, 2].entries())
    await push.send(
      encodeAmavisJson({
        '@timestamp': '2024-01-01T10:00:00.123Z',
        type: 'amavis',
        host: 'mx1.example.net',
        log_id: `01234-0${i + 1}`,
        message: 'PASS',
        action: ['PASS'],
        content_type: 'Clean',
        elapsed: { SpamCheck: num3(total / 2), Total: num3(total) },
      } as never),
    )
  await waitFor(() => c.internals.stats.eventsReceived === 3, 'events counted')
  const j = (await (await fetch(`http://${base}/api/stages`)).json()) as ReturnType<typeof stageLatencyJson>
  const total = j.stages.find((s) => s.stage === 'total')!
  assert.equal(total.count, 3)
  assert.equal(total.mean_secs, 0.834667)
  // rank 1.5 of 3: halfway into the bucket (0.25, 0.5] that holds the middle observation
  assert.equal(total.p50_secs, 0.375)
  const fams = parseOpenMetrics(await (await fetch(`http://${base}/metrics`)).text())
  const samples = fams.get('vigil_stage_duration_seconds')!.samples.filter((s) => s.labels.stage === 'total')
  let cumulative = 0
  for (const [i, le] of j.buckets_secs.entries()) {
    cumulative += total.counts[i]
    const sample = samples.find((s) => s.labels.le !== undefined && Number(s.labels.le) === le)
    assert.equal(sample?.value, cumulative, `le=${le}`)
  }
})
