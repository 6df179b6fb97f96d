// amavis-status's cost per received frame. The live view folds frames into a store it owns
// (in place). The baseline, measured in the same run on the same frames, is the pure
// `applyMessage`, which copies the process table for every message. Both include parseFrame. A
// parse-only pass is printed as the floor. Bounded: 3 rounds of 100 000 frames per case.
//   node --import tsx bench/status-reduce.ts [--frames 100000]
import { parseArgs } from 'node:util'
import { parseFrame } from '@vigil/protocol'
import { applyMessage, createStatusStore, initialState } from '../status-cli/src/state.ts'

const { values } = parseArgs({ options: { frames: { type: 'string' } } })
const N = Math.min(1_000_000, Math.max(10_000, Number(values.frames ?? 100_000)))
const T = 1_700_000_000

function framesFor(procs: number): string[] {
  const out: string[] = []
  for (let i = 0; i < N; i++) {
    const pid = 1000 + (i % procs)
    out.push(
      i % 12 === 0 ? `am.st ${pid} ${(T + i / 1000).toFixed(3)} m ${pid}-01` : `am.st ${pid} ${i % 5000} S ${pid}-01`,
    )
  }
  return out
}

function rate(run: () => void): number {
  let best = Infinity
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now()
    run()
    best = Math.min(best, performance.now() - t0)
  }
  return (N / best) * 1000
}

const fmt = (x: number) => `${Math.round(x).toLocaleString('en')} frames/s`
for (const procs of [10, 100, 500]) {
  const frames = framesFor(procs)
  const parse = rate(() => {
    for (const f of frames) parseFrame(f)
  })
  const pure = rate(() => {
    let s = initialState()
    for (let i = 0; i < N; i++) s = applyMessage(s, [frames[i]], T + i / 1000).state
  })
  const store = rate(() => {
    const st = createStatusStore()
    for (let i = 0; i < N; i++) st.apply([frames[i]], T + i / 1000)
  })
  console.log(
    `${String(procs).padStart(4)} processes: parse only ${fmt(parse)}; pure applyMessage ${fmt(pure)}; ` +
      `store ${fmt(store)} = ${(store / pure).toFixed(1)}x the pure baseline`,
  )
}
