import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { answerRequest } from '../../src/counters/responder-reply.ts'
import { createTotals } from '../../src/counters/totals.ts'

const req = (...parts: (string | Buffer)[]) => parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p))
const golden = (name: string) => JSON.parse(readFileSync(new URL(`../golden/${name}`, import.meta.url), 'utf8'))

function loaded() {
  const t = createTotals({ localHost: 'mx', startSecs: 1700000000 })
  const frames = [
    'FLUSH',
    'sysDescr STR amavis-2.13.0 (20230106)',
    'sysObjectID OID 1.3.6.1.4.1.15312.2',
    'sysUpTime INT 1700000123',
    'sysContact STR ',
    'sysName STR mx1.example.net',
    'sysLocation STR ',
    'sysServices INT 64',
    'InMsgs C32 1',
    'InMsgsSize C64 2345',
    'ContentCleanMsgs C32 1',
    'TimeElapsedTotal C32 1954',
    'InMsgs C32 1',
    'InMsgsSize C64 1000',
    'virus.byname.Eicar-Signature C32 1',
    'Mystery ? ?',
  ]
  for (const f of frames) {
    const [name, type, ...v] = f.split(' ')
    t.apply('mx', name, type as never, v.join(' ') || (type === undefined ? undefined : ''))
  }
  for (const f of ['ProcBusy0 G32 1', 'ProcGone C32 2', 'ProcAll G32 3', 'ProcBusy G32 1', 'ProcIdle G32 2']) {
    const [name, type, v] = f.split(' ')
    t.apply('mx', name, type as never, v)
  }
  return t
}

describe('responder replies', () => {
  it('answers am.snmp? with every non-Proc variable, totals summed, undefined as "? ?" (golden)', () => {
    const r = answerRequest(req('am.snmp?'), loaded().aggregate())
    assert.equal(r.malformed, false)
    assert.deepEqual(r.frames, golden('reply-snmp.json'))
  })

  it('answers am.nanny? with the Proc variables only (golden)', () => {
    assert.deepEqual(answerRequest(req('am.nanny?'), loaded().aggregate()).frames, golden('reply-nanny.json'))
  })

  it('answers am.nanny? before any Proc value with one am.error no-data frame', () => {
    const r = answerRequest(req('am.nanny?'), createTotals({ localHost: 'mx', startSecs: 1 }).aggregate())
    assert.deepEqual(r, { frames: ['am.error no-data am.nanny'], malformed: false })
  })

  const bad: [string, Buffer[]][] = [
    ['an unknown request', req('am.stats?')],
    ['a request with a trailing space', req('am.snmp? ')],
    ['an empty frame', req('')],
    ['two frames', req('am.snmp?', 'am.nanny?')],
    ['non-UTF-8 bytes', req(Buffer.from([0xc3, 0x28]))],
  ]
  for (const [what, parts] of bad)
    it(`answers ${what} with one am.error unknown-request frame`, () => {
      const r = answerRequest(parts, loaded().aggregate())
      assert.equal(r.malformed, true)
      assert.equal(r.frames.length, 1)
      assert.match(r.frames[0], /^am\.error unknown-request \d+-(bytes|parts)$/)
    })
})
