import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { INITIAL_TUI, onKey } from '../src/tui-state.ts'

describe('full-screen keys', () => {
  it('quits on q and Ctrl-C', () => {
    assert.equal(onKey(INITIAL_TUI, 'q', []).quit, true)
    assert.equal(onKey(INITIAL_TUI, 'C-c', []).quit, true)
  })
  it('toggles pause with p and space', () => {
    const p = onKey(INITIAL_TUI, 'p', []).state
    assert.equal(p.paused, true)
    assert.equal(onKey(p, 'space', []).state.paused, false)
  })
  it('cycles the sort order pid → elapsed → state → pid', () => {
    let s = INITIAL_TUI
    const seen = []
    for (let i = 0; i < 3; i++) {
      s = onKey(s, 's', []).state
      seen.push(s.sort)
    }
    assert.deepEqual(seen, ['elapsed', 'state', 'pid'])
  })
  it('cycles the host filter through the reported hosts and back to all', () => {
    let s = INITIAL_TUI
    const seen = []
    for (let i = 0; i < 3; i++) {
      s = onKey(s, 'f', ['a', 'b']).state
      seen.push(s.host)
    }
    assert.deepEqual(seen, ['a', 'b', undefined])
    assert.equal(onKey(INITIAL_TUI, 'f', []).state.host, undefined)
  })
  it('toggles the help with ?', () => {
    assert.equal(onKey(INITIAL_TUI, '?', []).state.help, true)
  })
})
