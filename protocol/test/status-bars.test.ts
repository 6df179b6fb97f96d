// The rate window shared by amavis-status (Map samples) and the Live page (record samples): one
// rule, so both shapes must give the same rates for the same counters.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  LIVE_CATEGORIES,
  pushCounterSample,
  RATE_WINDOW_SECS,
  windowRates,
  type CounterSampleShape,
} from '../src/status-bars.ts'

type MapSample = { atSecs: number; values: Map<string, number> }
type RecSample = { t: number; values: Record<string, number> }
const MAP: CounterSampleShape<MapSample> = {
  atSecs: (s) => s.atSecs,
  value: (s, n) => s.values.get(n),
  names: (s) => s.values.keys(),
}
const REC: CounterSampleShape<RecSample> = {
  atSecs: (s) => s.t,
  value: (s, n) => s.values[n],
  names: (s) => Object.keys(s.values),
}

/** Runs the same samples through both shapes; returns the window's rates (asserting they agree). */
function run(samples: Array<[secs: number, values: Record<string, number>]>, windowSecs = RATE_WINDOW_SECS) {
  let m: MapSample[] = []
  let r: RecSample[] = []
  for (const [secs, values] of samples) {
    m = pushCounterSample(m, { atSecs: secs, values: new Map(Object.entries(values)) }, MAP, windowSecs)
    r = pushCounterSample(r, { t: secs, values }, REC, windowSecs)
  }
  const a = windowRates(m, MAP)
  const b = windowRates(r, REC)
  assert.deepEqual(a.byCategory, b.byCategory)
  assert.equal(a.windowSecs, b.windowSecs)
  assert.equal(a.perMin('InMsgs'), b.perMin('InMsgs'))
  return { rates: a, kept: m.map((s) => s.atSecs) }
}

describe('the live rate window (pushCounterSample, windowRates)', () => {
  const cases: Array<{
    name: string
    samples: Array<[number, Record<string, number>]>
    kept: number[]
    windowSecs: number
    inPerMin: number | undefined
    clean: number | undefined
  }> = [
    {
      name: 'has no rate from one sample',
      samples: [[0, { InMsgs: 5 }]],
      kept: [0],
      windowSecs: 0,
      inPerMin: undefined,
      clean: undefined,
    },
    {
      name: 'gives messages per minute between the oldest and the newest sample',
      samples: [
        [0, { InMsgs: 10, ContentCleanMsgs: 10 }],
        [30, { InMsgs: 40, ContentCleanMsgs: 25 }],
      ],
      kept: [0, 30],
      windowSecs: 30,
      inPerMin: 60,
      clean: 30,
    },
    {
      name: 'drops samples older than the window',
      samples: [
        [0, { InMsgs: 0 }],
        [50, { InMsgs: 50 }],
        [100, { InMsgs: 100 }],
      ],
      kept: [50, 100],
      windowSecs: 50,
      inPerMin: 60,
      clean: 0,
    },
    {
      name: 'starts a new window when a counter goes down (totals lost): never a negative rate',
      samples: [
        [0, { InMsgs: 100, ContentCleanMsgs: 90 }],
        [10, { InMsgs: 110, ContentCleanMsgs: 95 }],
        [20, { InMsgs: 3, ContentCleanMsgs: 2 }],
      ],
      kept: [20],
      windowSecs: 0,
      inPerMin: undefined,
      clean: undefined,
    },
    {
      name: 'starts a new window when a counter vanishes (amavis FLUSH)',
      samples: [
        [0, { InMsgs: 4, ContentSpamMsgs: 2 }],
        [10, { InMsgs: 5 }],
      ],
      kept: [10],
      windowSecs: 0,
      inPerMin: undefined,
      clean: undefined,
    },
    {
      name: 'ignores a sample that is not newer than the last',
      samples: [
        [10, { InMsgs: 1 }],
        [10, { InMsgs: 7 }],
        [5, { InMsgs: 9 }],
      ],
      kept: [10],
      windowSecs: 0,
      inPerMin: undefined,
      clean: undefined,
    },
    {
      name: 'counts a counter that appears inside the window from 0',
      samples: [
        [0, { InMsgs: 1 }],
        [60, { InMsgs: 2, ContentCleanMsgs: 6 }],
      ],
      kept: [0, 60],
      windowSecs: 60,
      inPerMin: 1,
      clean: 6,
    },
  ]
  for (const c of cases)
    it(c.name, () => {
      const { rates, kept } = run(c.samples)
      assert.deepEqual(kept, c.kept)
      assert.equal(rates.windowSecs, c.windowSecs)
      assert.equal(rates.perMin('InMsgs'), c.inPerMin)
      assert.equal(rates.byCategory.find((x) => x.cat === 'Clean')!.perMin, c.clean)
    })

  it('lists every live category in display order with its newest total', () => {
    const { rates } = run([
      [0, { ContentVirusMsgs: 1 }],
      [6, { ContentVirusMsgs: 2 }],
    ])
    assert.deepEqual(
      rates.byCategory.map((x) => x.cat),
      [...LIVE_CATEGORIES],
    )
    assert.deepEqual(
      rates.byCategory.find((x) => x.cat === 'Virus'),
      { cat: 'Virus', perMin: 10, total: 2 },
    )
    assert.equal(rates.total('ContentSpamMsgs'), undefined)
  })
})
